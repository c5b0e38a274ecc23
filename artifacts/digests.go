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
