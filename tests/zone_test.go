//go:build e2e

package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/zone"
)

// zoneChecks are the checks every zone case reports; vrChecks are added behind a virtual router, and
// resetChecks where the case resets the password.
var (
	zoneChecks = []string{"cloud-init finishes", "SSH key from metadata logs in", "hostname from metadata", "user-data ran",
		"root file system grown to the offering's disk", "cloud-init reports no errors", "SSH host key is the instance's own"}
	vrChecks    = []string{"password from virtual router logs in", "guest acknowledged the password"}
	resetChecks = []string{"after reset password: cloud-init finishes", "after reset password: password from virtual router logs in",
		"after reset password: guest acknowledged the password", "after reset password: old password refused",
		"after reset password: SSH host key unchanged"}
)

// checkZoneMatrix asserts that a validation report passed every check of every zone case.
func checkZoneMatrix(t *testing.T, report string) {
	t.Helper()
	for _, c := range zone.Matrix {
		want := append([]string{}, zoneChecks...)
		switch c.Source {
		case zone.FromVirtualRouter:
			want = append(want, vrChecks...)
		case zone.FromConfigDrive:
			want = append(want, "password from config drive logs in")
		}
		if c.ResetPassword {
			want = append(want, resetChecks...)
		}
		for _, w := range want {
			if line := "PASS  zone " + c.Name + ": " + w; !strings.Contains(report, line) {
				t.Errorf("validation report lacks %q:\n%s", line, report)
			}
		}
	}
	if strings.Contains(report, "FAIL") {
		t.Errorf("validation report has a failed check:\n%s", report)
	}
}

// editedTestbed is the testbed template as Packer leaves it (before validation), edited with debugfs
// commands: a template that lacks what the test takes out.
func editedTestbed(t *testing.T, commands ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	daggerCall(t, 40*time.Minute, "packer-build", "--os", "testbed", "export", "--path", out).mustSucceed(t)
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	return editGuestImage(t, filepath.Join(out, d.VMName()), commands...)
}

// The boot test catches a template without what makes it work in a zone. The testbed template with
// its password client (wget) removed still boots, takes its key, hostname and user-data behind a KVM
// virtual router, but the password CloudStack shows never reaches it: validation must fail on exactly
// that, naming the check.
func TestZoneCatchesMissingPasswordClient(t *testing.T) {
	t.Parallel()
	broken := editedTestbed(t, "rm /usr/bin/wget")

	// The default boot timeout: on a loaded TCG host a boot can take minutes to bring its network up,
	// and no boot here is meant to run out of time.
	r := daggerCall(t, 30*time.Minute, "validate", "--image", broken, "--skip-zone-cases", "config-drive,xen-vr")
	r.mustFailWith(t, "FAIL  zone kvm-vr: password from virtual router logs in", "FAIL  zone kvm-vr: guest acknowledged the password",
		"password served 0 time(s)")
	all := r.stdout + r.stderr
	for _, w := range []string{"SSH key from metadata logs in", "hostname from metadata", "user-data ran", "cloud-init finishes"} {
		if strings.Contains(all, "FAIL  zone kvm-vr: "+w) {
			t.Errorf("without wget only the password should fail, but %q failed too:\n%s", w, tail(r.stderr, 60))
		}
	}
	for _, skipped := range []string{"zone config-drive:", "zone xen-vr:"} {
		if strings.Contains(all, skipped) {
			t.Errorf("a skipped case ran: %q in the output", skipped)
		}
	}
}

// When a boot's cloud-init stops, the report says why from inside the guest. The testbed template's
// datasource chooser is swapped for one that leaves the list empty once user-data has run, as it
// would be on a reboot where the chooser went wrong: the first boot passes, cloud-init on the reset
// boot finds no datasource, and the failed check carries the guest's datasource list and
// cloud-init's own errors, read over SSH with the first boot's key.
func TestZoneReportsWhyCloudInitStopped(t *testing.T) {
	t.Parallel()
	chooser := filepath.Join(t.TempDir(), "cloudstack-datasource")
	script := "#!/bin/sh\nmkdir -p /run/cloud-init\nlist='[ CloudStack ]'\n" +
		"if [ -e /var/lib/cst-zone-user-data ]; then list='[ ]'; fi\n" +
		"printf 'datasource_list: %s\\n' \"$list\" >/run/cloud-init/cloud.cfg\n"
	if err := os.WriteFile(chooser, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := editedTestbed(t, "cd /usr/local/sbin", "rm cloudstack-datasource", "write "+chooser+" cloudstack-datasource")

	r := daggerCall(t, 30*time.Minute, "validate", "--image", broken, "--skip-zone-cases", "config-drive,xen-vr")
	r.mustFailWith(t, "FAIL  zone kvm-vr: after reset password: cloud-init finishes",
		"cloud-init's final stage failed without its final message", "the guest's own account:",
		"--- /run/cloud-init/cloud.cfg", "datasource_list: [ ]", "--- /var/log/cloud-init.log: warnings and errors",
		"searched classes: ()", "cloud-init's warnings on the console:\n")
	if all := r.stdout + r.stderr; strings.Contains(all, "FAIL  zone kvm-vr: cloud-init finishes") {
		t.Errorf("the first boot, with the VR in its list, failed too:\n%s", tail(r.stderr, 60))
	}
}
