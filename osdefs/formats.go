package osdefs

import (
	"fmt"
	"strings"
)

// Format is an output format of a built template, as --formats and metadata.json name it.
type Format string

// The formats a template can be delivered in.
const (
	FormatQCOW2 Format = "qcow2"
	FormatVHD   Format = "vhd"
	FormatOVA   Format = "ova"
)

// CloudStack's hypervisor names, as registerTemplate's hypervisor parameter takes them (Hyper-V is
// "Hyperv": CloudStack's HypervisorType.getType matches lower-cased enum names).
const (
	HypervisorKVM       = "KVM"
	HypervisorXenServer = "XenServer"
	HypervisorHyperV    = "Hyperv"
	HypervisorVMware    = "VMware"
)

// FormatSpec is everything the project knows about one delivery format: the shipped file's name, how
// it is made from Packer's qcow2, and how CloudStack registers it. Conversion, metadata (and its
// schema), publish, the OS catalogue and the docs read it. Adding a format takes:
//   - an entry in Formats: every OS whose Definition.Formats is nil is built in it, --formats and the
//     catalogue list it, metadata may name it and CloudStack publishing knows its hypervisors;
//   - only if it is made other than by qemu-img convert plus Compression: a case in the pipeline's
//     conversion (pipeline/convert.go);
//   - go test ./artifacts -run TestSchemaFile -update, which writes the registry's formats and
//     hypervisors into the published schema file (the code validates with them already).
type FormatSpec struct {
	Format Format
	// Suffix follows the template's stem in the shipped file's name.
	Suffix string
	// Image is qemu-img's name for the disk format: of the file itself, of the file inside the
	// Compression, or of the disk inside the OVA.
	Image string
	// QemuImgOptions are qemu-img convert's -o options for that disk (the qcow2 compression type is
	// added by the build, which lets the user choose it).
	QemuImgOptions string
	// CompressClusters is qemu-img convert's -c: compressed clusters inside the image.
	CompressClusters bool
	// Compression wraps the converted image in a compressed stream ("bzip2"), "" for none. CloudStack
	// downloads and unpacks .bz2, .gz and .zip itself (UriUtils.COMMPRESSION_FORMATS).
	Compression string
	// CloudStackFormat is registerTemplate's format.
	CloudStackFormat string
	// Hypervisor is the hypervisor a registration defaults to; AlsoWorksWith are the others that run
	// the format (CloudStack's Hypervisor.supportedImageFormatMap).
	Hypervisor    string
	AlsoWorksWith []string
	// Note tells people what the file is.
	Note string
}

// Formats is the registry, in the order artifacts are produced. Everything reads it when it needs it
// (AllFormats, Spec, FormatForCloudStack, Definition.OutputFormats, the metadata schema), so an entry
// appended here, even by a test, is a format of every OS that does not restrict its formats.
var Formats = []FormatSpec{
	{
		Format: FormatQCOW2, Suffix: ".qcow2", Image: "qcow2", QemuImgOptions: "compat=1.1", CompressClusters: true,
		CloudStackFormat: "QCOW2", Hypervisor: HypervisorKVM,
		Note: "qcow2 (compat 1.1) with compressed clusters: zlib by default, zstd on request",
	},
	{
		Format: FormatVHD, Suffix: ".vhd.bz2", Image: "vpc", QemuImgOptions: "subformat=dynamic", Compression: "bzip2",
		CloudStackFormat: "VHD", Hypervisor: HypervisorXenServer, AlsoWorksWith: []string{HypervisorHyperV},
		Note: "dynamic VHD from qemu-img (vpc), bzip2-compressed as CloudStack's own XenServer templates ship; a raw VHD is over GitHub's 2 GiB release-asset limit for most OSes",
	},
	{
		Format: FormatOVA, Suffix: ".ova", Image: "vmdk", QemuImgOptions: "subformat=streamOptimized",
		CloudStackFormat: "OVA", Hypervisor: HypervisorVMware,
		Note: "OVF 1.0 package with a streamOptimized VMDK and a SHA-256 manifest",
	},
}

// AllFormats lists every format of the registry, in the order artifacts are produced. It reads
// Formats on each call.
func AllFormats() []Format {
	out := make([]Format, len(Formats))
	for i, s := range Formats {
		out[i] = s.Format
	}
	return out
}

// Spec returns a format's registry entry; an unknown format is an error naming the valid ones.
func Spec(f Format) (FormatSpec, error) {
	for _, s := range Formats {
		if s.Format == f {
			return s, nil
		}
	}
	return FormatSpec{}, fmt.Errorf("unknown format %q: choose one of %s", f, formatList(AllFormats()))
}

// FileName is the shipped file of a template whose stem is stem.
func (s FormatSpec) FileName(stem string) string { return stem + s.Suffix }

// Hypervisors lists every hypervisor that runs the format, the default first.
func (s FormatSpec) Hypervisors() []string { return append([]string{s.Hypervisor}, s.AlsoWorksWith...) }

// FormatForCloudStack finds the entry of a registerTemplate format (any case).
func FormatForCloudStack(cloudStackFormat string) (FormatSpec, error) {
	for _, s := range Formats {
		if strings.EqualFold(s.CloudStackFormat, strings.TrimSpace(cloudStackFormat)) {
			return s, nil
		}
	}
	var valid []string
	for _, s := range Formats {
		valid = append(valid, s.CloudStackFormat)
	}
	return FormatSpec{}, fmt.Errorf("unknown template format %q: use %s", cloudStackFormat, strings.ToLower(strings.Join(valid, ", ")))
}
