package osdefs

func init() {
	registerWithReplica(Definition{
		ID:      "ubuntu-22.04",
		Aliases: []string{"ubuntu", "jammy", "ubuntu-jammy", "ubuntu2204"},
		Name:    "Ubuntu 22.04 LTS",
		Version: "22.04",
		Family:  "ubuntu",
		Source: Source{
			URL:         "https://releases.ubuntu.com/22.04/ubuntu-22.04.5-live-server-amd64.iso",
			ChecksumURL: "https://releases.ubuntu.com/22.04/SHA256SUMS",
			Algorithm:   "sha256",
			// SHA256SUMS ("hex *file" lines) carries a detached signature, SHA256SUMS.gpg, by the Ubuntu
			// CD Image Automatic Signing Key (2012) (https://ubuntu.com/tutorials/how-to-verify-ubuntu).
			Signing:      SigningDetached,
			SignatureURL: "https://releases.ubuntu.com/22.04/SHA256SUMS.gpg",
			SigningKey:   KeyUbuntu,
			Note: "releases.ubuntu.com/22.04/ holds the newest point release only (22.04.5 is the last planned " +
				"one); superseded ISOs move to https://old-releases.ubuntu.com/releases/22.04.N/ with their own " +
				"SHA256SUMS and SHA256SUMS.gpg. Change the file name (and the host, if it moved) in all three URLs.",
		},
		// 22.04 live-server boots BIOS through GRUB: "c" opens its command line, where the kernel is
		// started by hand with the autoinstall and NoCloud-over-HTTP arguments (the ";" in ds= is
		// escaped: GRUB splits commands at a bare ";"). The commands chef/bento's ubuntu-22.04 types,
		// but on one line: keys typed while GRUB reads the kernel from the CD wait in the BIOS's
		// 15-key buffer, and under a loaded TCG host that read outlasts a <wait>, so the initrd line
		// lost keys and the kernel started without it ("VFS: Unable to mount root fs").
		BootCommand: []string{
			"<wait>c<wait>",
			"linux /casper/vmlinuz autoinstall ds=nocloud-net\\;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ console=tty0 console=ttyS0,115200n8 --- ; " +
				"initrd /casper/initrd ; boot<enter>",
		},
		BootWait: "5s",
		HTTPDir:  "ubuntu-22.04",
		// Must match identity in files/ubuntu-22.04/user-data. Subiquity creates no root password, so the
		// build logs in as this sudoer; cleanup.sh locks its password.
		SSHUsername: "packer",
		SSHPassword: "packer",
		SSHTimeout:  "60m",
		DiskSize:    "10G",
		// Subiquity runs from a RAM-backed live system; below ~3 GB the install can fail.
		MemoryMB:         3072,
		CPUs:             2,
		ShutdownCommand:  "shutdown -P now",
		CloudStackOSType: "Ubuntu 22.04 LTS",
		Provisioners:     []string{"cloudstack.sh", "cleanup.sh"},
		PasswordEnabled:  true,
	})
}
