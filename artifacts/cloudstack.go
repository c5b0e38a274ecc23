package artifacts

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/inspect"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// RegisterTemplate is the registerTemplate call that publishes one artifact, minus what only the
// operator knows (url, zoneids, account). It is recorded in the metadata so registering a template is
// copying these values.
type RegisterTemplate struct {
	// Name is registerTemplate's `name`.
	Name string `json:"name"`
	// DisplayText is `displaytext`.
	DisplayText string `json:"displayText"`
	// Format is `format` (QCOW2, VHD, OVA).
	Format string `json:"format"`
	// Hypervisor is `hypervisor` (KVM, XenServer, VMware).
	Hypervisor string `json:"hypervisor"`
	// OSType is the guest OS type description to resolve to `ostypeid` with listOsTypes.
	OSType string `json:"osType"`
	// Checksum is `checksum`: "{SHA-512}" and the artifact's SHA-512 hex.
	Checksum string `json:"checksum"`
	// PasswordEnabled is `passwordenabled`: the image takes CloudStack's password at boot, as this
	// build's boot test showed.
	PasswordEnabled bool `json:"passwordEnabled"`
	// SSHKeyEnabled is `sshkeyenabled`: the image takes the instance's SSH key pair, as this build's
	// boot test showed.
	SSHKeyEnabled bool `json:"sshKeyEnabled"`
	// IsExtractable is `isextractable`: users may download VMs made from it.
	IsExtractable bool `json:"isExtractable"`
	// Artifact is the file name (in the output directory) whose URL is passed as `url`.
	Artifact string `json:"artifact"`
}

// NewRegisterTemplate builds the registerTemplate parameters for artifact (a file name) of def in
// format, whose SHA-512 is sha512hex. The checksum must be of exactly the file CloudStack downloads.
// Password and SSH-key support are claimed only where the catalogue means them and the boot test
// proved them (a build without a boot test claims neither).
func NewRegisterTemplate(def osdefs.Definition, format osdefs.Format, artifact, sha512hex string, proven inspect.Proven) (RegisterTemplate, error) {
	tf, err := osdefs.Spec(format)
	if err != nil {
		return RegisterTemplate{}, err
	}
	var problems []string
	if def.ID == "" || def.Name == "" || def.CloudStackOSType == "" {
		problems = append(problems, "definition needs ID, Name and CloudStackOSType")
	}
	if err := checkPlainName(artifact); err != nil {
		problems = append(problems, "artifact: "+err.Error())
	}
	if !checksum.IsLowerHex(sha512hex, checksum.SHA512HexLen) {
		problems = append(problems, fmt.Sprintf("%q is not a lower-case SHA-512 hex digest", sha512hex))
	}
	if len(problems) > 0 {
		return RegisterTemplate{}, errors.New("register template: " + strings.Join(problems, "; "))
	}
	return RegisterTemplate{
		Name:            def.ID + "-" + strings.ToLower(tf.Hypervisor),
		DisplayText:     fmt.Sprintf("%s %s (%s)", def.Name, def.Version, tf.Hypervisor),
		Format:          tf.CloudStackFormat,
		Hypervisor:      tf.Hypervisor,
		OSType:          def.CloudStackOSType,
		Checksum:        CloudStackChecksum(sha512hex),
		PasswordEnabled: def.PasswordEnabled && proven.Password,
		SSHKeyEnabled:   proven.SSHKey,
		IsExtractable:   true,
		Artifact:        artifact,
	}, nil
}
