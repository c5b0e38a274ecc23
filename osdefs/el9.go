package osdefs

// EL9 covers the Enterprise Linux 9 rebuilds (AlmaLinux, Rocky Linux, CentOS Stream). They share the
// installer (Anaconda), the kickstart in files/el9/ks.cfg, the BIOS boot menu (isolinux on EL9 ISOs)
// and the build sizing; only the source and the CloudStack OS type differ.

// el9BootCommand edits the isolinux entry of an EL9 ISO: <up> moves from the default "Test this media
// & install" to "Install", <tab> opens its kernel command line, and the kickstart is appended. The
// serial console lets the build log show Anaconda's text UI. extra is appended verbatim (for example
// an inst.repo= for boot ISOs that carry no packages). Same keys as chef/bento's el9 pkrvars.
func el9BootCommand(extra string) []string {
	return []string{
		"<wait><up><wait><tab><wait>",
		" inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg console=tty0 console=ttyS0,115200n8" + extra,
		"<enter><wait>",
	}
}

// el9Definition fills in what every EL9 definition shares. bootExtra is appended to the kernel command
// line: a boot ISO that carries no packages passes its network repository there.
func el9Definition(d Definition, bootExtra string) Definition {
	d.Family = "el"
	d.Version = "9"
	d.BootCommand = el9BootCommand(bootExtra)
	d.BootWait = "10s"
	d.HTTPDir = "el9"
	// Must match rootpw/user in files/el9/ks.cfg.
	d.SSHUsername = "root"
	d.SSHPassword = "packer"
	d.SSHTimeout = "60m"
	d.DiskSize = "10G"
	d.MemoryMB = 2048
	d.CPUs = 2
	d.ShutdownCommand = "shutdown -P now"
	d.Provisioners = []string{"cloudstack.sh", "cleanup.sh"}
	d.PasswordEnabled = true
	return d
}
