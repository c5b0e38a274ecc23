package artifacts

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Digests are the SHA-256 and SHA-512 of one stream, lower-case hex, and its length in bytes.
type Digests struct {
	SHA256 string
	SHA512 string
	Size   int64
}

// Digest reads r to the end once, hashing with SHA-256 and SHA-512 at the same time, so multi-GB
// images are read a single time and never held in memory.
func Digest(r io.Reader) (Digests, error) {
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(h256, h512), r)
	if err != nil {
		return Digests{}, fmt.Errorf("digest: %w", err)
	}
	return Digests{
		SHA256: hex.EncodeToString(h256.Sum(nil)),
		SHA512: hex.EncodeToString(h512.Sum(nil)),
		Size:   n,
	}, nil
}

// DigestFile is Digest of the file at path.
func DigestFile(path string) (Digests, error) {
	f, err := os.Open(path)
	if err != nil {
		return Digests{}, err
	}
	defer f.Close()
	d, err := Digest(f)
	if err != nil {
		return Digests{}, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Hex lengths of the digests this package writes and checks.
const (
	SHA256HexLen = 64
	SHA512HexLen = 128
)

// IsLowerHex reports whether s is exactly n lower-case hexadecimal digits, the only spelling this
// package writes, so that string comparison of digests is exact.
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

// ChecksumLine is one line of a GNU coreutils checksum file (`sha256sum`/`sha512sum` text mode):
// the hex digest, two spaces, the file name, a newline. `sha256sum -c FILE.sha256` verifies it. The
// digest must be 64 or 128 lower-case hex digits. Names with a newline or backslash are refused:
// coreutils would escape them, and artifact names never need them.
func ChecksumLine(hexDigest, name string) (string, error) {
	if !IsLowerHex(hexDigest, SHA256HexLen) && !IsLowerHex(hexDigest, SHA512HexLen) {
		return "", fmt.Errorf("checksum for %q: %q is not a lower-case SHA-256 or SHA-512 hex digest", name, hexDigest)
	}
	if err := checkPlainName(name); err != nil {
		return "", err
	}
	return hexDigest + "  " + name + "\n", nil
}

// ChecksumEntry is one parsed line of a checksum file.
type ChecksumEntry struct {
	Name   string
	Digest string
}

// ParseChecksumLines reads GNU coreutils checksum text, in text ("  ") or binary (" *") mode, and
// returns its entries in order. Blank lines are skipped; anything else that is not a valid line is an
// error naming the line number.
func ParseChecksumLines(text string) ([]ChecksumEntry, error) {
	var out []ChecksumEntry
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		sp := strings.IndexByte(line, ' ')
		if sp < 0 || sp+2 > len(line) || (line[sp+1] != ' ' && line[sp+1] != '*') {
			return nil, fmt.Errorf("checksum line %d: want \"<hex>  <name>\", got %q", i+1, line)
		}
		digest, name := line[:sp], line[sp+2:]
		if !IsLowerHex(strings.ToLower(digest), len(digest)) || (len(digest) != SHA256HexLen && len(digest) != SHA512HexLen) {
			return nil, fmt.Errorf("checksum line %d: %q is not a SHA-256 or SHA-512 hex digest", i+1, digest)
		}
		if name == "" {
			return nil, fmt.Errorf("checksum line %d: no file name", i+1)
		}
		out = append(out, ChecksumEntry{Name: name, Digest: strings.ToLower(digest)})
	}
	return out, nil
}

// CloudStackChecksum is a SHA-512 digest in the form CloudStack's registerTemplate `checksum`
// parameter takes: the algorithm in braces, then the hex. Without the prefix CloudStack assumes MD5;
// the algorithm names it accepts are those of its DigestHelper (MD5, SHA-1, SHA-224, SHA-256, SHA-384,
// SHA-512), and it checks the digest length against the algorithm.
func CloudStackChecksum(sha512hex string) string { return cloudStackSHA512Prefix + sha512hex }

const cloudStackSHA512Prefix = "{SHA-512}"

// checkPlainName refuses names that would need escaping or could leave the output directory.
func checkPlainName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("file name %q is empty or a dot name", name)
	case strings.ContainsAny(name, "/\\\n\r\x00"):
		return fmt.Errorf("file name %q must be a plain base name (no slash, backslash, newline or NUL)", name)
	}
	return nil
}
