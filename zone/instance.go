// Package zone plays the parts of an Apache CloudStack zone that a template meets on its first boot:
// the virtual router (VR), which serves metadata and user-data over HTTP on port 80 and the instance
// password on port 8080 at the guest's DHCP server address, and the config drive, an ISO labelled
// config-2. The boot test runs every image against each of them, on the SMBIOS identities of the
// hypervisors CloudStack drives, so a template is known to work in a zone before anyone uploads it.
//
// What is served follows CloudStack's own code: the metadata file names of
// api/src/main/java/com/cloud/network/NetworkModel.java (metadataFileNames, openStackFileMapping),
// the config drive of engine/storage/configdrive/.../ConfigDriveBuilder.java, and the password server
// of systemvm/debian/opt/cloud/bin/passwd_server_ip.py (apache/cloudstack).
package zone

import (
	"fmt"
	"sort"
	"strings"
)

// Instance is what CloudStack hands one guest.
type Instance struct {
	// UUID is the VM's UUID: CloudStack serves it as instance-id and vm-id.
	UUID string
	// Hostname is the instance's name, served as local-hostname.
	Hostname string
	// PublicKey is the SSH public key of the instance's key pair, in authorized_keys form.
	PublicKey string
	// Password is what CloudStack generated for a password-enabled template ("" when none).
	Password string
	// UserData is the instance's user-data, as the user gave it.
	UserData []byte
	// IPv4 is the guest's address on its network.
	IPv4 string
}

// Metadata is the instance's metadata as CloudStack's VR serves it, file name → content: the names of
// NetworkModel.metadataFileNames.
func (i Instance) Metadata() map[string]string {
	return map[string]string{
		"service-offering":     "Small Instance",
		"availability-zone":    "cst-zone",
		"local-hostname":       i.Hostname,
		"local-ipv4":           i.IPv4,
		"public-hostname":      i.Hostname,
		"public-ipv4":          i.IPv4,
		"instance-id":          i.UUID,
		"vm-id":                i.UUID,
		"public-keys":          i.PublicKey,
		"cloud-identifier":     "CloudStack-{cst-zone-emulator}",
		"cloud-name":           "cst-zone",
		"hypervisor-host-name": "cst-host-1",
	}
}

// metadataNames lists the metadata files in a stable order, as the VR's listing does.
func metadataNames(md map[string]string) []string {
	names := make([]string, 0, len(md))
	for k := range md {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Check rejects an instance CloudStack would never hand out, naming the field.
func (i Instance) Check() error {
	var missing []string
	if i.UUID == "" {
		missing = append(missing, "UUID")
	}
	if i.Hostname == "" {
		missing = append(missing, "Hostname")
	}
	if i.PublicKey == "" {
		missing = append(missing, "PublicKey")
	}
	if len(missing) > 0 {
		return fmt.Errorf("zone: instance without %s", strings.Join(missing, ", "))
	}
	if strings.ContainsAny(i.Password, "\r\n") {
		return fmt.Errorf("zone: a password cannot contain a line break")
	}
	return nil
}
