package installer

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name, line string
		want       Cmdline
		wantErr    string
	}{
		{"el9 kickstart", "BOOT_IMAGE=vmlinuz initrd=initrd.img inst.stage2=hd:LABEL=Rocky-9-6-x86_64-dvd quiet inst.text inst.ks=http://10.0.2.2:8805/ks.cfg console=ttyS0,115200n8",
			Cmdline{Mode: ModeKickstart, ConfigURLs: []string{"http://10.0.2.2:8805/ks.cfg"}}, ""},
		{"centos network repo", "inst.ks=http://10.0.2.2:1/ks.cfg inst.repo=http://10.0.2.2:1/",
			Cmdline{Mode: ModeKickstart, ConfigURLs: []string{"http://10.0.2.2:1/ks.cfg"}, RepoURL: "http://10.0.2.2:1/"}, ""},
		{"local repo is not fetched", "inst.ks=http://h/ks.cfg inst.repo=cdrom",
			Cmdline{Mode: ModeKickstart, ConfigURLs: []string{"http://h/ks.cfg"}}, ""},
		{"ubuntu autoinstall", "BOOT_IMAGE=/casper/vmlinuz autoinstall ds=nocloud-net;s=http://10.0.2.2:8100/ console=ttyS0,115200n8 ---",
			Cmdline{Mode: ModeAutoinstall, ConfigURLs: []string{"http://10.0.2.2:8100/user-data", "http://10.0.2.2:8100/meta-data"}}, ""},
		{"seed without slash", "autoinstall ds=nocloud-net;s=http://h:1/seed",
			Cmdline{Mode: ModeAutoinstall, ConfigURLs: []string{"http://h:1/seed/user-data", "http://h:1/seed/meta-data"}}, ""},
		{"menu default entry, nothing typed", "BOOT_IMAGE=vmlinuz initrd=initrd.img inst.stage2=hd:LABEL=X rd.live.check quiet", Cmdline{},
			"no inst.ks= and no autoinstall on the kernel command line"},
		{"kickstart from the CD", "inst.ks=hd:LABEL=X:/ks.cfg", Cmdline{}, `inst.ks="hd:LABEL=X:/ks.cfg" is not an http:// URL`},
		{"datasource without autoinstall", "ds=nocloud-net;s=http://h/", Cmdline{}, "without autoinstall"},
		{"autoinstall without datasource", "autoinstall ---", Cmdline{}, "without ds=nocloud-net"},
		{"other datasource", "autoinstall ds=ec2", Cmdline{}, `ds="ec2" is not the NoCloud datasource`},
		{"no seed", "autoinstall ds=nocloud-net", Cmdline{}, "has no http:// seed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCmdline(tc.line)
			testcheck.Result(t, "ParseCmdline", got, err, tc.want, tc.wantErr)
		})
	}
}

func TestCheckKickstart(t *testing.T) {
	base := "text\nrootpw --plaintext packer\n%packages\n@^minimal-environment\n%end\n"
	tests := []struct {
		name, ks string
		want     []Account
		wantErr  string
	}{
		{"plaintext", base, []Account{{User: "root", Password: "packer"}}, ""},
		{"crypted", strings.Replace(base, "--plaintext packer", "--iscrypted $6$s$h", 1), []Account{{User: "root", Hash: "$6$s$h"}}, ""},
		{"post section is not read for commands", base + "%post\nrootpw --plaintext other\n%end\n", []Account{{User: "root", Password: "packer"}}, ""},
		{"no packages", "rootpw --plaintext packer\n", nil, "no %packages section"},
		{"no rootpw", "%packages\n%end\n", nil, "no rootpw"},
		{"locked root", "rootpw --lock\n%packages\n%end\n", nil, "rootpw --lock leaves the build no root login"},
		{"rootpw without a password", "rootpw --plaintext\n%packages\n%end\n", nil, "rootpw without a password"},
		{"unclosed section", "rootpw --plaintext p\n%packages\n", nil, "the %packages section has no %end"},
		{"nested section", "rootpw --plaintext p\n%packages\n%post\n%end\n", nil, "%post inside the %packages section"},
		{"stray end", "rootpw --plaintext p\n%end\n%packages\n%end\n", nil, "%end without an open section"},
		{"empty", "\n \n", nil, "the kickstart is empty"},
		{"html error page", "<html><body>404</body></html>\n", nil, "no %packages section"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CheckKickstart([]byte(tc.ks))
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			if !reflect.DeepEqual(p.Accounts, tc.want) {
				t.Fatalf("CheckKickstart = %+v, want %+v", p, tc.want)
			}
		})
	}
}

// The catalogue's own install configs pass, and give the logins the definitions build with.
func TestCatalogueConfigs(t *testing.T) {
	for _, f := range []string{"../osdefs/files/el9/ks.cfg", "../osdefs/files/fedora/ks.cfg"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := CheckKickstart(b)
		if err != nil || len(p.Accounts) != 1 || p.Accounts[0] != (Account{User: "root", Password: "packer"}) {
			t.Errorf("%s: %+v, %v", f, p, err)
		}
	}
	b, err := os.ReadFile("../osdefs/files/ubuntu-22.04/user-data")
	if err != nil {
		t.Fatal(err)
	}
	p, err := CheckUserData(b)
	if err != nil || len(p.Accounts) != 1 || p.Accounts[0].User != "packer" || !p.Accounts[0].Sudo || !strings.HasPrefix(p.Accounts[0].Hash, "$6$") || p.Hostname != "ubuntu-2204" {
		t.Errorf("user-data: %+v, %v", p, err)
	}
	m, err := os.ReadFile("../osdefs/files/ubuntu-22.04/meta-data")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMetaData(m); err != nil {
		t.Error(err)
	}
}

func TestCheckUserData(t *testing.T) {
	good := "#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: h\n    username: u\n    password: \"$6$x$y\"\n  late-commands:\n    - echo 'u ALL=(ALL) NOPASSWD:ALL' > /target/etc/sudoers.d/u\n"
	tests := []struct {
		name, ud string
		want     Account
		wantErr  string
	}{
		{"identity with sudo", good, Account{User: "u", Hash: "$6$x$y", Sudo: true}, ""},
		{"no sudo line", strings.Split(good, "  late-commands")[0], Account{User: "u", Hash: "$6$x$y"}, ""},
		{"not cloud-config", strings.TrimPrefix(good, "#cloud-config\n"), Account{}, "does not start with #cloud-config"},
		{"no autoinstall", "#cloud-config\nusers: []\n", Account{}, "no autoinstall: section"},
		{"no identity", "#cloud-config\nautoinstall:\n  version: 1\n", Account{}, "no identity with username and password"},
		{"plain password", strings.Replace(good, `"$6$x$y"`, "packer", 1), Account{}, "not a crypt(3) hash"},
		{"wrong version", strings.Replace(good, "version: 1", "version: 2", 1), Account{}, "autoinstall version is 2"},
		{"broken yaml", "#cloud-config\nautoinstall: [\n", Account{}, "not valid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CheckUserData([]byte(tc.ud))
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			if len(p.Accounts) != 1 || p.Accounts[0] != tc.want {
				t.Fatalf("CheckUserData = %+v, want %+v", p, tc.want)
			}
		})
	}
}
