package osdefs

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The two line shapes vendors use. GNU coreutils: "<hex>  name" or "<hex> *name" (binary mode).
// BSD / `sha256sum --tag`: "SHA256 (name) = <hex>". The BSD tag is any word so that an algorithm we do
// not know is reported as such instead of being mistaken for garbage.
var (
	gnuLine = regexp.MustCompile(`^([0-9a-fA-F]+)\s+\*?(.+)$`)
	bsdLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*)\s*\((.+)\)\s*=\s*(\S+)$`)
)

// digestLen is the hex length of each algorithm the pipeline verifies with.
var digestLen = map[string]int{"sha256": 64, "sha512": 128}

// knownLen are the hex lengths of every algorithm a vendor may list (MD5, SHA-1, SHA-224, SHA-256,
// SHA-384, SHA-512): a GNU line of such a length, other than the one being read, belongs to another
// algorithm of a mixed file, not to a malformed entry.
var knownLen = map[int]bool{32: true, 40: true, 56: true, 64: true, 96: true, 128: true}

// knownTags are the BSD tags of algorithms that may share a file with ours.
var knownTags = map[string]bool{"MD5": true, "SHA1": true, "SHA224": true, "SHA256": true, "SHA384": true, "SHA512": true}

// Algorithms lists the digest algorithms the pipeline verifies with.
func Algorithms() []string {
	out := make([]string, 0, len(digestLen))
	for a := range digestLen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func checkAlgorithm(algorithm string) (int, error) {
	n, ok := digestLen[algorithm]
	if !ok {
		return 0, fmt.Errorf("unsupported checksum algorithm %q: use %s", algorithm, strings.Join(Algorithms(), " or "))
	}
	return n, nil
}

// checksumEntry is one line of a checksum file that names a file.
type checksumEntry struct {
	line   int
	text   string
	tag    string // BSD tag, upper case; "" for a GNU line
	digest string // as written
}

func (e checksumEntry) quote() string { return fmt.Sprintf("line %d %q", e.line, e.text) }

// parseEntries reads every line of a GNU or BSD checksum file, by file name. Comments, blank lines and
// lines of neither shape (a size comment, a stray header) are not entries.
func parseEntries(data []byte) (map[string][]checksumEntry, error) {
	out := map[string][]checksumEntry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := checksumEntry{line: n, text: line}
		var name string
		if m := bsdLine.FindStringSubmatch(line); m != nil {
			e.tag, name, e.digest = strings.ToUpper(m[1]), m[2], m[3]
		} else if m := gnuLine.FindStringSubmatch(line); m != nil {
			name, e.digest = strings.TrimSpace(m[2]), m[1]
		} else {
			continue
		}
		name = strings.TrimPrefix(name, "./")
		out[name] = append(out[name], e)
	}
	return out, sc.Err()
}

// pick returns the digest of one file's entries for the algorithm, or why there is none that can be
// trusted: an entry of our algorithm with a digest of the wrong length or not hexadecimal, an
// algorithm nobody knows, or two entries that disagree are errors that quote the lines, never skipped.
func pick(entries []checksumEntry, algorithm string, want int) (digest string, found bool, err error) {
	var chosen *checksumEntry
	var otherAlgs []string
	for i := range entries {
		e := &entries[i]
		switch {
		case e.tag != "" && !knownTags[e.tag]:
			return "", false, fmt.Errorf("%s: unknown checksum algorithm %q (this file is checked with %s)", e.quote(), e.tag, algorithm)
		case e.tag != "" && e.tag != strings.ToUpper(algorithm):
			otherAlgs = append(otherAlgs, e.tag)
			continue
		case e.tag == "" && len(e.digest) != want && knownLen[len(e.digest)]:
			otherAlgs = append(otherAlgs, fmt.Sprintf("%d hex characters", len(e.digest)))
			continue
		}
		if len(e.digest) != want {
			return "", false, fmt.Errorf("%s: a %s digest has %d hex characters, this one %d", e.quote(), algorithm, want, len(e.digest))
		}
		if _, herr := hex.DecodeString(e.digest); herr != nil {
			return "", false, fmt.Errorf("%s: the %s digest is not hexadecimal", e.quote(), algorithm)
		}
		if chosen != nil && !strings.EqualFold(chosen.digest, e.digest) {
			return "", false, fmt.Errorf("two different %s digests for the same file: %s and %s", algorithm, chosen.quote(), e.quote())
		}
		chosen = e
	}
	if chosen == nil {
		if len(otherAlgs) > 0 {
			return "", false, fmt.Errorf("the file is listed only with other digests (%s), none of them %s", strings.Join(otherAlgs, ", "), algorithm)
		}
		return "", false, nil
	}
	return strings.ToLower(chosen.digest), true, nil
}

// LookupChecksum returns the digest of fileName from a checksum file in GNU or BSD layout (CRLF line
// ends and comments are fine). It reads the bytes it is given as they are: for a signed file, pass only
// what the signature covers (SignedChecksums), never the download. Only fileName's own entries must be
// well formed, and they must agree: a vendor file may carry other files' lines in shapes we do not read.
func LookupChecksum(data []byte, algorithm, fileName string) (string, error) {
	want, err := checkAlgorithm(algorithm)
	if err != nil {
		return "", err
	}
	entries, err := parseEntries(data)
	if err != nil {
		return "", err
	}
	d, ok, err := pick(entries[fileName], algorithm, want)
	if err != nil {
		return "", fmt.Errorf("entry for %q: %w", fileName, err)
	}
	if ok {
		return d, nil
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", fmt.Errorf("no %s entries found in checksum file (no line has a checksum layout)", algorithm)
	}
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return "", fmt.Errorf("checksum file has no %s entry for %q (it lists %s)", algorithm, fileName, strings.Join(names, ", "))
}

// NormalizeDigest validates a hex digest for the algorithm and returns it in lower case.
func NormalizeDigest(algorithm, digest string) (string, error) {
	want, err := checkAlgorithm(algorithm)
	if err != nil {
		return "", err
	}
	d := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(digest, algorithm+":")))
	if len(d) != want {
		return "", fmt.Errorf("%s digest must be %d hex characters, got %d", algorithm, want, len(d))
	}
	if _, err := hex.DecodeString(d); err != nil {
		return "", fmt.Errorf("%s digest is not hexadecimal: %q", algorithm, digest)
	}
	return d, nil
}
