package osdefs

import (
	"crypto/sha256"
	"encoding/hex"
)

// synth256 makes obviously synthetic digests (the hash of a label) for line-shape tests, so no
// test presents an invented value as a vendor's real digest.
func synth256(label string) string {
	s := sha256.Sum256([]byte(label))
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

// Samples in the exact layout of each vendor's file, for the signature tests (the checksum package
// has its own copies for the grammar's tests: test files cannot share across packages).
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
