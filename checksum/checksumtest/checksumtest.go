// Package checksumtest holds vendors' checksum files as they are laid out, for the tests of the
// packages that read them (checksum's grammar, osdefs' signature checks): one copy of each sample.
package checksumtest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
)

// Synth256 makes an obviously synthetic SHA-256 digest (the hash of a label) for line-shape tests,
// so no test presents an invented value as a vendor's real digest.
func Synth256(label string) string { return synth(sha256.New, label) }

// Synth512 is Synth256's SHA-512 twin, for the tests of 128-character digests.
func Synth512(label string) string { return synth(sha512.New, label) }

// synth hex-encodes the digest of label under the hash newHash makes.
func synth(newHash func() hash.Hash, label string) string {
	h := newHash()
	h.Write([]byte(label))
	return hex.EncodeToString(h.Sum(nil))
}

// Real digests, as the vendors' checksum files list them (the osdefs definitions pin them), and the
// files they are listed for.
const (
	Rocky96MinimalSHA256   = "aed9449cf79eb2d1c365f4f2561f923a80451b3e8fdbf595889b4cf0ac6c58b8"
	Fedora41DVDSHA256      = "6037e489103401a6ad4e54a4bcb2df7525693bdc3f2ce4aa895838b65647e551"
	Centos9BootSHA256      = "b71655013db15ee78c204fb3401387ac933fbfc153c6bd7a82d24d5ebd0a7b0c"
	Alma91DVDSHA256        = "2a44e3f8a012c132da19b9aae2bf949e20b116f0a2a7ac3eca111972f4ac952f" // almalinux.org ISO verification guide
	UbuntuServerISO        = "ubuntu-22.04.5-live-server-amd64.iso"
	FedoraServerDVD        = "Fedora-Server-dvd-x86_64-41-1.4.iso"
	RockyMinimalISO        = "Rocky-9.6-x86_64-minimal.iso"
	CentosStreamBootISO    = "CentOS-Stream-9-20250303.0-x86_64-boot.iso"
	AlmaDVDISO             = "AlmaLinux-9.1-x86_64-dvd.iso"
	UbuntuDesktopISO       = "ubuntu-22.04.5-desktop-amd64.iso"
	FedoraServerNetinstISO = "Fedora-Server-netinst-x86_64-41-1.4.iso"
)

// Samples in the exact layout of each vendor's checksum file.
var (
	// releases.ubuntu.com/22.04/SHA256SUMS: GNU coreutils, binary-mode marker.
	UbuntuSHA256SUMS = Synth256("desktop") + " *" + UbuntuDesktopISO + "\n" +
		Synth256("server") + " *" + UbuntuServerISO + "\n"

	// AlmaLinux isos/x86_64/CHECKSUM: BSD lines with "# file: N bytes" comments.
	AlmaCHECKSUM = "# AlmaLinux-9.1-x86_64-boot.iso: 864026624 bytes\n" +
		"SHA256 (AlmaLinux-9.1-x86_64-boot.iso) = " + Synth256("alma-boot") + "\n" +
		"# " + AlmaDVDISO + ": 9473888256 bytes\n" +
		"SHA256 (" + AlmaDVDISO + ") = " + Alma91DVDSHA256 + "\n"

	// Fedora-Server-41-1.4-x86_64-CHECKSUM: BSD lines, "# file: N bytes" comments.
	FedoraCHECKSUM = "# " + FedoraServerDVD + ": 2612854784 bytes\n" +
		"SHA256 (" + FedoraServerDVD + ") = " + Fedora41DVDSHA256 + "\n" +
		"# " + FedoraServerNetinstISO + ": 1036541952 bytes\n" +
		"SHA256 (" + FedoraServerNetinstISO + ") = " + Synth256("fedora-netinst") + "\n"

	// Rocky isos/x86_64/CHECKSUM: BSD lines with "# file: N bytes" comments (2252013568 is the real size).
	RockyCHECKSUM = "# Rocky-9.6-x86_64-boot.iso: 1150681088 bytes\n" +
		"SHA256 (Rocky-9.6-x86_64-boot.iso) = " + Synth256("rocky-boot") + "\n" +
		"# " + RockyMinimalISO + ": 2252013568 bytes\n" +
		"SHA256 (" + RockyMinimalISO + ") = " + Rocky96MinimalSHA256 + "\n"

	// CentOS Stream <iso>.SHA256SUM: one BSD line with its size comment.
	CentosSHA256SUM = "# " + CentosStreamBootISO + ": 1243545600 bytes\n" +
		"SHA256 (" + CentosStreamBootISO + ") = " + Centos9BootSHA256 + "\n"
)
