package osdefs

// centosStream9Repo is the BaseOS tree Anaconda installs from: the boot ISO carries only the installer.
// Anaconda reads AppStream from the tree's .treeinfo.
const centosStream9Repo = "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os/"

func init() {
	registerWithReplica(el9Definition(Definition{
		ID:      "centos-stream-9",
		Aliases: []string{"centos-stream", "centos", "centos9", "centos-9", "stream9"},
		Name:    "CentOS Stream 9",
		Source: Source{
			// A dated compose rather than CentOS-Stream-9-latest-x86_64-boot.iso: "latest" is
			// re-pointed at every compose, and an unsigned source must pin its digest.
			URL:         "https://composes.stream.centos.org/production/CentOS-Stream-9-20250303.0/compose/BaseOS/x86_64/iso/CentOS-Stream-9-20250303.0-x86_64-boot.iso",
			ChecksumURL: "https://composes.stream.centos.org/production/CentOS-Stream-9-20250303.0/compose/BaseOS/x86_64/iso/CentOS-Stream-9-20250303.0-x86_64-boot.iso.SHA256SUM",
			Algorithm:   "sha256",
			// CentOS Stream publishes <iso>.SHA256SUM (BSD "SHA256 (file) = hex") with no OpenPGP
			// signature, so the pinned digest is the trust anchor.
			Signing:      SigningNone,
			PinnedDigest: "b71655013db15ee78c204fb3401387ac933fbfc153c6bd7a82d24d5ebd0a7b0c",
			Note: "CentOS Stream has no point releases: a compose (CentOS-Stream-9-YYYYMMDD.N) is published every " +
				"week or two and mirror.stream.centos.org/9-stream/BaseOS/x86_64/iso/ keeps only recent ones, so the " +
				"URL points at the compose tree on composes.stream.centos.org. To move on, pick a compose, copy its " +
				"boot ISO digest from the .SHA256SUM beside it, and change URL, ChecksumURL and PinnedDigest together. " +
				"Packages always come from the current Stream repository (inst.repo), whatever the boot ISO's date.",
		},
		// CloudStack 4.18+ lists Stream 9 as 'CentOS 9' (schema-41720to41800.sql).
		CloudStackOSType: "CentOS 9",
	}, " inst.repo="+centosStream9Repo))
}
