package osdefs

func init() {
	registerWithReplica(el9Definition(Definition{
		ID:      "rocky-9",
		Aliases: []string{"rocky", "rockylinux", "rocky9", "rockylinux-9"},
		Name:    "Rocky Linux 9",
		Source: Source{
			// The minimal ISO (2.2 GB) instead of the 10 GB DVD: its repository lacks some of the
			// kickstart's extras, which %packages --ignoremissing tolerates and cloudstack.sh installs.
			URL:         "https://dl.rockylinux.org/vault/rocky/9.6/isos/x86_64/Rocky-9.6-x86_64-minimal.iso",
			ChecksumURL: "https://dl.rockylinux.org/vault/rocky/9.6/isos/x86_64/CHECKSUM",
			Algorithm:   "sha256",
			// Rocky publishes CHECKSUM (BSD lines, "# file: N bytes" comments) without a signature on the
			// ISO directory, so the digest of the pinned ISO is the trust anchor. It is the value Rocky's
			// CHECKSUM gave for Rocky-9.6-x86_64-minimal.iso (2252013568 bytes); it also served as
			// Rocky-9-latest-x86_64-minimal.iso while 9.6 was current.
			Signing:      SigningNone,
			PinnedDigest: "aed9449cf79eb2d1c365f4f2561f923a80451b3e8fdbf595889b4cf0ac6c58b8",
			Note: "Pinned to 9.6 in Rocky's vault, which never changes. The current point release lives at " +
				"https://download.rockylinux.org/pub/rocky/9/isos/x86_64/ (Rocky-9-latest-x86_64-minimal.iso is its " +
				"alias) and moves to https://dl.rockylinux.org/vault/rocky/9.N/ when superseded. To move on, change " +
				"URL, ChecksumURL and PinnedDigest together, taking the digest from CHECKSUM over HTTPS.",
		},
		// CloudStack 4.18+ (schema-41720to41800.sql: ADD_GUEST_OS_AND_HYPERVISOR_MAPPING (1, 'Rocky Linux 9', ...)).
		CloudStackOSType: "Rocky Linux 9",
	}, ""))
}
