package zone

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The config drive has ConfigDriveBuilder's layout; the password is only in CloudStack's own tree.
func TestWriteConfigDrive(t *testing.T) {
	dir := t.TempDir()
	inst := testInstance()
	inst.PublicKey = "ssh-ed25519 AAAA mykey"
	if err := WriteConfigDrive(dir, inst); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"cloudstack/password/vm_password.txt":    "s3cret",
		"cloudstack/userdata/user_data.txt":      "#cloud-config\n",
		"cloudstack/metadata/local-hostname.txt": "cst-test",
		"cloudstack/metadata/vm-id.txt":          inst.UUID,
		"openstack/latest/user_data":             "#cloud-config\n",
		"openstack/latest/vendor_data.json":      "{}",
	}
	for rel, want := range files {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q (%v), want %q", rel, b, err, want)
		}
	}
	var md map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "openstack/latest/meta_data.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &md); err != nil {
		t.Fatal(err)
	}
	if md["uuid"] != inst.UUID || md["hostname"] != "cst-test" {
		t.Errorf("meta_data.json uuid/hostname: %s", b)
	}
	if keys, _ := md["public_keys"].(map[string]any); keys["mykey"] != inst.PublicKey {
		t.Errorf("public_keys not by the key's comment: %s", b)
	}
	for k := range md {
		if k == "admin_pass" || k == "password" {
			t.Errorf("meta_data.json carries the password under %q: CloudStack puts it only in vm_password.txt", k)
		}
	}
	if err := WriteConfigDrive(t.TempDir(), Instance{}); err == nil {
		t.Error("an empty instance was written")
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		skip    []string
		want    []string
		wantErr string
	}{
		{nil, []string{"config-drive", "kvm-vr", "xen-vr"}, ""},
		{[]string{""}, []string{"config-drive", "kvm-vr", "xen-vr"}, ""},
		{[]string{"xen-vr"}, []string{"config-drive", "kvm-vr"}, ""},
		{[]string{"config-drive", " kvm-vr"}, []string{"xen-vr"}, ""},
		{[]string{"config-drive", "kvm-vr", "xen-vr"}, nil, ""},
		{[]string{"vmware"}, nil, `zone case "vmware" does not exist; the cases are config-drive, kvm-vr, xen-vr`},
	}
	for _, tt := range tests {
		got, err := Select(tt.skip)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Select(%q) err = %v, want %q", tt.skip, err, tt.wantErr)
			}
			continue
		}
		var names []string
		for _, c := range got {
			names = append(names, c.Name)
		}
		if err != nil || len(names) != len(tt.want) {
			t.Errorf("Select(%q) = %v, %v; want %v", tt.skip, names, err, tt.want)
			continue
		}
		for i := range names {
			if names[i] != tt.want[i] {
				t.Errorf("Select(%q) = %v, want %v", tt.skip, names, tt.want)
			}
		}
	}
}
