package artifacts

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
)

// ManifestEntry is one file of an OVF package and its SHA-256 (lower-case hex).
type ManifestEntry struct {
	Name   string
	SHA256 string
}

// Manifest renders an OVF manifest (.mf): one `SHA256(name)= hex` line per entry, in the given order,
// which is the form ovftool writes and vSphere verifies (DSP0243 §5.1: algorithm, file name in
// parentheses, "= ", digest). The manifest never lists itself.
func Manifest(entries []ManifestEntry) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		fmt.Fprintf(&b, "SHA256(%s)= %s\n", e.Name, e.SHA256)
	}
	return b.Bytes()
}

// ParseManifest reads an OVF manifest into name → SHA-256 hex. Only SHA256 lines are accepted: this
// project writes nothing else, and a weaker algorithm in a manifest we are asked to trust is an error.
func ParseManifest(data []byte) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		open, closeEq := strings.IndexByte(line, '('), strings.LastIndex(line, ")=")
		if open < 0 || closeEq < open {
			return nil, fmt.Errorf("manifest line %d: want \"SHA256(name)= hex\", got %q", i+1, line)
		}
		alg, name, digest := line[:open], line[open+1:closeEq], strings.TrimSpace(line[closeEq+2:])
		if alg != "SHA256" {
			return nil, fmt.Errorf("manifest line %d: algorithm %q, only SHA256 is accepted", i+1, alg)
		}
		digest = strings.ToLower(digest)
		if !checksum.IsLowerHex(digest, checksum.SHA256HexLen) {
			return nil, fmt.Errorf("manifest line %d: %q is not a SHA-256 hex digest", i+1, digest)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("manifest line %d: %q listed twice", i+1, name)
		}
		out[name] = digest
	}
	return out, nil
}

// OVAMember is one file inside an OVA.
type OVAMember struct {
	Name   string
	Size   int64
	SHA256 string
}

// OVAInfo is what InspectOVA found in a verified OVA.
type OVAInfo struct {
	// Members are the archive's files in archive order.
	Members []OVAMember
	// Descriptor and Manifest are the names of the .ovf and .mf members.
	Descriptor string
	Manifest   string
}

// Member returns the member called name.
func (i OVAInfo) Member(name string) (OVAMember, bool) {
	for _, m := range i.Members {
		if m.Name == name {
			return m, true
		}
	}
	return OVAMember{}, false
}

// InspectOVA reads an OVA (a tar archive) from r and proves it is one VMware and CloudStack will
// accept and that its content is what its manifest says. It fails when:
//   - an entry is not a regular file in the archive root, or the archive uses GNU extensions instead
//     of ustar (the OVF spec requires the POSIX ustar format);
//   - the first member is not the .ovf descriptor (vSphere streams the OVA and must read the
//     descriptor first);
//   - the .mf manifest is missing or not the second member (DSP0243: the manifest, if present,
//     immediately follows the descriptor);
//   - any member's SHA-256 differs from the manifest, a member is not listed in the manifest, or the
//     manifest lists a file the archive lacks.
//
// Every member is hashed while streaming, so multi-GB VMDKs are not held in memory.
func InspectOVA(r io.Reader) (OVAInfo, error) {
	var info OVAInfo
	var manifestData []byte
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, fmt.Errorf("OVA: read archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return info, fmt.Errorf("OVA: member %q is not a regular file (type %q)", hdr.Name, hdr.Typeflag)
		}
		if hdr.Format == tar.FormatGNU {
			return info, fmt.Errorf("OVA: member %q uses the GNU tar format; OVF requires ustar (tar --format=ustar)", hdr.Name)
		}
		if err := checkPlainName(hdr.Name); err != nil {
			return info, fmt.Errorf("OVA: member %q must sit in the archive root: %v", hdr.Name, err)
		}
		if _, dup := info.Member(hdr.Name); dup {
			return info, fmt.Errorf("OVA: member %q appears twice", hdr.Name)
		}
		pos := len(info.Members)
		lower := strings.ToLower(hdr.Name)
		switch {
		case pos == 0 && !strings.HasSuffix(lower, ".ovf"):
			return info, fmt.Errorf("OVA: first member is %q; the .ovf descriptor must come first", hdr.Name)
		case pos == 0:
			info.Descriptor = hdr.Name
		case strings.HasSuffix(lower, ".ovf"):
			return info, fmt.Errorf("OVA: second descriptor %q; one VM per OVA", hdr.Name)
		case strings.HasSuffix(lower, ".mf"):
			if pos != 1 {
				return info, fmt.Errorf("OVA: manifest %q is member %d; it must immediately follow the descriptor", hdr.Name, pos+1)
			}
			info.Manifest = hdr.Name
		}
		h := sha256.New()
		var w io.Writer = h
		var mf bytes.Buffer
		if info.Manifest == hdr.Name {
			w = io.MultiWriter(h, &mf)
		}
		n, err := io.Copy(w, tr)
		if err != nil {
			return info, fmt.Errorf("OVA: read member %q: %w", hdr.Name, err)
		}
		if info.Manifest == hdr.Name {
			manifestData = mf.Bytes()
		}
		info.Members = append(info.Members, OVAMember{Name: hdr.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	if len(info.Members) == 0 {
		return info, errors.New("OVA: empty archive")
	}
	if info.Manifest == "" {
		return info, errors.New("OVA: no .mf manifest as the second member")
	}
	listed, err := ParseManifest(manifestData)
	if err != nil {
		return info, fmt.Errorf("OVA: %s: %w", info.Manifest, err)
	}
	var problems []string
	for _, m := range info.Members {
		if m.Name == info.Manifest {
			continue
		}
		want, ok := listed[m.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is not listed in the manifest", m.Name))
		case want != m.SHA256:
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s, manifest says %s", m.Name, m.SHA256, want))
		}
	}
	var missing []string
	for name := range listed {
		if _, ok := info.Member(name); !ok {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		problems = append(problems, fmt.Sprintf("%s is listed in the manifest but missing from the archive", name))
	}
	if len(problems) > 0 {
		return info, errors.New("OVA: " + strings.Join(problems, "; "))
	}
	return info, nil
}
