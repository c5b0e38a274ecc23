package checksum

import (
	"fmt"
	"strings"
)

// ParseStrict reads checksum text the project wrote or a tool ran for it (`sha256sum` output, the
// .sha256/.sha512 files beside an artifact) and returns its entries in order, digests in lower case.
// Unlike Lookup it forgives nothing: the text is ours, so every non-blank line must be a GNU entry of a
// SHA-256 or SHA-512 digest, and anything else is an error naming the line number.
//
// It reads lines with ParseLine and then also checks the GNU layout the grammar is lenient about: the
// line starts with the digest, then two spaces (text mode) or a space and "*" (binary mode), then the
// name as written. The grammar accepts any run of white space there because vendor files do; but
// `sha256sum -c` reads "<hex> a" with one space as a malformed line, and a strict reader that accepted
// what coreutils refuses would pass a file that cannot verify anything.
func ParseStrict(text string) ([]Entry, error) {
	var out []Entry
	for i, raw := range lines(text) {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		n := i + 1
		e, ok := ParseLine(n, raw)
		if !ok || e.Tag != "" || !gnuLayout(raw, e) {
			return nil, fmt.Errorf("checksum line %d: want \"<hex>  <name>\", got %q", n, raw)
		}
		if !IsLowerHex(strings.ToLower(e.Digest), len(e.Digest)) || (len(e.Digest) != SHA256HexLen && len(e.Digest) != SHA512HexLen) {
			return nil, fmt.Errorf("checksum line %d: %q is not a SHA-256 or SHA-512 hex digest", n, e.Digest)
		}
		if e.Name == "" {
			return nil, fmt.Errorf("checksum line %d: no file name", n)
		}
		e.Digest = strings.ToLower(e.Digest)
		out = append(out, e)
	}
	return out, nil
}

// gnuLayout reports whether raw is exactly the digest, a GNU separator ("  " or " *") and the entry's
// name as written (with or without the "./" the grammar drops).
func gnuLayout(raw string, e Entry) bool {
	for _, sep := range []string{"  ", " *"} {
		if rest, ok := strings.CutPrefix(raw, e.Digest+sep); ok {
			return rest == e.Name || rest == "./"+e.Name
		}
	}
	return false
}
