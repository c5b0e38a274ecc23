package osdefs

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"
	"testing"
)

// synth256/synth512 make obviously synthetic digests (the hash of a label) for line-shape tests, so no
// test presents an invented value as a vendor's real digest.
func synth256(label string) string {
	s := sha256.Sum256([]byte(label))
	return hex.EncodeToString(s[:])
}
func synth512(label string) string {
	s := sha512.Sum512([]byte(label))
	return hex.EncodeToString(s[:])
}

// Real digests, as the vendors' checksum files list them (see the definitions that pin them).
const (
	rocky96MinimalSHA256   = "aed9449cf79eb2d1c365f4f2561f923a80451b3e8fdbf595889b4cf0ac6c58b8"
	fedora41DVDSHA256      = "6037e489103401a6ad4e54a4bcb2df7525693bdc3f2ce4aa895838b65647e551"
	centos9BootSHA256      = "b71655013db15ee78c204fb3401387ac933fbfc153c6bd7a82d24d5ebd0a7b0c"
	alma91DVDSHA256        = "2a44e3f8a012c132da19b9aae2bf949e20b116f0a2a7ac3eca111972f4ac952f" // almalinux.org ISO verification guide
	ubuntuServerISO        = "ubuntu-22.04.5-live-server-amd64.iso"
	fedoraServerDVD        = "Fedora-Server-dvd-x86_64-41-1.4.iso"
	rockyMinimalISO        = "Rocky-9.6-x86_64-minimal.iso"
	centosStreamBootISO    = "CentOS-Stream-9-20250303.0-x86_64-boot.iso"
	almaDVDISO             = "AlmaLinux-9.1-x86_64-dvd.iso"
	ubuntuDesktopISO       = "ubuntu-22.04.5-desktop-amd64.iso"
	fedoraServerNetinstISO = "Fedora-Server-netinst-x86_64-41-1.4.iso"
)

// Samples in the exact layout of each vendor's file.
var (
	// releases.ubuntu.com/22.04/SHA256SUMS: GNU coreutils, binary-mode marker.
	ubuntuSHA256SUMS = synth256("desktop") + " *" + ubuntuDesktopISO + "\n" +
		synth256("server") + " *" + ubuntuServerISO + "\n"

	// AlmaLinux isos/x86_64/CHECKSUM: BSD lines with "# file: N bytes" comments (clearsigned on the
	// server; the wrapper is tested below).
	almaCHECKSUM = "# AlmaLinux-9.1-x86_64-boot.iso: 864026624 bytes\n" +
		"SHA256 (AlmaLinux-9.1-x86_64-boot.iso) = " + synth256("alma-boot") + "\n" +
		"# " + almaDVDISO + ": 9473888256 bytes\n" +
		"SHA256 (" + almaDVDISO + ") = " + alma91DVDSHA256 + "\n"

	// Fedora-Server-41-1.4-x86_64-CHECKSUM: BSD lines, "# file: N bytes" comments.
	fedoraCHECKSUM = "# " + fedoraServerDVD + ": 2612854784 bytes\n" +
		"SHA256 (" + fedoraServerDVD + ") = " + fedora41DVDSHA256 + "\n" +
		"# " + fedoraServerNetinstISO + ": 1036541952 bytes\n" +
		"SHA256 (" + fedoraServerNetinstISO + ") = " + synth256("fedora-netinst") + "\n"

	// Rocky isos/x86_64/CHECKSUM: BSD lines with "# file: N bytes" comments (2252013568 is the real size).
	rockyCHECKSUM = "# Rocky-9.6-x86_64-boot.iso: 1150681088 bytes\n" +
		"SHA256 (Rocky-9.6-x86_64-boot.iso) = " + synth256("rocky-boot") + "\n" +
		"# " + rockyMinimalISO + ": 2252013568 bytes\n" +
		"SHA256 (" + rockyMinimalISO + ") = " + rocky96MinimalSHA256 + "\n"

	// CentOS Stream <iso>.SHA256SUM: one BSD line with its size comment.
	centosSHA256SUM = "# " + centosStreamBootISO + ": 1243545600 bytes\n" +
		"SHA256 (" + centosStreamBootISO + ") = " + centos9BootSHA256 + "\n"
)

func TestLookupChecksum(t *testing.T) {
	h := synth256("h")
	h512 := synth512("h")
	tests := []struct {
		name      string
		data      string
		algorithm string
		file      string
		want      string
		wantErr   string
	}{
		{"gnu two spaces", h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"gnu binary marker", h + " *a.iso\n", "sha256", "a.iso", h, ""},
		{"gnu upper-case hex", strings.ToUpper(h) + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"gnu ./ prefix", h + "  ./a.iso\n", "sha256", "a.iso", h, ""},
		{"bsd", "SHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"bsd crlf", "SHA256 (a.iso) = " + h + "\r\nSHA256 (b.iso) = " + synth256("b") + "\r\n", "sha256", "a.iso", h, ""},
		{"gnu crlf", h + " *a.iso\r\n", "sha256", "a.iso", h, ""},
		{"no trailing newline", "SHA256 (a.iso) = " + h, "sha256", "a.iso", h, ""},
		{"mixed file picks sha256", "SHA512 (a.iso) = " + h512 + "\nSHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"mixed file picks sha512", "SHA256 (a.iso) = " + h + "\nSHA512 (a.iso) = " + h512 + "\n", "sha512", "a.iso", h512, ""},
		{"mixed gnu lengths", h512 + "  a.iso\n" + h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"same digest twice", h + "  a.iso\nSHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"other files' odd lines are not read", "SHA256 (b.iso) = short\n" + h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"missing entry", "SHA256 (b.iso) = " + h + "\n", "sha256", "a.iso", "", `no sha256 entry for "a.iso" (it lists b.iso)`},
		{"only other algorithm", "SHA512 (a.iso) = " + h512 + "\n", "sha256", "a.iso", "", "listed only with other digests (SHA512), none of them sha256"},
		{"bad algorithm", h + "  a.iso\n", "md5", "a.iso", "", `unsupported checksum algorithm "md5": use sha256 or sha512`},
		// A malformed or contradictory entry for the requested file is an error that quotes it.
		{"two different digests", h + "  a.iso\n" + synth256("other") + "  a.iso\n", "sha256", "a.iso", "",
			`two different sha256 digests for the same file: line 1 "` + h + `  a.iso" and line 2 "` + synth256("other") + `  a.iso"`},
		{"two different digests, bsd and gnu", "SHA256 (a.iso) = " + h + "\n" + synth256("x") + " *a.iso\n", "sha256", "a.iso", "", "two different sha256 digests"},
		{"bsd digest too short", "SHA256 (a.iso) = " + h[:63] + "\n", "sha256", "a.iso", "",
			`line 1 "SHA256 (a.iso) = ` + h[:63] + `": a sha256 digest has 64 hex characters, this one 63`},
		{"gnu digest of no known length", h + "0  a.iso\n", "sha256", "a.iso", "", "a sha256 digest has 64 hex characters, this one 65"},
		{"bsd digest not hex", "SHA256 (a.iso) = " + strings.Repeat("z", 64) + "\n", "sha256", "a.iso", "", "the sha256 digest is not hexadecimal"},
		{"unknown algorithm tag", "BLAKE3 (a.iso) = " + h + "\n", "sha256", "a.iso", "", `line 1 "BLAKE3 (a.iso) = ` + h + `": unknown checksum algorithm "BLAKE3"`},
		{"md5 beside sha256 is another algorithm", "MD5 (a.iso) = " + h[:32] + "\n" + "SHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"gnu md5 length beside sha256", h[:32] + "  a.iso\n" + h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"garbage", "<html>404 Not Found</html>\n", "sha256", "a.iso", "", "no sha256 entries found in checksum file"},
		{"empty", "", "sha256", "a.iso", "", "no sha256 entries found in checksum file"},
		// Vendor layouts.
		{"ubuntu SHA256SUMS", ubuntuSHA256SUMS, "sha256", ubuntuServerISO, synth256("server"), ""},
		{"alma CHECKSUM", almaCHECKSUM, "sha256", almaDVDISO, alma91DVDSHA256, ""},
		{"fedora CHECKSUM", fedoraCHECKSUM, "sha256", fedoraServerDVD, fedora41DVDSHA256, ""},
		{"rocky CHECKSUM", rockyCHECKSUM, "sha256", rockyMinimalISO, rocky96MinimalSHA256, ""},
		{"centos stream SHA256SUM", centosSHA256SUM, "sha256", centosStreamBootISO, centos9BootSHA256, ""},
		{"fedora size comment is not an entry", fedoraCHECKSUM, "sha256", fedoraServerDVD + ": 2612854784 bytes", "", "no sha256 entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookupChecksum([]byte(tc.data), tc.algorithm, tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LookupChecksum error = %v, want it to contain %q (got digest %q)", err, tc.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("LookupChecksum: %v", err)
			}
			if got != tc.want {
				t.Fatalf("digest = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNormalizeDigest(t *testing.T) {
	h := synth256("n")
	tests := []struct {
		name, algorithm, in, want string
		ok                        bool
	}{
		{"plain", "sha256", h, h, true},
		{"prefixed upper", "sha256", "sha256:" + strings.ToUpper(h), h, true},
		{"short", "sha256", h[:60], "", false},
		{"not hex", "sha256", strings.Repeat("z", 64), "", false},
		{"sha512 length", "sha512", synth512("n"), synth512("n"), true},
		{"unknown algorithm", "sha1", h[:40], "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeDigest(tc.algorithm, tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("NormalizeDigest(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

// An algorithm the pipeline does not verify with is named as such, not measured against a length of 0.
func TestNormalizeDigestUnknownAlgorithm(t *testing.T) {
	_, err := NormalizeDigest("sha1", synth256("n")[:40])
	if err == nil || !strings.Contains(err.Error(), `unsupported checksum algorithm "sha1": use sha256 or sha512`) {
		t.Fatalf("error = %v", err)
	}
}
