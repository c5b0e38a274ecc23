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

func TestParseChecksums(t *testing.T) {
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
		{"clearsigned with dash-escaping", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n- -- comment line\nSHA256 (a.iso) = " + h + "\n-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCAAQ\n-----END PGP SIGNATURE-----\n", "sha256", "a.iso", h, ""},
		{"clearsigned crlf", "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\n" + h + " *a.iso\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nx\r\n-----END PGP SIGNATURE-----\r\n", "sha256", "a.iso", h, ""},
		{"missing entry", "SHA256 (b.iso) = " + h + "\n", "sha256", "a.iso", "", `no sha256 entry for "a.iso"`},
		{"only other algorithm", "SHA512 (a.iso) = " + h512 + "\n", "sha256", "a.iso", "", "no sha256 entries"},
		{"bad algorithm", h + "  a.iso\n", "md5", "a.iso", "", "unsupported checksum algorithm"},
		{"garbage", "<html>404 Not Found</html>\n", "sha256", "a.iso", "", "no sha256 entries"},
		{"empty", "", "sha256", "a.iso", "", "no sha256 entries"},
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

func TestClearsignedBody(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not clearsigned", "abc  x\n", "abc  x\n"},
		{"headers and signature stripped", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nline\n-----BEGIN PGP SIGNATURE-----\nsig\n-----END PGP SIGNATURE-----\n", "line\n\n"},
		{"dash-escaped", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n- -----x\n-----BEGIN PGP SIGNATURE-----\n", "-----x\n\n"},
		{"crlf", "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nline\r\n-----BEGIN PGP SIGNATURE-----\r\n", "line\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(ClearsignedBody([]byte(tc.in))); got != tc.want {
				t.Fatalf("ClearsignedBody = %q, want %q", got, tc.want)
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
