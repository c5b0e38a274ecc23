package fetch

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var wantPayload = Want{Algorithm: "sha256", Digest: digestOf(payload)}

// A file at the cache path counts only with a matching verification record; without one it is
// re-hashed (no request), and discarded and fetched again if it is not the expected file.
func TestCachedFile(t *testing.T) {
	corrupt := bytes.Repeat([]byte{'x'}, len(payload))
	tests := []struct {
		name string
		// setup places whatever a previous run left at dest.
		setup        func(t *testing.T, dest string)
		wantRequests int32
		wantHit      bool
		wantRehashed bool
		wantLog      string
	}{
		{
			name:         "verified file with its record",
			setup:        func(t *testing.T, dest string) { place(t, dest, payload, true) },
			wantHit:      true,
			wantLog:      "cache hit: x.iso (114688 bytes, sha256 verified)",
			wantRequests: 0,
		},
		{
			name:         "right file without a record",
			setup:        func(t *testing.T, dest string) { place(t, dest, payload, false) },
			wantHit:      true,
			wantRehashed: true,
			wantLog:      "cache: x.iso has no matching verification record; re-hashing its 114688 bytes",
		},
		{
			name:         "wrong file without a record",
			setup:        func(t *testing.T, dest string) { place(t, dest, corrupt, false) },
			wantRequests: 1,
			wantLog:      "cache: x.iso is not the expected file (sha256 " + digestOf(corrupt) + ", want " + digestOf(payload) + "); discarding it and downloading again",
		},
		{
			name: "file changed after its record was written",
			setup: func(t *testing.T, dest string) {
				place(t, dest, payload, true)
				if err := os.WriteFile(dest, corrupt, 0o644); err != nil {
					t.Fatal(err)
				}
				// Same size; make sure the modification time differs too, whatever the clock's grain.
				later := time.Now().Add(time.Hour)
				if err := os.Chtimes(dest, later, later); err != nil {
					t.Fatal(err)
				}
			},
			wantRequests: 1,
			wantLog:      "discarding it and downloading again",
		},
		{
			name: "record of another digest",
			setup: func(t *testing.T, dest string) {
				place(t, dest, payload, false)
				st, _ := os.Stat(dest)
				if err := writeRecordFile(dest, recordFor(Want{Algorithm: "sha256", Digest: strings.Repeat("0", 64)}, st)); err != nil {
					t.Fatal(err)
				}
			},
			wantHit:      true,
			wantRehashed: true,
			wantLog:      "re-hashing",
		},
		{
			name: "unreadable record",
			setup: func(t *testing.T, dest string) {
				place(t, dest, payload, false)
				if err := os.WriteFile(recordPath(dest), []byte("{not json"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantHit:      true,
			wantRehashed: true,
			wantLog:      "re-hashing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &faultServer{}
			srv := httptest.NewServer(fs)
			defer srv.Close()
			root := t.TempDir()
			dest := Plan{OS: "testbed", Algorithm: "sha256", Digest: digestOf(payload), FileName: "x.iso"}.CachePath(root)
			tt.setup(t, dest)
			logs := &logSink{}
			c := &Client{Backoff: time.Millisecond, Log: logs.logf}
			res, err := c.Download(context.Background(), srv.URL+"/iso", dest, wantPayload)
			if err != nil {
				t.Fatal(err)
			}
			if res.CacheHit != tt.wantHit || res.Rehashed != tt.wantRehashed || res.Bytes != int64(len(payload)) || res.Path != dest {
				t.Errorf("result %+v, want hit %v, rehashed %v", res, tt.wantHit, tt.wantRehashed)
			}
			if n := fs.requests.Load(); n != tt.wantRequests {
				t.Errorf("requests = %d, want %d", n, tt.wantRequests)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
			if b, _ := os.ReadFile(dest); !bytes.Equal(b, payload) {
				t.Error("the cache does not hold the payload")
			}
			// Whatever happened, the file now has a matching record: the next run trusts it unhashed.
			res, err = c.Download(context.Background(), srv.URL+"/iso", dest, wantPayload)
			if err != nil || !res.CacheHit || res.Rehashed {
				t.Errorf("next run: %+v, %v; want a cache hit from the record", res, err)
			}
			if rec, ok := readRecord(dest); !ok || rec.Digest != digestOf(payload) || rec.Size != int64(len(payload)) {
				t.Errorf("record %s: %+v (readable: %v)", recordPath(dest), rec, ok)
			}
			if got := dirNames(t, filepath.Dir(dest)); got != ".x.iso.verified x.iso" {
				t.Errorf("cache directory holds %q", got)
			}
		})
	}
}

// place writes content at dest, with a verification record if record is set.
func place(t *testing.T, dest string, content []byte, record bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if record {
		st, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeRecordFile(dest, recordFor(wantPayload, st)); err != nil {
			t.Fatal(err)
		}
	}
}

// holdLock opens path and locks it as a live writer would, until the test ends.
func holdLock(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := tryLock(f); err != nil {
		t.Skip("no advisory locks here:", err)
	}
}

// A killed run's partial files go; a live run's, other files' and whatever a symbolic link points to
// stay.
func TestStalePartialFiles(t *testing.T) {
	var fs faultServer
	srv := httptest.NewServer(&fs)
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "testbed", "sha256-x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "precious")
	for name, target := range map[string]string{
		".x.iso.part-111":          "", // stale download
		".x.iso.verified.part-222": "", // stale record
		".x.iso.part-333":          "", // live: locked below
		".other.iso.part-444":      "", // another file's
		"notes.txt":                "",
		".x.iso.part-555":          outside, // a symbolic link out of the cache
	} {
		p := filepath.Join(dir, name)
		if target != "" {
			if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	holdLock(t, filepath.Join(dir, ".x.iso.part-333"))
	logs := &logSink{}
	c := &Client{Backoff: time.Millisecond, Log: logs.logf}
	if _, err := c.Download(context.Background(), srv.URL+"/iso", filepath.Join(dir, "x.iso"), wantPayload); err != nil {
		t.Fatal(err)
	}
	if got, want := dirNames(t, dir), ".other.iso.part-444 .x.iso.part-333 .x.iso.part-555 .x.iso.verified notes.txt x.iso"; got != want {
		t.Errorf("directory holds\n  %s\nwant\n  %s", got, want)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the symbolic link's target went: %v", err)
	}
	for _, name := range []string{".x.iso.part-111", ".x.iso.verified.part-222"} {
		if !strings.Contains(logs.String(), "cache: removed "+name+", left by an interrupted download") {
			t.Errorf("removal of %s not logged:\n%s", name, logs)
		}
	}
}

// Two runs fetching the same file at once: the second one's clean-up must not take the first one's
// partial file, which is alive and locked.
func TestConcurrentDownloadKeepsLivePartialFile(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sendPrefix(w, len(payload)/2)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Second):
		}
		_, _ = w.Write(payload[len(payload)/2:])
	}))
	defer slow.Close()
	var fs faultServer
	fast := httptest.NewServer(&fs)
	defer fast.Close()

	dest := Plan{OS: "testbed", Algorithm: "sha256", Digest: digestOf(payload), FileName: "x.iso"}.CachePath(t.TempDir())
	first := make(chan error, 1)
	go func() {
		c := &Client{Attempts: 1, StallTimeout: 10 * time.Second}
		_, err := c.Download(context.Background(), slow.URL+"/iso", dest, wantPayload)
		first <- err
	}()
	var part string
	for deadline := time.Now().Add(5 * time.Second); part == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".x.iso.part-*")); len(m) == 1 {
			part = m[0]
		}
	}
	if part == "" {
		close(release)
		t.Fatal("the first download never started writing")
	}
	c := &Client{Attempts: 1}
	if _, err := c.Download(context.Background(), fast.URL+"/iso", dest, wantPayload); err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(part)
	close(release)
	if statErr != nil {
		t.Errorf("the second run removed the first run's live partial file: %v", statErr)
	}
	select {
	case err := <-first:
		if err != nil {
			t.Errorf("first download: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first download did not finish")
	}
	if got := dirNames(t, filepath.Dir(dest)); got != ".x.iso.verified x.iso" {
		t.Errorf("cache directory holds %q", got)
	}
}

// A failed download takes away the directories it created, and only those, and only when empty.
func TestFailedDownloadRemovesCreatedDirs(t *testing.T) {
	fs := &faultServer{fail: 100, status: 404}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "testbed"), 0o755); err != nil {
		t.Fatal(err)
	}
	dest := Plan{OS: "testbed", Algorithm: "sha256", Digest: digestOf(payload), FileName: "x.iso"}.CachePath(root)
	c := &Client{Attempts: 1}
	if _, err := c.Download(context.Background(), srv.URL+"/iso", dest, wantPayload); err == nil {
		t.Fatal("no error")
	}
	if got := dirNames(t, root); got != "testbed" {
		t.Errorf("cache root holds %q, want the pre-existing testbed only", got)
	}
	if got := dirNames(t, filepath.Join(root, "testbed")); got != "" {
		t.Errorf("testbed holds %q, want the digest directory gone", got)
	}
}
