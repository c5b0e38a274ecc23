package osdefs

func init() {
	registerWithReplica(Definition{
		ID:      "fedora-41",
		Aliases: []string{"fedora", "fedora41", "fedora-server-41"},
		Name:    "Fedora 41 Server",
		Version: "41",
		Family:  "fedora",
		Source: Source{
			// The Server DVD: Fedora 41 is end-of-life, so an install that needs the network repositories
			// (netinst) would depend on archive mirrors; the DVD is self-contained.
			URL:         "https://archives.fedoraproject.org/pub/archive/fedora/linux/releases/41/Server/x86_64/iso/Fedora-Server-dvd-x86_64-41-1.4.iso",
			ChecksumURL: "https://archives.fedoraproject.org/pub/archive/fedora/linux/releases/41/Server/x86_64/iso/Fedora-Server-41-1.4-x86_64-CHECKSUM",
			Algorithm:   "sha256",
			// The CHECKSUM is clearsigned by the Fedora 41 key (https://fedoraproject.org/security) and
			// uses BSD lines with "# file: N bytes" comments.
			Signing:    SigningClearsigned,
			SigningKey: KeyFedora41,
			// Fedora 41 is frozen, so pinning costs nothing and guards against a key compromise after
			// the fact. Same value as chef/bento's fedora-41-x86_64.pkrvars.hcl.
			PinnedDigest: "6037e489103401a6ad4e54a4bcb2df7525693bdc3f2ce4aa895838b65647e551",
			Note: "While Fedora 41 was supported the same files were under " +
				"https://download.fedoraproject.org/pub/fedora/linux/releases/41/Server/x86_64/iso/; end-of-life " +
				"releases move to archives.fedoraproject.org/pub/archive/ and stay there. Fedora has no point " +
				"releases; the compose suffix (-1.4) only changes for a respin.",
		},
		// Fedora 41 ISOs boot BIOS through GRUB 2: "e" edits the highlighted "Install Fedora 41" entry,
		// <down><down><end> reaches the end of its linux line, and F10 boots (keys as chef/bento's
		// fedora-41 pkrvars).
		BootCommand: []string{
			"<wait><up>e<wait><down><down><end>",
			" inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg console=tty0 console=ttyS0,115200n8",
			"<f10><wait>",
		},
		BootWait:    "10s",
		HTTPDir:     "fedora",
		SSHUsername: "root",
		SSHPassword: "packer", // matches rootpw in files/fedora/ks.cfg
		SSHTimeout:  "60m",
		DiskSize:    "10G",
		MemoryMB:    2048,
		CPUs:        2,
		// CloudStack lists no Fedora release newer than its old "Fedora NN" entries; Fedora 41 guests are
		// registered as generic 64-bit Linux.
		CloudStackOSType: "Other Linux (64-bit)",
		ShutdownCommand:  "shutdown -P now",
		Provisioners:     []string{"cloudstack.sh", "cleanup.sh"},
		PasswordEnabled:  true,
	})
}
