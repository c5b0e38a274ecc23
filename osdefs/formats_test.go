package osdefs

import (
	"strings"
	"testing"
)

func TestFormatRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Formats {
		for what, v := range map[string]string{"format": string(s.Format), "suffix": s.Suffix, "image": s.Image,
			"cloudstack format": s.CloudStackFormat, "hypervisor": s.Hypervisor, "note": s.Note} {
			if v == "" {
				t.Errorf("%s: empty %s", s.Format, what)
			}
		}
		if !strings.HasPrefix(s.Suffix, "."+string(s.Format)) {
			t.Errorf("%s: suffix %q does not start with the format's name", s.Format, s.Suffix)
		}
		if seen[s.Suffix] || seen[s.CloudStackFormat] {
			t.Errorf("%s: suffix or CloudStack format used twice", s.Format)
		}
		seen[s.Suffix], seen[s.CloudStackFormat] = true, true
		if s.Compression != "" && !strings.HasSuffix(s.Suffix, ".bz2") {
			t.Errorf("%s: compressed with %s but named %q", s.Format, s.Compression, s.Suffix)
		}
	}
	tests := []struct {
		format           Format
		file, cs, hv, ho string
	}{
		{FormatQCOW2, "t.qcow2", "QCOW2", "KVM", "KVM"},
		{FormatVHD, "t.vhd.bz2", "VHD", "XenServer", "XenServer,Hyperv"},
		{FormatOVA, "t.ova", "OVA", "VMware", "VMware"},
	}
	for _, tt := range tests {
		s, err := Spec(tt.format)
		if err != nil {
			t.Fatal(err)
		}
		if s.FileName("t") != tt.file || s.CloudStackFormat != tt.cs || s.Hypervisor != tt.hv || strings.Join(s.Hypervisors(), ",") != tt.ho {
			t.Errorf("%s: %+v", tt.format, s)
		}
		back, err := FormatForCloudStack(strings.ToLower(tt.cs))
		if err != nil || back.Format != tt.format {
			t.Errorf("FormatForCloudStack(%s) = %v, %v", tt.cs, back.Format, err)
		}
	}
	if _, err := Spec("raw"); err == nil || !strings.Contains(err.Error(), "qcow2, vhd, ova") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := FormatForCloudStack("ISO"); err == nil || !strings.Contains(err.Error(), "qcow2, vhd, ova") {
		t.Errorf("unknown CloudStack format: %v", err)
	}
}

// A definition without Formats is built in every format of the registry; one that sets them is held
// to that list, which must name registry formats.
func TestDefinitionFormats(t *testing.T) {
	d, err := Lookup("fedora-41")
	if err != nil {
		t.Fatal(err)
	}
	if d.Formats != nil || formatList(d.OutputFormats()) != formatList(AllFormats()) {
		t.Errorf("fedora-41: Formats %v, OutputFormats %v, want nil and the registry's %v", d.Formats, d.OutputFormats(), AllFormats())
	}
	d.Formats = []Format{FormatQCOW2}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := formatList(d.OutputFormats()); got != "qcow2" || d.SupportsFormat(FormatOVA) {
		t.Errorf("restricted to qcow2: OutputFormats %s, supports ova %t", got, d.SupportsFormat(FormatOVA))
	}
	if _, err := ParseFormats(d, "ova"); err == nil || !strings.Contains(err.Error(), `format "ova" is not supported for fedora-41: choose from qcow2`) {
		t.Errorf("ParseFormats(ova) of a qcow2-only OS: %v", err)
	}
	d.Formats = []Format{"floppy"}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), `Formats: unknown format "floppy": choose one of `+formatList(AllFormats())) {
		t.Errorf("Formats [floppy]: Validate() = %v", err)
	}
	d.Formats = []Format{}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "at least one output Format") {
		t.Errorf("Formats []: Validate() = %v", err)
	}
}
