package artifacts

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/inspect"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

func testDefinition() osdefs.Definition {
	return osdefs.Definition{ID: "debian-12", Name: "Debian", Version: "12", Family: "debian",
		CloudStackOSType: "Debian GNU/Linux 12 (64-bit)", PasswordEnabled: true}
}

var provenAll = inspect.Proven{Password: true, SSHKey: true}

func TestNewRegisterTemplate(t *testing.T) {
	rt, err := NewRegisterTemplate(testDefinition(), osdefs.FormatOVA, "debian-12.ova", abcSHA512, provenAll)
	if err != nil {
		t.Fatal(err)
	}
	want := RegisterTemplate{Name: "debian-12-vmware", DisplayText: "Debian 12 (VMware)", Format: "OVA", Hypervisor: "VMware",
		OSType: "Debian GNU/Linux 12 (64-bit)", Checksum: "{SHA-512}" + abcSHA512, PasswordEnabled: true, SSHKeyEnabled: true,
		IsExtractable: true, Artifact: "debian-12.ova"}
	if rt != want {
		t.Fatalf("got %+v\nwant %+v", rt, want)
	}
	b, _ := json.Marshal(rt)
	testcheck.ContainsAll(t, "JSON", string(b), `"name":`, `"displayText":`, `"format":`, `"hypervisor":`, `"osType":`, `"checksum":`,
		`"passwordEnabled":`, `"sshKeyEnabled":`, `"isExtractable":`, `"artifact":`)
}

// Registration claims only what the boot test proved, and a password only where the catalogue means
// one.
func TestNewRegisterTemplateClaimsWhatWasProven(t *testing.T) {
	noPassword := testDefinition()
	noPassword.PasswordEnabled = false
	tests := []struct {
		name           string
		def            osdefs.Definition
		proven         inspect.Proven
		password, keys bool
	}{
		{"both proven", testDefinition(), provenAll, true, true},
		{"no boot test", testDefinition(), inspect.Proven{}, false, false},
		{"password failed or untried", testDefinition(), inspect.Proven{SSHKey: true}, false, true},
		{"catalogue without password", noPassword, provenAll, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := NewRegisterTemplate(tc.def, osdefs.FormatQCOW2, "a.qcow2", abcSHA512, tc.proven)
			if err != nil {
				t.Fatal(err)
			}
			if rt.PasswordEnabled != tc.password || rt.SSHKeyEnabled != tc.keys {
				t.Fatalf("passwordEnabled=%v sshKeyEnabled=%v, want %v %v", rt.PasswordEnabled, rt.SSHKeyEnabled, tc.password, tc.keys)
			}
		})
	}
}

func TestNewRegisterTemplateRejects(t *testing.T) {
	noOSType := testDefinition()
	noOSType.CloudStackOSType = ""
	tests := []struct {
		name     string
		def      osdefs.Definition
		format   osdefs.Format
		artifact string
		sha512   string
		want     string
	}{
		{"unknown format", testDefinition(), "floppy", "a.floppy", abcSHA512, "unknown format"},
		{"no os type", noOSType, osdefs.FormatQCOW2, "a.qcow2", abcSHA512, "CloudStackOSType"},
		{"path artifact", testDefinition(), osdefs.FormatQCOW2, "out/a.qcow2", abcSHA512, "artifact"},
		{"sha256 given", testDefinition(), osdefs.FormatQCOW2, "a.qcow2", abcSHA256, "SHA-512"},
		{"upper-case digest", testDefinition(), osdefs.FormatQCOW2, "a.qcow2", strings.ToUpper(abcSHA512), "SHA-512"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRegisterTemplate(tc.def, tc.format, tc.artifact, tc.sha512, provenAll)
			testcheck.Refused(t, err, tc.want)
		})
	}
}
