package artifacts

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"text/template"
)

// OVFParams describe the one VM and one disk of an OVA this project produces.
type OVFParams struct {
	// Name is the VM name (VirtualSystem id and Name, VirtualSystemIdentifier).
	Name string
	// Description becomes the VM annotation (vSphere "Notes"); optional.
	Description string
	// DiskFile is the VMDK's name inside the OVA; it must end in ".vmdk" because CloudStack's
	// OVFHelper only treats File entries ending in vmdk (or iso) as disks.
	DiskFile string
	// DiskFileSize is the VMDK file's size in bytes (References/File ovf:size).
	DiskFileSize int64
	// CapacityBytes is the virtual disk size in bytes (Disk ovf:capacity).
	CapacityBytes int64
	// PopulatedBytes estimates the bytes the guest actually uses (Disk ovf:populatedSize); 0 omits it.
	PopulatedBytes int64
	// CPUs and MemoryMB size the VM.
	CPUs     int
	MemoryMB int
	// OSID, OSFamily and OSVersion are the osdefs Definition's ID, Family and Version; GuestOSFor maps
	// them to the OperatingSystemSection.
	OSID      string
	OSFamily  string
	OSVersion string
}

// OVF constants shared by the descriptor and its tests.
const (
	// StreamOptimizedFormat is the ovf:format URI of a streamOptimized VMDK, the only VMDK subformat
	// an OVA may carry for vSphere to stream-import it (qemu-img -O vmdk -o subformat=streamOptimized).
	StreamOptimizedFormat = "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
	// OVFHardwareVersion is the VMware virtual hardware family: vmx-13 runs on ESXi 6.5 and later, old
	// enough for every supported vSphere while still knowing vmxnet3 and the SCSI controllers we use.
	OVFHardwareVersion = "vmx-13"
	// OVFNetworkName is the logical network the NIC connects to; vSphere maps it at import, and
	// "VM Network" is the default port group name on a fresh ESXi host.
	OVFNetworkName = "VM Network"
)

// OVFDescriptor renders an OVF 1.0 descriptor (DMTF DSP0243 1.x, envelope namespace
// http://schemas.dmtf.org/ovf/envelope/1) for p.
//
// The shape follows what ovftool and vSphere export, checked against what CloudStack's OVFHelper
// reads when it imports an OVA template:
//   - exactly one VirtualSystem (CloudStack refuses more);
//   - Disk carries ovf:capacityAllocationUnits="byte": CloudStack fails the import when a non-zero
//     capacity comes without allocation units;
//   - elements use the literal prefixes rasd:, vssd:, ovf: because CloudStack matches tag names such
//     as "rasd:HostResource" and "rasd:Parent" textually, not by namespace;
//   - the disk hangs off an LSI Logic SCSI controller (the controller CloudStack's own appliance
//     build converts VirtualBox exports to), with an IDE controller for CD-ROMs/config drives that
//     CloudStack or a user may attach later, and one vmxnet3 NIC.
//
// Every string is XML-escaped, so names with &, <, quotes or non-ASCII text stay well-formed.
func OVFDescriptor(p OVFParams) ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	data := struct {
		OVFParams
		GuestOS         GuestOS
		Format, HW, Net string
	}{p, GuestOSFor(p.OSID, p.OSFamily, p.OSVersion), StreamOptimizedFormat, OVFHardwareVersion, OVFNetworkName}
	var buf bytes.Buffer
	if err := ovfTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render OVF descriptor: %w", err)
	}
	return buf.Bytes(), nil
}

func (p OVFParams) validate() error {
	var problems []string
	req := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	req(strings.TrimSpace(p.Name) != "", "Name must be set")
	req(checkPlainName(p.DiskFile) == nil && strings.HasSuffix(strings.ToLower(p.DiskFile), ".vmdk"),
		"DiskFile must be a plain file name ending in .vmdk")
	req(p.DiskFileSize > 0, "DiskFileSize must be > 0")
	req(p.CapacityBytes > 0, "CapacityBytes must be > 0")
	req(p.PopulatedBytes >= 0 && p.PopulatedBytes <= p.CapacityBytes, "PopulatedBytes must be between 0 and CapacityBytes")
	req(p.CPUs >= 1, "CPUs must be >= 1")
	req(p.MemoryMB >= 1, "MemoryMB must be >= 1")
	for _, s := range []string{p.Name, p.Description, p.DiskFile} {
		if !validXMLText(s) {
			problems = append(problems, fmt.Sprintf("%q contains characters XML 1.0 cannot carry", s))
		}
	}
	if len(problems) > 0 {
		return errors.New("OVF descriptor: " + strings.Join(problems, "; "))
	}
	return nil
}

// validXMLText reports whether s has only characters allowed in XML 1.0 documents: escaping cannot
// make a control character such as \x01 legal, so such input is refused instead of producing a
// descriptor that VMware would reject.
func validXMLText(s string) bool {
	for _, r := range s {
		ok := r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return false
		}
	}
	return true
}

// xmlEscape escapes text for element content and double-quoted attributes alike.
func xmlEscape(s string) (string, error) {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ovfTemplateText is the descriptor, kept as the document it renders (text/template holes filled
// from OVFDescriptor's data). In its Items, the disk's rasd:Parent must name the SCSI controller's
// InstanceID.
//
//go:embed ovf.xml.tmpl
var ovfTemplateText string

var ovfTemplate = template.Must(template.New("ovf").Funcs(template.FuncMap{"x": xmlEscape}).Parse(ovfTemplateText))
