package zone

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfigDriveLabel is the volume label cloud-init's ConfigDrive datasource looks for.
const ConfigDriveLabel = "config-2"

// WriteConfigDrive lays out inst in dir as ConfigDriveBuilder does: CloudStack's own tree
// (cloudstack/metadata/NAME.txt, cloudstack/userdata/user_data.txt, cloudstack/password/
// vm_password.txt) and the OpenStack tree cloud-init reads (openstack/latest/meta_data.json,
// user_data, vendor_data.json, network_data.json). The password is only in CloudStack's tree, as in
// a real zone: cloud-init's ConfigDrive datasource does not read it.
func WriteConfigDrive(dir string, inst Instance) error {
	if err := inst.Check(); err != nil {
		return err
	}
	md := inst.Metadata()
	files := map[string][]byte{
		"openstack/latest/vendor_data.json":  []byte("{}"),
		"openstack/latest/network_data.json": []byte("{}"),
	}
	for name, v := range md {
		files["cloudstack/metadata/"+name+".txt"] = []byte(v)
	}
	if len(inst.UserData) > 0 {
		files["cloudstack/userdata/user_data.txt"] = inst.UserData
		files["openstack/latest/user_data"] = inst.UserData
	}
	if inst.Password != "" {
		files["cloudstack/password/vm_password.txt"] = []byte(inst.Password)
	}
	openstack := map[string]any{
		// NetworkModel.openStackFileMapping
		"availability_zone":    md["availability-zone"],
		"hostname":             md["local-hostname"],
		"uuid":                 md["vm-id"],
		"name":                 md["public-hostname"],
		"cloud-name":           md["cloud-name"],
		"hypervisor-host-name": md["hypervisor-host-name"],
		// Keys are the special case of buildOpenStackMetaData: a legacy list and a map by key name.
		"keys":        []map[string]string{{"type": "ssh", "data": inst.PublicKey, "name": keyName(inst.PublicKey)}},
		"public_keys": map[string]string{keyName(inst.PublicKey): inst.PublicKey},
	}
	b, err := json.Marshal(openstack)
	if err != nil {
		return err
	}
	files["openstack/latest/meta_data.json"] = b
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("config drive: %w", err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return fmt.Errorf("config drive: %w", err)
		}
	}
	return nil
}

// keyName is the key's comment when it has one, else "key", as ConfigDriveBuilder names it.
func keyName(publicKey string) string {
	f := strings.Fields(publicKey)
	if len(f) >= 3 && f[2] != "" {
		return f[2]
	}
	return "key"
}
