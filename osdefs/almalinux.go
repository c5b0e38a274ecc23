package osdefs

func init() {
	registerWithReplica(el9Definition(Definition{
		ID:      "almalinux-9",
		Aliases: []string{"almalinux", "alma", "alma9", "almalinux9"},
		Name:    "AlmaLinux 9",
		// The minimal ISO (about 2 GB), as for Rocky, not the DVD (15.15 GB for 9.8): the DVD alone is
		// more than a GitHub-hosted runner's 14 GB disk and than the 10 GB Actions cache that keeps
		// installers between runs. The minimal ISO installs @^minimal-environment offline; what the
		// kickstart asks beyond it (cloud-init, cloud-utils-growpart, wget) is skipped by
		// %packages --ignoremissing and installed by cloudstack.sh with dnf from AlmaLinux's
		// repositories, which refuses to finish without them. Same signed CHECKSUM as the DVD.
		Source: Source{
			URL:         "https://repo.almalinux.org/almalinux/9.8/isos/x86_64/AlmaLinux-9.8-x86_64-minimal.iso",
			ChecksumURL: "https://repo.almalinux.org/almalinux/9.8/isos/x86_64/CHECKSUM",
			Algorithm:   "sha256",
			// CHECKSUM is clearsigned (BSD "SHA256 (file) = hex" lines) with the AlmaLinux OS 9 key;
			// https://almalinux.org/security/ publishes its fingerprint.
			Signing:    SigningClearsigned,
			SigningKey: KeyAlmaLinux9,
			Note: "AlmaLinux keeps only the current 9.x under repo.almalinux.org/almalinux/9.x/ (9/ is a symlink " +
				"to it, and AlmaLinux-9-latest-x86_64-minimal.iso a symlink to the current ISO). When 9.9 ships, 9.8 moves " +
				"to https://vault.almalinux.org/9.8/isos/x86_64/ (same file names, same signed CHECKSUM): change the " +
				"host or bump the version in both URLs. No pinned digest: the signed CHECKSUM is the trust anchor.",
		},
		// CloudStack 4.18+ (schema-41720to41800.sql: ADD_GUEST_OS_AND_HYPERVISOR_MAPPING (1, 'AlmaLinux 9', ...)).
		CloudStackOSType: "AlmaLinux 9",
	}, ""))
}
