package artifacts

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// parsedOVF is the subset of the descriptor the tests read back, matched by namespace so a wrong
// namespace fails the test just as it would fail an importer.
type parsedOVF struct {
	XMLName xml.Name `xml:"http://schemas.dmtf.org/ovf/envelope/1 Envelope"`
	Files   []struct {
		Href string `xml:"http://schemas.dmtf.org/ovf/envelope/1 href,attr"`
		ID   string `xml:"http://schemas.dmtf.org/ovf/envelope/1 id,attr"`
		Size int64  `xml:"http://schemas.dmtf.org/ovf/envelope/1 size,attr"`
	} `xml:"http://schemas.dmtf.org/ovf/envelope/1 References>File"`
	Disks []struct {
		Capacity      int64  `xml:"http://schemas.dmtf.org/ovf/envelope/1 capacity,attr"`
		Units         string `xml:"http://schemas.dmtf.org/ovf/envelope/1 capacityAllocationUnits,attr"`
		DiskID        string `xml:"http://schemas.dmtf.org/ovf/envelope/1 diskId,attr"`
		FileRef       string `xml:"http://schemas.dmtf.org/ovf/envelope/1 fileRef,attr"`
		Format        string `xml:"http://schemas.dmtf.org/ovf/envelope/1 format,attr"`
		PopulatedSize *int64 `xml:"http://schemas.dmtf.org/ovf/envelope/1 populatedSize,attr"`
	} `xml:"http://schemas.dmtf.org/ovf/envelope/1 DiskSection>Disk"`
	Networks []struct {
		Name string `xml:"http://schemas.dmtf.org/ovf/envelope/1 name,attr"`
	} `xml:"http://schemas.dmtf.org/ovf/envelope/1 NetworkSection>Network"`
	Systems []struct {
		ID         string `xml:"http://schemas.dmtf.org/ovf/envelope/1 id,attr"`
		Name       string `xml:"http://schemas.dmtf.org/ovf/envelope/1 Name"`
		Annotation string `xml:"http://schemas.dmtf.org/ovf/envelope/1 AnnotationSection>Annotation"`
		OS         struct {
			ID     int    `xml:"http://schemas.dmtf.org/ovf/envelope/1 id,attr"`
			OSType string `xml:"http://www.vmware.com/schema/ovf osType,attr"`
		} `xml:"http://schemas.dmtf.org/ovf/envelope/1 OperatingSystemSection"`
		Hardware struct {
			System struct {
				Type string `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData VirtualSystemType"`
			} `xml:"http://schemas.dmtf.org/ovf/envelope/1 System"`
			Items []struct {
				InstanceID      string `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData InstanceID"`
				ResourceType    int    `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData ResourceType"`
				ResourceSubType string `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData ResourceSubType"`
				VirtualQuantity int64  `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData VirtualQuantity"`
				HostResource    string `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData HostResource"`
				Parent          string `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData Parent"`
				Connection      string `xml:"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData Connection"`
			} `xml:"http://schemas.dmtf.org/ovf/envelope/1 Item"`
		} `xml:"http://schemas.dmtf.org/ovf/envelope/1 VirtualHardwareSection"`
	} `xml:"http://schemas.dmtf.org/ovf/envelope/1 VirtualSystem"`
}

func sampleOVFParams() OVFParams {
	return OVFParams{
		Name:           "debian-12",
		Description:    "Debian 12 built by cloudstack-templates",
		DiskFile:       "debian-12-disk1.vmdk",
		DiskFileSize:   322859520,
		CapacityBytes:  10737418240,
		PopulatedBytes: 1610612736,
		CPUs:           2,
		MemoryMB:       2048,
		OSID:           "debian-12",
		OSFamily:       "debian",
		OSVersion:      "12",
	}
}

// renderOVF writes p's descriptor and reads it back, for the tests that check both the text and
// what an XML reader makes of it.
func renderOVF(t *testing.T, p OVFParams) ([]byte, parsedOVF) {
	t.Helper()
	out, err := OVFDescriptor(p)
	if err != nil {
		t.Fatal(err)
	}
	var o parsedOVF
	if err := xml.Unmarshal(out, &o); err != nil {
		t.Fatalf("descriptor does not parse: %v\n%s", err, out)
	}
	return out, o
}

func TestOVFDescriptorParsesWithRightValues(t *testing.T) {
	p := sampleOVFParams()
	out, o := renderOVF(t, p)
	if len(o.Files) != 1 || o.Files[0].Href != p.DiskFile || o.Files[0].Size != p.DiskFileSize || o.Files[0].ID != "file1" {
		t.Errorf("References/File = %+v", o.Files)
	}
	if len(o.Disks) != 1 {
		t.Fatalf("want one Disk, got %d", len(o.Disks))
	}
	d := o.Disks[0]
	if d.Capacity != p.CapacityBytes || d.Units != "byte" || d.FileRef != "file1" || d.DiskID != "vmdisk1" || d.Format != StreamOptimizedFormat {
		t.Errorf("Disk = %+v", d)
	}
	if d.PopulatedSize == nil || *d.PopulatedSize != p.PopulatedBytes {
		t.Errorf("populatedSize = %v, want %d", d.PopulatedSize, p.PopulatedBytes)
	}
	if len(o.Networks) != 1 || o.Networks[0].Name != OVFNetworkName {
		t.Errorf("networks = %+v", o.Networks)
	}
	if len(o.Systems) != 1 {
		t.Fatalf("CloudStack needs exactly one VirtualSystem, got %d", len(o.Systems))
	}
	vs := o.Systems[0]
	if vs.ID != p.Name || vs.Name != p.Name || vs.Annotation != p.Description {
		t.Errorf("VirtualSystem id/name/annotation = %q/%q/%q", vs.ID, vs.Name, vs.Annotation)
	}
	if vs.OS.ID != 96 || vs.OS.OSType != "debian11_64Guest" {
		t.Errorf("OperatingSystemSection = %+v", vs.OS)
	}
	if vs.Hardware.System.Type != OVFHardwareVersion {
		t.Errorf("VirtualSystemType = %q", vs.Hardware.System.Type)
	}
	byType := map[int][]int{}
	for i, it := range vs.Hardware.Items {
		byType[it.ResourceType] = append(byType[it.ResourceType], i)
	}
	items := vs.Hardware.Items
	one := func(rt int, what string) int {
		t.Helper()
		if len(byType[rt]) != 1 {
			t.Fatalf("want one %s item (ResourceType %d), got %d", what, rt, len(byType[rt]))
		}
		return byType[rt][0]
	}
	if cpu := items[one(3, "CPU")]; cpu.VirtualQuantity != 2 {
		t.Errorf("CPUs = %d", cpu.VirtualQuantity)
	}
	if mem := items[one(4, "memory")]; mem.VirtualQuantity != 2048 {
		t.Errorf("memory = %d", mem.VirtualQuantity)
	}
	scsi := items[one(6, "SCSI controller")]
	one(5, "IDE controller")
	disk := items[one(17, "disk")]
	if disk.HostResource != "ovf:/disk/vmdisk1" || disk.Parent != scsi.InstanceID {
		t.Errorf("disk item %+v not attached to SCSI controller %q", disk, scsi.InstanceID)
	}
	if nic := items[one(10, "NIC")]; nic.ResourceSubType != "VmxNet3" || nic.Connection != OVFNetworkName {
		t.Errorf("NIC = %+v", nic)
	}
	// CloudStack's OVFHelper matches these literal qualified names, not namespaces.
	testcheck.ContainsAll(t, "descriptor", string(out), "<rasd:HostResource>", "<rasd:Parent>", "<rasd:InstanceID>", "<rasd:Connection>", "ovf:capacityAllocationUnits=")
	xmllintWellFormed(t, out)
}

func TestOVFDescriptorEscapes(t *testing.T) {
	p := sampleOVFParams()
	p.Name = `a&b <c> "d" 'e' – ü`
	p.Description = `<script>alert("x")</script> & more`
	p.DiskFile = `we&ird"name.vmdk`
	p.PopulatedBytes = 0
	out, o := renderOVF(t, p)
	if o.Systems[0].Name != p.Name || o.Systems[0].ID != p.Name || o.Systems[0].Annotation != p.Description || o.Files[0].Href != p.DiskFile {
		t.Errorf("round trip lost text: %+v %+v", o.Systems[0], o.Files[0])
	}
	if o.Disks[0].PopulatedSize != nil {
		t.Errorf("populatedSize must be omitted when 0")
	}
	if bytes.Contains(out, []byte("<script>")) {
		t.Error("raw markup leaked into the descriptor")
	}
	xmllintWellFormed(t, out)
}

func TestOVFDescriptorRejectsBadParams(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*OVFParams)
		want   string
	}{
		{"no name", func(p *OVFParams) { p.Name = " " }, "Name must be set"},
		{"not vmdk", func(p *OVFParams) { p.DiskFile = "disk.qcow2" }, "DiskFile"},
		{"path in disk name", func(p *OVFParams) { p.DiskFile = "../disk.vmdk" }, "DiskFile"},
		{"zero file size", func(p *OVFParams) { p.DiskFileSize = 0 }, "DiskFileSize"},
		{"zero capacity", func(p *OVFParams) { p.CapacityBytes = 0 }, "CapacityBytes"},
		{"populated above capacity", func(p *OVFParams) { p.PopulatedBytes = p.CapacityBytes + 1 }, "PopulatedBytes"},
		{"no cpu", func(p *OVFParams) { p.CPUs = 0 }, "CPUs"},
		{"no memory", func(p *OVFParams) { p.MemoryMB = 0 }, "MemoryMB"},
		{"control char", func(p *OVFParams) { p.Description = "bell\x07" }, "XML 1.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sampleOVFParams()
			tc.mutate(&p)
			_, err := OVFDescriptor(p)
			testcheck.Refused(t, err, tc.want)
		})
	}
}

func TestGuestOSFor(t *testing.T) {
	tests := []struct {
		id, family, version string
		cim                 int
		vmw, desc           string
	}{
		{"ubuntu-24.04", "ubuntu", "24.04", 94, "ubuntu64Guest", "Ubuntu Linux (64-bit)"},
		{"debian-12", "debian", "12", 96, "debian11_64Guest", "Debian GNU/Linux 12 (64-bit)"},
		{"debian-13", "debian", "13", 96, "debian11_64Guest", "Debian GNU/Linux 13 (64-bit)"},
		{"debian-11", "debian", "11", 96, "debian11_64Guest", "Debian GNU/Linux 11 (64-bit)"},
		{"debian-10", "debian", "10", 96, "debian10_64Guest", "Debian GNU/Linux 10 (64-bit)"},
		{"debian-9", "debian", "9", 96, "otherLinux64Guest", "Debian GNU/Linux 9 (64-bit)"},
		{"debian-sid", "debian", "sid", 96, "otherLinux64Guest", "Debian GNU/Linux (64-bit)"},
		{"rocky-9", "el", "9.5", 80, "rhel9_64Guest", "Red Hat Enterprise Linux 9 compatible (64-bit)"},
		{"almalinux-8", "el", "8.10", 80, "rhel8_64Guest", "Red Hat Enterprise Linux 8 compatible (64-bit)"},
		{"oracle-7", "oracle", "7.9", 80, "rhel7_64Guest", "Red Hat Enterprise Linux 7 compatible (64-bit)"},
		{"el-6", "el", "6", 80, "otherLinux64Guest", "Red Hat Enterprise Linux 6 compatible (64-bit)"},
		{"centos-stream-9", "el", "9", 107, "rhel9_64Guest", "Red Hat Enterprise Linux 9 compatible (64-bit)"},
		{"CentOS-Stream-10", "EL", "10", 107, "rhel9_64Guest", "Red Hat Enterprise Linux 10 compatible (64-bit)"},
		{"fedora-41", "fedora", "41", 101, "fedora64Guest", "Fedora Linux (64-bit)"},
		{"mystery", "unknown", "1", 101, "otherLinux64Guest", "Other Linux (64-bit)"},
	}
	for _, tc := range tests {
		g := GuestOSFor(tc.id, tc.family, tc.version)
		if g.CIMID != tc.cim || g.VMwareID != tc.vmw || g.Description != tc.desc {
			t.Errorf("GuestOSFor(%q, %q, %q) = %+v, want %d/%s/%q", tc.id, tc.family, tc.version, g, tc.cim, tc.vmw, tc.desc)
		}
	}
}

// xmllintWellFormed runs libxml2's parser over the descriptor as a second, independent
// well-formedness check. scripts/test.sh installs libxml2-utils; without it the test fails.
func xmllintWellFormed(t *testing.T, doc []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not installed: apt-get install libxml2-utils (scripts/test.sh does)")
	}
	path := filepath.Join(t.TempDir(), "test.ovf")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--noout", path).CombinedOutput(); err != nil {
		t.Fatalf("xmllint rejects the descriptor: %v\n%s", err, out)
	}
}
