// Package checksum is the project's one grammar of checksum files. Vendors' files are read with
// Lookup, the files the pipeline writes are written with Line and read back with ParseStrict, and all
// three go through ParseLine, so a line the writer produces is by construction a line the readers
// accept, and a vendor line is never understood one way when fetching and another when verifying.
// It also owns the table of digest algorithms and their hex lengths, and the one hex check
// (IsLowerHex), so no package keeps its own copy of either.
//
// The package imports only the standard library: every other package may depend on it, and the
// Dagger module sees it as one more root package (dagger.json's include list).
package checksum

import (
	"fmt"
	"sort"
	"strings"
)

// Hex lengths of the two digests the pipeline verifies with and writes. Named so that a length check
// says which digest it means instead of a bare 64 or 128.
const (
	SHA256HexLen = 64
	SHA512HexLen = 128
)

// algorithm is one row of the table: its name as the catalogue and the command line spell it, its BSD
// tag, its hex length, and whether the pipeline verifies with it. The unverified rows (MD5, SHA-1,
// SHA-224, SHA-384) are there because vendors list them beside ours in the same file, and a line of
// theirs must be recognised as another algorithm rather than reported as a malformed entry of ours.
type algorithm struct {
	name     string
	tag      string
	hexLen   int
	verified bool
}

var table = []algorithm{
	{"md5", "MD5", 32, false},
	{"sha1", "SHA1", 40, false},
	{"sha224", "SHA224", 56, false},
	{"sha256", "SHA256", SHA256HexLen, true},
	{"sha384", "SHA384", 96, false},
	{"sha512", "SHA512", SHA512HexLen, true},
}

// Algorithms lists the digest algorithms the pipeline verifies with, sorted, so that validation of a
// definition and the error that names the choices are derived from the table and cannot drift from it.
func Algorithms() []string {
	var out []string
	for _, a := range table {
		if a.verified {
			out = append(out, a.name)
		}
	}
	sort.Strings(out)
	return out
}

// verified returns the row of an algorithm the pipeline verifies with, or an error naming the choices:
// an algorithm we do not verify with is reported as such, never measured against a length of 0.
func verified(name string) (algorithm, error) {
	for _, a := range table {
		if a.verified && a.name == name {
			return a, nil
		}
	}
	return algorithm{}, fmt.Errorf("unsupported checksum algorithm %q: use %s", name, strings.Join(Algorithms(), " or "))
}

// knownTag reports whether a BSD tag belongs to an algorithm that may share a vendor file with ours.
func knownTag(tag string) bool {
	for _, a := range table {
		if a.tag == tag {
			return true
		}
	}
	return false
}

// knownLen reports whether a hex length is that of an algorithm that may share a vendor file with ours:
// a GNU line carries no tag, so its length is all that tells another algorithm from a malformed entry.
func knownLen(n int) bool {
	for _, a := range table {
		if a.hexLen == n {
			return true
		}
	}
	return false
}

// IsLowerHex reports whether s is exactly n lower-case hexadecimal digits. Lower case is the only
// spelling the project writes and stores, so digests compare exactly as strings; readers that accept
// upper case lower it first. It is the project's one hex check.
func IsLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Normalize checks a digest given by hand or pinned in the catalogue (optionally prefixed
// "sha256:", any case) for the algorithm, and returns it in lower case, the spelling Lookup returns,
// so the two compare as plain strings.
func Normalize(algorithm, digest string) (string, error) {
	a, err := verified(algorithm)
	if err != nil {
		return "", err
	}
	d := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(digest, algorithm+":")))
	if len(d) != a.hexLen {
		return "", fmt.Errorf("%s digest must be %d hex characters, got %d", algorithm, a.hexLen, len(d))
	}
	if !IsLowerHex(d, a.hexLen) {
		return "", fmt.Errorf("%s digest is not hexadecimal: %q", algorithm, digest)
	}
	return d, nil
}
