package fetch

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Beside a verified file <name> (Plan.CachePath: root/<os>/<alg>-<digest>/<name>) the cache holds:
//
//	.<name>.verified           its verification record (JSON)
//	.<name>.part-*             a download in progress, locked by its writer
//	.<name>.verified.part-*    a record being written, locked likewise
//
// The leading dot keeps them out of the way of anything that lists the directory for the file.

func partPrefix(dest string) string       { return "." + filepath.Base(dest) + ".part-" }
func recordPartPrefix(dest string) string { return "." + filepath.Base(dest) + ".verified.part-" }
func recordPath(dest string) string {
	return filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".verified")
}

// record is what a verified download leaves beside the file. It ties the digest to the file's size
// and modification time, so a file that was replaced or changed after verification (by hand, by a
// half-finished copy, by an older cst-fetch that trusted whatever it found) no longer matches. It
// guards against accidents, not against someone who can write the cache: they can write records too.
type record struct {
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	MtimeNs   int64  `json:"mtimeNs"`
}

func recordFor(want Want, st fs.FileInfo) record {
	return record{Algorithm: want.Algorithm, Digest: want.Digest, Size: st.Size(), MtimeNs: st.ModTime().UnixNano()}
}

// maxRecord bounds what is read as a record; a real one is about 200 bytes.
const maxRecord = 4 << 10

func readRecord(dest string) (record, bool) {
	f, err := os.Open(recordPath(dest))
	if err != nil {
		return record{}, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecord))
	if err != nil {
		return record{}, false
	}
	var r record
	if json.Unmarshal(b, &r) != nil {
		return record{}, false
	}
	return r, true
}

// writeRecord records that dest, as st describes it, hashes to want. The record is written under a
// temporary name and renamed, so a reader sees a whole record or none. Failing to write one is not
// an error of the download: the file is verified and in place, and the next run re-hashes it.
func (c *Client) writeRecord(dest string, want Want, st fs.FileInfo) {
	if err := writeRecordFile(dest, recordFor(want, st)); err != nil {
		c.logf("cache: could not record the verification of %s (%v); the next run re-hashes it", filepath.Base(dest), err)
	}
}

func writeRecordFile(dest string, r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := createPart(filepath.Dir(dest), recordPartPrefix(dest))
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.Remove(f.Name())
			f.Close()
		}
	}()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), recordPath(dest)); err != nil {
		return err
	}
	done = true
	return f.Close()
}

// cached reports whether dest already holds the file want describes. A file with a matching record
// is a hit for the price of a stat and a small read. A file without one (cached before records
// existed, or changed since) is re-hashed, without the network: a match is a hit and gets its record;
// a mismatch is discarded so that the caller downloads the file again.
func (c *Client) cached(dest string, want Want) (Result, bool, error) {
	name := filepath.Base(dest)
	f, err := os.Open(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, false, err
	}
	if !st.Mode().IsRegular() {
		return Result{}, false, fmt.Errorf("cache path %s is not a regular file", dest)
	}
	hit := Result{Path: dest, Digest: want.Digest, Bytes: st.Size(), CacheHit: true}
	if r, ok := readRecord(dest); ok && r == recordFor(want, st) {
		c.logf("cache hit: %s (%d bytes, %s verified)", name, st.Size(), want.Algorithm)
		return hit, true, nil
	}
	c.logf("cache: %s has no matching verification record; re-hashing its %d bytes", name, st.Size())
	h, err := NewHash(want.Algorithm)
	if err != nil {
		return Result{}, false, err
	}
	if _, err := io.Copy(h, f); err != nil {
		return Result{}, false, fmt.Errorf("re-hashing the cached %s: %w", dest, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.Digest {
		c.logf("cache: %s is not the expected file (%s %s, want %s); discarding it and downloading again",
			name, want.Algorithm, got, want.Digest)
		// Remove only the file that was hashed: a concurrent run may have put a verified one in its
		// place meanwhile. Its record may go with the stale one; that costs a re-hash, not a download.
		if cur, err := os.Lstat(dest); err == nil && os.SameFile(cur, st) {
			if err := os.Remove(dest); err != nil {
				return Result{}, false, fmt.Errorf("discarding the cached %s: %w", dest, err)
			}
		}
		os.Remove(recordPath(dest))
		return Result{}, false, nil
	}
	c.writeRecord(dest, want, st)
	c.logf("cache hit: %s (%d bytes, %s verified by re-hashing)", name, st.Size(), want.Algorithm)
	hit.Rehashed = true
	return hit, true, nil
}

// createPart creates a temporary file in dir named prefix+random and takes the lock that tells
// removeStale it is alive. Between the create and the lock, a concurrent removeStale may lock and
// delete the new file; the name then no longer leads to it, and we start over.
func createPart(dir, prefix string) (*os.File, error) {
	var lastErr error
	for try := 0; try < 5; try++ {
		f, err := os.CreateTemp(dir, prefix+"*")
		if errors.Is(err, fs.ErrNotExist) {
			// A failing concurrent download took away the directory it had created and left empty.
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			lastErr = err
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := tryLock(f); errors.Is(err, errLocked) {
			// A cleaner holds it and is about to delete it.
			f.Close()
			lastErr = fmt.Errorf("%s was taken for a stale file while it was being created", f.Name())
			continue
		}
		// Any other lock error means the file system has no flock: write unlocked; removeStale then
		// cannot lock anything here either and removes nothing.
		st, err1 := f.Stat()
		cur, err2 := os.Lstat(f.Name())
		if err1 == nil && err2 == nil && os.SameFile(st, cur) {
			return f, nil
		}
		f.Close()
		lastErr = fmt.Errorf("%s was removed while it was being created", f.Name())
	}
	return nil, lastErr
}

// removeStale deletes the partial files that killed runs left beside dest. A live writer holds an
// exclusive lock on its partial file until the file is renamed or removed, so one whose lock can be
// taken has no writer left.
func (c *Client) removeStale(dest string) {
	dir := filepath.Dir(dest)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, partPrefix(dest)) && !strings.HasPrefix(name, recordPartPrefix(dest)) {
			continue
		}
		removed, err := removeIfUnlocked(filepath.Join(dir, name))
		switch {
		case err != nil:
			c.logf("cache: could not remove the stale %s: %v", name, err)
		case removed:
			c.logf("cache: removed %s, left by an interrupted download", name)
		}
	}
}

func removeIfUnlocked(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // its writer finished or gave up meanwhile
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if tryLock(f) != nil {
		return false, nil // alive, or no locking here to tell
	}
	// The name must still lead to the file that was locked (and not through a symbolic link).
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	cur, err := os.Lstat(path)
	if err != nil || !os.SameFile(st, cur) {
		return false, nil
	}
	// Removed while the lock is held, so a writer that raced to lock it sees the name gone.
	if err := os.Remove(path); err != nil {
		return false, err
	}
	return true, nil
}

// mkdirAll creates dir and its missing parents and returns those it created, deepest first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

// removeEmptyDirs removes dirs, deepest first, while they are empty. The emptiness check is the
// kernel's (rmdir fails on a directory with entries), so a concurrent download's file is never lost.
func removeEmptyDirs(dirs []string) {
	for _, d := range dirs {
		if os.Remove(d) != nil {
			return
		}
	}
}
