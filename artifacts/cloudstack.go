package artifacts

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/inspect"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// CloudStack hypervisor names as registerTemplate's `hypervisor` parameter spells them.
const (
	HypervisorKVM       = "KVM"
	HypervisorXenServer = "XenServer"
	HypervisorHyperV    = "Hyperv"
	HypervisorVMware    = "VMware"
)

// TemplateFormat is how CloudStack must be told about one of our output formats.
type TemplateFormat struct {
	// Format is registerTemplate's `format` value.
	Format string
	// Hypervisor is the hypervisor the template is registered for.
	Hypervisor string
	// AlsoWorksWith names other hypervisors the same file can be registered for, with caveats in Note.
	AlsoWorksWith []string
	// Note says what the file is and where it works.
	Note string
}

// RegisterParams maps an output format to registerTemplate's format and hypervisor.
//
//   - qcow2 → QCOW2 on KVM.
//   - vhd → VHD on XenServer. We make it with `qemu-img convert -O vpc -o subformat=dynamic`: a
//     dynamic VHD with a valid footer that Hyper-V and XenServer's tapdisk read. CloudStack's own
//     systemvm build additionally runs `vhd-util convert` and `vhd-util modify -s`; XenServer's import
//     path (and the SR's vhd-util scan) is stricter than qemu's writer: some XenServer/XCP-ng
//     versions reject qemu VHDs whose size is not a multiple of 2 MiB or whose BAT layout vhd-util
//     did not write. Use the VHD on XenServer/XCP-ng after `vhd-util check`, or run it through
//     vhd-util before registering; Hyper-V (format VHD, hypervisor Hyperv) takes it as is.
//   - ova → OVA on VMware: OVF 1.0 descriptor + manifest + streamOptimized VMDK (see OVFDescriptor).
func RegisterParams(format osdefs.Format) (TemplateFormat, error) {
	switch format {
	case osdefs.FormatQCOW2:
		return TemplateFormat{Format: "QCOW2", Hypervisor: HypervisorKVM, Note: "qcow2 image for KVM"}, nil
	case osdefs.FormatVHD:
		return TemplateFormat{
			Format: "VHD", Hypervisor: HypervisorXenServer, AlsoWorksWith: []string{HypervisorHyperV},
			Note: "dynamic VHD from qemu-img (vpc, subformat=dynamic); check with vhd-util before XenServer use",
		}, nil
	case osdefs.FormatOVA:
		return TemplateFormat{Format: "OVA", Hypervisor: HypervisorVMware, Note: "OVF 1.0 package with a streamOptimized VMDK"}, nil
	}
	var valid []string
	for _, f := range osdefs.AllFormats {
		valid = append(valid, string(f))
	}
	return TemplateFormat{}, fmt.Errorf("unknown format %q: choose one of %s", format, strings.Join(valid, ", "))
}

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
	tf, err := RegisterParams(format)
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
	if !IsLowerHex(sha512hex, SHA512HexLen) {
		problems = append(problems, fmt.Sprintf("%q is not a lower-case SHA-512 hex digest", sha512hex))
	}
	if len(problems) > 0 {
		return RegisterTemplate{}, errors.New("register template: " + strings.Join(problems, "; "))
	}
	return RegisterTemplate{
		Name:            def.ID + "-" + strings.ToLower(tf.Hypervisor),
		DisplayText:     fmt.Sprintf("%s %s (%s)", def.Name, def.Version, tf.Hypervisor),
		Format:          tf.Format,
		Hypervisor:      tf.Hypervisor,
		OSType:          def.CloudStackOSType,
		Checksum:        CloudStackChecksum(sha512hex),
		PasswordEnabled: def.PasswordEnabled && proven.Password,
		SSHKeyEnabled:   proven.SSHKey,
		IsExtractable:   true,
		Artifact:        artifact,
	}, nil
}
