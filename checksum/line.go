package checksum

import (
	"fmt"
	"regexp"
	"strings"
)

// The two line shapes vendors use. GNU coreutils: "<hex>  name" or "<hex> *name" (binary mode).
// BSD / `sha256sum --tag`: "SHA256 (name) = <hex>". The BSD tag is any word so that an algorithm we do
// not know is reported as such instead of being mistaken for garbage.
var (
	gnuLine = regexp.MustCompile(`^([0-9a-fA-F]+)\s+\*?(.+)$`)
	bsdLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*)\s*\((.+)\)\s*=\s*(\S+)$`)
)

// Entry is one line of a checksum file that names a file. It keeps the line's number and text so that
// every error about an entry can quote the line a person has to look at.
type Entry struct {
	// Line is the 1-based line number in the file.
	Line int
	// Text is the line without surrounding white space or line end, as errors quote it.
	Text string
	// Tag is the BSD algorithm tag in upper case ("SHA256"), or "" for a GNU line, whose algorithm
	// only its digest's length tells.
	Tag string
	// Name is the file the line is about, without a leading "./", so that "./a.iso" and "a.iso" are
	// the same file as they are to `sha256sum -c`.
	Name string
	// Digest is the digest as written: ParseLine does not judge it, so that the caller can tell a
	// malformed digest of its own algorithm from another algorithm's. ParseStrict returns it in lower
	// case.
	Digest string
}

// quote is how errors cite an entry.
func (e Entry) quote() string { return fmt.Sprintf("line %d %q", e.Line, e.Text) }

// ParseLine reads line number n of a checksum file, in GNU or BSD layout, with or without its line end
// (LF or CRLF). It reports false for a line that is not an entry (blank, a "#" comment, a size comment,
// a stray header): vendor files carry such lines, and only the caller knows whether they are fine. It
// is the one grammar of a checksum line: Lookup, ParseStrict and Line are all built on it.
func ParseLine(n int, line string) (Entry, bool) {
	text := strings.TrimSpace(line)
	if text == "" || strings.HasPrefix(text, "#") {
		return Entry{}, false
	}
	e := Entry{Line: n, Text: text}
	if m := bsdLine.FindStringSubmatch(text); m != nil {
		e.Tag, e.Name, e.Digest = strings.ToUpper(m[1]), m[2], m[3]
	} else if m := gnuLine.FindStringSubmatch(text); m != nil {
		e.Name, e.Digest = strings.TrimSpace(m[2]), m[1]
	} else {
		return Entry{}, false
	}
	e.Name = strings.TrimPrefix(e.Name, "./")
	return e, true
}

// lines splits a checksum file into its lines without their line ends, numbered from 1 by their index
// plus one; both readers use it, so they count lines alike.
func lines(text string) []string {
	out := strings.Split(text, "\n")
	for i, l := range out {
		out[i] = strings.TrimSuffix(l, "\r")
	}
	return out
}

// Line is one line of a GNU coreutils checksum file in text mode: the lower-case hex digest (SHA-256
// or SHA-512), two spaces, the file name, a newline, so that `sha256sum -c` or `sha512sum -c` run
// beside the file verifies it. The name must be a plain base name, because the line's file sits beside
// the file it names; names with a backslash or newline are refused because coreutils would escape
// them. The line is read back with ParseLine before it is returned, so the project never writes a line
// its own readers would understand differently (a name starting with "*" or white space, say).
func Line(hexDigest, name string) (string, error) {
	if !IsLowerHex(hexDigest, SHA256HexLen) && !IsLowerHex(hexDigest, SHA512HexLen) {
		return "", fmt.Errorf("checksum for %q: %q is not a lower-case SHA-256 or SHA-512 hex digest", name, hexDigest)
	}
	switch {
	case name == "" || name == "." || name == "..":
		return "", fmt.Errorf("file name %q is empty or a dot name", name)
	case strings.ContainsAny(name, "/\\\n\r\x00"):
		return "", fmt.Errorf("file name %q must be a plain base name (no slash, backslash, newline or NUL)", name)
	}
	line := hexDigest + "  " + name
	if e, ok := ParseLine(1, line); !ok || e.Tag != "" || e.Name != name || e.Digest != hexDigest {
		return "", fmt.Errorf("file name %q would not read back from its checksum line", name)
	}
	return line + "\n", nil
}
