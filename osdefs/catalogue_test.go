package osdefs

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/guest"
)

// The catalogue the issue asks for: every OS, with the names users type and what CloudStack calls it.
// The CloudStack names are guest OS display names from CloudStack's schema upgrades (4.18 added the
// EL9 rebuilds; Ubuntu 22.04 LTS since 4.17); Fedora 41 has no entry of its own.
var wantCatalogue = []struct {
	id, alias, osType, httpDir string
	signing                    Signing
	key                        string
}{
	{"almalinux-9", "alma", "AlmaLinux 9", "el9", SigningClearsigned, KeyAlmaLinux9},
	{"centos-stream-9", "centos-stream", "CentOS 9", "el9", SigningNone, ""},
	{"fedora-41", "fedora", "Other Linux (64-bit)", "fedora", SigningClearsigned, KeyFedora41},
	{"rocky-9", "rocky", "Rocky Linux 9", "el9", SigningNone, ""},
	{"testbed", "fixture", "Debian GNU/Linux 12 (64-bit)", "", SigningNone, ""},
	{"testbed-3g", "testbed-3g", "Debian GNU/Linux 12 (64-bit)", "", SigningNone, ""},
	{"testbed-4g", "testbed-4g", "Debian GNU/Linux 12 (64-bit)", "", SigningNone, ""},
	{"ubuntu-22.04", "jammy", "Ubuntu 22.04 LTS", "ubuntu-22.04", SigningDetached, KeyUbuntu},
}

func TestCatalogue(t *testing.T) {
	if got := strings.Join(IDs(), ","); got != "almalinux-9,almalinux-9-fixture,centos-stream-9,centos-stream-9-fixture,fedora-41,fedora-41-fixture,rocky-9,rocky-9-fixture,testbed,testbed-3g,testbed-4g,ubuntu-22.04,ubuntu-22.04-fixture" {
		t.Fatalf("IDs() = %s", got)
	}
	for _, w := range wantCatalogue {
		t.Run(w.id, func(t *testing.T) {
			d, err := Lookup(strings.ToUpper(w.alias))
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != w.id {
				t.Fatalf("alias %s resolves to %s, want %s", w.alias, d.ID, w.id)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if d.CloudStackOSType != w.osType {
				t.Errorf("CloudStackOSType = %q, want %q", d.CloudStackOSType, w.osType)
			}
			if d.HTTPDir != w.httpDir {
				t.Errorf("HTTPDir = %q, want %q", d.HTTPDir, w.httpDir)
			}
			if d.Source.Signing != w.signing || d.Source.SigningKey != w.key {
				t.Errorf("signing = %s/%s, want %s/%s", d.Source.Signing, d.Source.SigningKey, w.signing, w.key)
			}
		})
	}
}

func TestSources(t *testing.T) {
	for _, d := range All() {
		t.Run(d.ID, func(t *testing.T) {
			s := d.Source
			if !d.Fixture && (!strings.HasPrefix(s.URL, "https://") || !strings.HasPrefix(s.ChecksumURL, "https://")) {
				t.Errorf("vendor downloads must use https: %s, %s", s.URL, s.ChecksumURL)
			}
			if s.Note == "" {
				t.Error("Source.Note must say how the URL moves between releases")
			}
			if s.PinnedDigest != "" {
				if got, err := checksum.Normalize(s.Algorithm, s.PinnedDigest); err != nil || got != s.PinnedDigest {
					t.Errorf("PinnedDigest %q is not a lower-case %s digest: %v", s.PinnedDigest, s.Algorithm, err)
				}
			}
			if s.Signing == SigningDetached && !strings.HasSuffix(s.SignatureURL, ".gpg") {
				t.Errorf("SignatureURL %q", s.SignatureURL)
			}
			if !d.Fixture && !strings.HasSuffix(s.FileName(), ".iso") {
				t.Errorf("installer file %q is not an ISO", s.FileName())
			}
		})
	}
}

func TestProvisionersExist(t *testing.T) {
	for _, d := range All() {
		if got := strings.Join(d.Provisioners, ","); got != "cloudstack.sh,cleanup.sh" {
			t.Errorf("%s: provisioners %s, want cloudstack.sh then cleanup.sh", d.ID, got)
		}
		for _, p := range d.Provisioners {
			if _, err := fs.Stat(guest.Scripts, p); err != nil {
				t.Errorf("%s: provisioner %s is not in scripts/guest: %v", d.ID, p, err)
			}
		}
	}
}

func TestHTTPFiles(t *testing.T) {
	want := map[string][]string{
		"ubuntu-22.04":    {"user-data", "meta-data"},
		"almalinux-9":     {"ks.cfg"},
		"rocky-9":         {"ks.cfg"},
		"centos-stream-9": {"ks.cfg"},
		"fedora-41":       {"ks.cfg"},
	}
	for id, files := range want {
		t.Run(id, func(t *testing.T) {
			d, err := Lookup(id)
			if err != nil {
				t.Fatal(err)
			}
			fsys, err := HTTPFiles(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if b, err := fs.ReadFile(fsys, f); err != nil || len(b) == 0 {
					t.Errorf("%s: %v (%d bytes)", f, err, len(b))
				}
			}
			// The boot command must fetch the file that is served.
			cmd := strings.Join(d.BootCommand, "")
			// Only the package-less boot ISO installs from the network.
			if wantRepo := id == "centos-stream-9"; wantRepo != strings.Contains(cmd, "inst.repo=https://") {
				t.Errorf("inst.repo in boot command = %v, want %v: %q", !wantRepo, wantRepo, cmd)
			}
			if d.Family == "ubuntu" {
				if !strings.Contains(cmd, "ds=nocloud-net\\;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/") || !strings.Contains(cmd, "autoinstall") {
					t.Errorf("boot command does not point the installer at the NoCloud seed: %q", cmd)
				}
			} else if !strings.Contains(cmd, "inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg") || !strings.Contains(cmd, "inst.text") || !strings.Contains(cmd, "console=ttyS0") {
				t.Errorf("boot command does not load the kickstart in text mode on the serial console: %q", cmd)
			}
		})
	}
	tb, _ := Lookup("testbed")
	if _, err := HTTPFiles(tb); err == nil {
		t.Error("the testbed serves no install files; HTTPFiles must say so")
	}
	if _, err := HTTPFiles(Definition{ID: "x", HTTPDir: "../keys"}); err == nil {
		t.Error("HTTPFiles must refuse paths outside files/")
	}
	if _, err := HTTPFiles(Definition{ID: "x", HTTPDir: "nonexistent"}); err == nil {
		t.Error("HTTPFiles must refuse a missing directory")
	}
}

func TestRenderPacker(t *testing.T) {
	for _, d := range All() {
		t.Run(d.ID, func(t *testing.T) {
			hcl, err := RenderPacker(d)
			if err != nil {
				t.Fatal(err)
			}
			s := string(hcl)
			testcheck.ContainsAll(t, "rendered template", s,
				"accelerator      = var.accelerator",
				"headless         = var.headless",
				`vm_name          = "`+d.ID+`.qcow2"`,
				`"CST_OS_ID=`+d.ID+`"`,
				`"${var.scripts_dir}/cloudstack.sh",`,
				`"${var.scripts_dir}/cleanup.sh",`,
				`ssh_username     = "`+d.SSHUsername+`"`,
			)
			if strings.Index(s, "cloudstack.sh") > strings.Index(s, "cleanup.sh") {
				t.Error("cleanup.sh must run after cloudstack.sh")
			}
			if (d.HTTPDir != "") != strings.Contains(s, "http_directory   = var.http_dir") {
				t.Error("http_directory must be set exactly when the OS serves install files")
			}
		})
	}
}

// Only the testbed images come from the module's own testbed mirror: a replica or a vendor OS given no
// mirror must not be sent there.
func TestServedByTestbed(t *testing.T) {
	testbeds := map[string]bool{"testbed": true, "testbed-3g": true, "testbed-4g": true}
	replicas := map[string]bool{"ubuntu-22.04-fixture": true, "almalinux-9-fixture": true, "rocky-9-fixture": true,
		"centos-stream-9-fixture": true, "fedora-41-fixture": true}
	for _, d := range All() {
		if got := d.ServedByTestbed(); got != testbeds[d.ID] {
			t.Errorf("%s: ServedByTestbed() = %v, want %v (installer %s)", d.ID, got, testbeds[d.ID], d.Source.URL)
		}
		// What the module builds and serves itself: the testbeds and the replicas, never a vendor OS.
		if got, want := d.BuiltByModule(), testbeds[d.ID] || replicas[d.ID]; got != want {
			t.Errorf("%s: BuiltByModule() = %v, want %v (installer %s)", d.ID, got, want, d.Source.URL)
		}
	}
	for _, set := range []map[string]bool{testbeds, replicas} {
		for id := range set {
			if _, err := Lookup(id); err != nil {
				t.Errorf("%s is not in the catalogue: %v", id, err)
			}
		}
	}
}
