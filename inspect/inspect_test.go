package inspect

import (
	"strings"
	"testing"
)

const goodGuest = `==cloud-init-bin
true
==cloudstack-cfg
# CloudStack
datasource_list: [ ConfigDrive, CloudStack, None ]
==ssh-dir
moduli
ssh_config
sshd_config
sshd_config.d
==machine-id-size
0
==udev-rules
==release
CST_OS_ID=testbed
==end
`

func TestOffline(t *testing.T) {
	tests := []struct {
		name       string
		out        string
		wantFailed []string
		evidence   string
	}{
		{"clean guest", goodGuest, nil, ""},
		{"host keys left", strings.Replace(goodGuest, "moduli\n", "moduli\nssh_host_ed25519_key\nssh_host_ed25519_key.pub\n", 1),
			[]string{"no SSH host keys"}, "ssh_host_ed25519_key ssh_host_ed25519_key.pub"},
		{"machine-id set", strings.Replace(goodGuest, "==machine-id-size\n0", "==machine-id-size\n33", 1),
			[]string{"machine-id empty"}, "/etc/machine-id size: 33"},
		{"no cloud-init", strings.Replace(strings.Replace(goodGuest, "==cloud-init-bin\ntrue", "==cloud-init-bin\nfalse", 1),
			"datasource_list: [ ConfigDrive, CloudStack, None ]\n", "", 1),
			[]string{"cloud-init installed", "CloudStack datasource configured"}, "no datasource_list line"},
		{"persistent net", strings.Replace(goodGuest, "==udev-rules\n", "==udev-rules\n70-persistent-net.rules\n", 1),
			[]string{"no persistent net rules"}, "70-persistent-net.rules"},
		{"provisioner did not run", strings.Replace(goodGuest, "CST_OS_ID=testbed\n", "", 1),
			[]string{"provisioner ran (release mark)"}, "/etc/cloudstack-template-release: missing"},
		{"unreadable", "libguestfs: error: no operating system", []string{"guest filesystem readable"}, "no operating system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := Offline(tt.out)
			var failed []string
			for _, c := range Failed(checks) {
				failed = append(failed, c.Name)
			}
			if strings.Join(failed, "|") != strings.Join(tt.wantFailed, "|") {
				t.Fatalf("failed = %v, want %v", failed, tt.wantFailed)
			}
			err := Error("offline inspection", checks)
			if (err == nil) != (len(tt.wantFailed) == 0) {
				t.Fatalf("Error() = %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.evidence) {
				t.Errorf("error lacks evidence %q:\n%v", tt.evidence, err)
			}
		})
	}
}
