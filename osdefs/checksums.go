package osdefs

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// The two line shapes vendors use. GNU coreutils: "<hex>  name" or "<hex> *name" (binary mode).
// BSD / `sha256sum --tag`: "SHA256 (name) = <hex>".
var (
	gnuLine = regexp.MustCompile(`^([0-9a-fA-F]{32,128})\s+\*?(.+)$`)
	bsdLine = regexp.MustCompile(`^(SHA256|SHA512|SHA1|MD5)\s*\((.+)\)\s*=\s*([0-9a-fA-F]{32,128})$`)
)

var digestLen = map[string]int{"sha256": 64, "sha512": 128}

// ParseChecksums reads a vendor checksum file in GNU or BSD layout, tolerating CRLF line ends, comments
// and an OpenPGP clearsigned wrapper (the signature itself is checked by VerifyClearsigned). It returns
// file name → lower-case hex digest for entries of the given algorithm ("sha256" or "sha512").
func ParseChecksums(data []byte, algorithm string) (map[string]string, error) {
	want, ok := digestLen[algorithm]
	if !ok {
		return nil, fmt.Errorf("unsupported checksum algorithm %q: use sha256 or sha512", algorithm)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(ClearsignedBody(data)))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var name, sum string
		if m := bsdLine.FindStringSubmatch(line); m != nil {
			if !strings.EqualFold(m[1], algorithm) {
				continue
			}
			name, sum = m[2], m[3]
		} else if m := gnuLine.FindStringSubmatch(line); m != nil {
			name, sum = strings.TrimSpace(m[2]), m[1]
		} else {
			continue
		}
		if len(sum) != want {
			continue // another algorithm's digest in a mixed file
		}
		name = strings.TrimPrefix(name, "./")
		out[name] = strings.ToLower(sum)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s entries found in checksum file", algorithm)
	}
	return out, nil
}

// LookupChecksum returns the digest of fileName from a checksum file.
func LookupChecksum(data []byte, algorithm, fileName string) (string, error) {
	sums, err := ParseChecksums(data, algorithm)
	if err != nil {
		return "", err
	}
	if s, ok := sums[fileName]; ok {
		return s, nil
	}
	return "", fmt.Errorf("checksum file has no %s entry for %q (it lists %d other files)", algorithm, fileName, len(sums))
}

// ClearsignedBody strips an OpenPGP clearsigned wrapper (RFC 4880 §7), undoing dash-escaping. Data
// that is not clearsigned is returned unchanged.
func ClearsignedBody(data []byte) []byte {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	const begin = "-----BEGIN PGP SIGNED MESSAGE-----"
	i := strings.Index(s, begin)
	if i < 0 {
		return data
	}
	s = s[i+len(begin):]
	// Armor headers ("Hash: SHA256") end at the first empty line.
	if j := strings.Index(s, "\n\n"); j >= 0 {
		s = s[j+2:]
	}
	if j := strings.Index(s, "-----BEGIN PGP SIGNATURE-----"); j >= 0 {
		s = s[:j]
	}
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimPrefix(line, "- "))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// NormalizeDigest validates a hex digest for the algorithm and returns it in lower case.
func NormalizeDigest(algorithm, digest string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(digest, algorithm+":")))
	if len(d) != digestLen[algorithm] {
		return "", fmt.Errorf("%s digest must be %d hex characters, got %d", algorithm, digestLen[algorithm], len(d))
	}
	if _, err := hex.DecodeString(d); err != nil {
		return "", fmt.Errorf("%s digest is not hexadecimal: %q", algorithm, digest)
	}
	return d, nil
}
