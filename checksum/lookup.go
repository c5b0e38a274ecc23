package checksum

import (
	"fmt"
	"sort"
	"strings"
)

// Lookup returns the digest of fileName, in lower case, from a vendor's checksum file in GNU or BSD
// layout (CRLF line ends and comments are fine). It reads the bytes it is given as they are: for a
// signed file, pass only what the signature covers (osdefs.SignedChecksums), never the download. It is
// lenient about the rest of the file, because a vendor file may carry other files' lines in shapes we
// do not read, and strict about fileName's own entries: they must be well formed and agree.
func Lookup(data []byte, algorithm, fileName string) (string, error) {
	alg, err := verified(algorithm)
	if err != nil {
		return "", err
	}
	entries := map[string][]Entry{}
	for i, l := range lines(string(data)) {
		if e, ok := ParseLine(i+1, l); ok {
			entries[e.Name] = append(entries[e.Name], e)
		}
	}
	d, ok, err := pick(entries[fileName], alg)
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

// pick returns the digest of one file's entries for the algorithm, or why there is none that can be
// trusted: an entry of our algorithm with a digest of the wrong length or not hexadecimal, an
// algorithm nobody knows, or two entries that disagree are errors that quote the lines, never skipped.
func pick(entries []Entry, alg algorithm) (digest string, found bool, err error) {
	var chosen *Entry
	var otherAlgs []string
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Tag != "" && !knownTag(e.Tag):
			return "", false, fmt.Errorf("%s: unknown checksum algorithm %q (this file is checked with %s)", e.quote(), e.Tag, alg.name)
		case e.Tag != "" && e.Tag != alg.tag:
			otherAlgs = append(otherAlgs, e.Tag)
			continue
		case e.Tag == "" && len(e.Digest) != alg.hexLen && knownLen(len(e.Digest)):
			otherAlgs = append(otherAlgs, fmt.Sprintf("%d hex characters", len(e.Digest)))
			continue
		}
		if len(e.Digest) != alg.hexLen {
			return "", false, fmt.Errorf("%s: a %s digest has %d hex characters, this one %d", e.quote(), alg.name, alg.hexLen, len(e.Digest))
		}
		if !IsLowerHex(strings.ToLower(e.Digest), alg.hexLen) {
			return "", false, fmt.Errorf("%s: the %s digest is not hexadecimal", e.quote(), alg.name)
		}
		if chosen != nil && !strings.EqualFold(chosen.Digest, e.Digest) {
			return "", false, fmt.Errorf("two different %s digests for the same file: %s and %s", alg.name, chosen.quote(), e.quote())
		}
		chosen = e
	}
	if chosen == nil {
		if len(otherAlgs) > 0 {
			return "", false, fmt.Errorf("the file is listed only with other digests (%s), none of them %s", strings.Join(otherAlgs, ", "), alg.name)
		}
		return "", false, nil
	}
	return strings.ToLower(chosen.Digest), true, nil
}
