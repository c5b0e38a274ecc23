package installer

import (
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

const (
	passwd = "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n"
	shadow = "root:$6$old$hash:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nbin:!:19000::::::\n"
	group  = "root:x:0:\nsudo:x:27:\n"
)

func TestLockAll(t *testing.T) {
	got := LockAll(shadow)
	want := "root:!:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nbin:!:19000::::::\n"
	if got != want {
		t.Fatalf("LockAll = %q, want %q", got, want)
	}
}

func TestApply(t *testing.T) {
	files := Files{Passwd: passwd, Shadow: LockAll(shadow), Group: group}
	tests := []struct {
		name     string
		a        Account
		uid      int
		passwdLn string
		shadowLn string
		groupLn  string
		wantErr  string
	}{
		{"root password", Account{User: "root"}, 0, "root:x:0:0:root:/root:/bin/bash", "root:H:20000:0:99999:7:::", "sudo:x:27:", ""},
		{"new sudo user", Account{User: "packer", Sudo: true}, 1000, "packer:x:1000:1000:packer:/home/packer:/bin/bash", "packer:H:20000:0:99999:7:::", "sudo:x:27:packer", ""},
		{"bad name", Account{User: "a:b"}, 0, "", "", "", "invalid user name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, uid, _, err := Apply(files, tc.a, "H", 20000)
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			if uid != tc.uid {
				t.Fatalf("Apply = uid %d, want %d", uid, tc.uid)
			}
			for _, c := range []struct{ file, line string }{{got.Passwd, tc.passwdLn}, {got.Shadow, tc.shadowLn}, {got.Group, tc.groupLn}} {
				if !strings.Contains("\n"+c.file, "\n"+c.line+"\n") {
					t.Errorf("missing line %q in:\n%s", c.line, c.file)
				}
			}
			if strings.Count(got.Shadow, tc.a.User+":") != 1 {
				t.Errorf("%s has more or less than one shadow entry:\n%s", tc.a.User, got.Shadow)
			}
		})
	}
	// No sudo group: refused rather than a user who cannot run the provisioners.
	if _, _, _, err := Apply(Files{Passwd: passwd, Shadow: shadow, Group: "root:x:0:\n"}, Account{User: "u", Sudo: true}, "H", 1); err == nil {
		t.Error("a sudo account without a sudo group was accepted")
	}
}

func TestSetHostsName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1\tlocalhost\n127.0.1.1\ttestbed\n::1\tlocalhost\n", "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tubuntu-2204\n"},
		{"127.0.0.1 localhost\n", "127.0.0.1 localhost\n127.0.1.1\tubuntu-2204\n"},
		{"", "127.0.1.1\tubuntu-2204\n"},
	} {
		if got := SetHostsName(tc.in, "ubuntu-2204"); got != tc.want {
			t.Errorf("SetHostsName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
