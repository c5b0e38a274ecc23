package zone

import (
	"os/exec"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestTimerCheckPanic(t *testing.T) {
	for console, want := range map[string]bool{
		"[    0.024000] ..... failed :(.\n[    0.024000] Kernel panic - not syncing: IO-APIC + timer doesn't work!  Boot with apic=debug\n": true,
		"[    2.100000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n":                                   false,
		"cloud-init finished\n": false,
	} {
		if got := timerCheckPanic([]byte(console)); got != want {
			t.Errorf("timerCheckPanic(%q) = %v, want %v", console, got, want)
		}
	}
}

// The evidence script runs on a host without cloud-init's files, as on a guest whose cloud-init
// never wrote them: every section still prints, with the error in place of what is missing.
func TestCloudInitEvidenceScript(t *testing.T) {
	out, err := exec.Command("sh", "-c", cloudInitEvidenceScript).CombinedOutput()
	if err != nil {
		t.Fatalf("the script failed: %v\n%s", err, out)
	}
	testcheck.ContainsAll(t, "evidence", string(out),
		"--- /run/cloud-init/cloud.cfg", "--- /var/log/cloud-init.log: warnings and errors, last 40",
		"--- journal of this boot: cloudstack-datasource, cloud-init-local, cloud-init, last 30 lines but network tables")
}

func TestFinalStageFailed(t *testing.T) {
	tests := []struct {
		name, console string
		want          bool
	}{
		{"systemd 252, name shortened, colours", "[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mcloud-fina…\x1b[0m - Execute cloud user/final scripts.\r\n", true},
		{"systemd 249, description only", "[FAILED] Failed to start Execute cloud user/final scripts.\n", true},
		{"cloud-init 24.3 and later", "[FAILED] Failed to start cloud-final.service - Cloud-init: Final Stage.\n", true},
		{"the network stage failed, the final one not yet", "[FAILED] Failed to start cloud-init.service - Initial cloud-init job (metadata service crawler).\n", false},
		{"final stage finished", "[  OK  ] Finished cloud-final.service - Execute cloud user/final scripts.\n", false},
		{"starting is not failing", "         Starting cloud-final.service - Execute cloud user/final scripts...\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := finalStageFailed([]byte(tc.console)); got != tc.want {
				t.Errorf("finalStageFailed(%q) = %v, want %v", tc.console, got, tc.want)
			}
		})
	}
}
