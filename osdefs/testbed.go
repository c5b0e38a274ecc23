package osdefs

// The testbed is a small Debian 12 guest that scripts/testbed.sh builds offline (debootstrap,
// mke2fs -d, extlinux). It goes through exactly the same pipeline as the vendor OSes, booting from a
// disk image instead of an installer ISO, so the whole chain can be proven where vendor ISOs cannot be
// downloaded. Without --mirror the module builds it in the engine (the `testbed` function) and serves
// it under TestbedMirror itself; a host copy is served with `scripts/testbed.sh serve` and
// `--mirror http://testbed-mirror:8383 --mirror-service tcp://localhost:8383`.
//
// Two variants grow the same image to a larger disk (Packer resizes it, cloud-init grows the root
// file system on first boot): three fixtures let build-all's fan-out be exercised and measured offline.
func init() {
	register(testbed("testbed", []string{"fixture", "debian-testbed"}, "2G", "Testbed (Debian 12 fixture)"))
	register(testbed("testbed-3g", nil, "3G", "Testbed (Debian 12 fixture, 3 GiB disk)"))
	register(testbed("testbed-4g", nil, "4G", "Testbed (Debian 12 fixture, 4 GiB disk)"))
}

func testbed(id string, aliases []string, disk, name string) Definition {
	return Definition{
		ID:      id,
		Aliases: aliases,
		Name:    name,
		Version: "12",
		Family:  "debian",
		Fixture: true,
		Source: Source{
			URL:         TestbedMirror + "/" + TestbedImage,
			ChecksumURL: TestbedMirror + "/SHA256SUMS",
			Algorithm:   "sha256",
			Signing:     SigningNone,
			Note:        "built locally by scripts/testbed.sh; its digest changes with every rebuild, so it is not pinned",
		},
		DiskImage:        true,
		BootWait:         "1s",
		SSHUsername:      "root",
		SSHPassword:      "packer",
		SSHTimeout:       "10m",
		DiskSize:         disk,
		MemoryMB:         1024,
		CPUs:             2,
		ShutdownCommand:  "poweroff",
		CloudStackOSType: "Debian GNU/Linux 12 (64-bit)",
		Provisioners:     []string{"cloudstack.sh", "cleanup.sh"},
		PasswordEnabled:  true,
	}
}

// TestbedImage is the testbed's file name, as scripts/testbed.sh writes it.
const TestbedImage = "testbed-bookworm.qcow2"

// ServedByTestbed says whether d's installer is the testbed image the module can build and serve itself.
func (d Definition) ServedByTestbed() bool {
	return d.Source.URL == TestbedMirror+"/"+TestbedImage
}

// BuiltByModule says whether the module builds and serves d's installer itself when given no mirror:
// the testbed image and the installer replicas, which need neither a vendor site nor a mirror.
func (d Definition) BuiltByModule() bool {
	return d.ServedByTestbed() || d.IsReplica()
}

// TestbedMirror is where a build finds the testbed when given no mirror: the module serves it there
// itself (its testbed function's output, under this host name and port). A host copy served with
// `scripts/testbed.sh serve` is passed with --mirror http://testbed-mirror:PORT and --mirror-service.
const TestbedMirror = "http://testbed-mirror:8383"
