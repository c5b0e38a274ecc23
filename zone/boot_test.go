package zone

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

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

// fakeQEMU stands in for qemu-system-x86_64 where a real guest cannot be made to panic on demand:
// the nth power-on writes console-n from dir to the serial file QEMU is given, then runs until it is
// stopped, as a guest does.
const fakeQEMU = `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -serial ] && serial=${2#file:}; shift; done
n=$(( $(cat "$CST_FAKE_QEMU_DIR/boots" 2>/dev/null || echo 0) + 1 ))
echo $n >"$CST_FAKE_QEMU_DIR/boots"
cat "$CST_FAKE_QEMU_DIR/console-$n" >"$serial" 2>/dev/null
exec sleep 60
`

// A guest kernel that panics in its timer check under TCG is powered on once more, on whichever boot
// it happens; under KVM, or after a boot that went anywhere, the first power-on stands.
func TestPowerOnAfterTimerPanic(t *testing.T) {
	c := Case{Name: "kvm-vr"}
	panicked := "[    0.02] ..... failed :(.\n[    0.02] " + timerPanicText + "!  Boot with apic=debug\n"
	finished := "[   40.1] cloud-init[300]: " + finalMarker(c) + " after 40.1 s\n"
	tests := []struct {
		name, accel, label string
		consoles           []string // what each power-on prints
		wantBoots          int
		wantReady          bool
		wantDetail         string
	}{
		{"panic under TCG, reset boot", "tcg", "reset", []string{panicked, finished}, 2, true, "second power-on"},
		{"panic under TCG, first boot", "tcg", "first", []string{panicked, finished}, 2, true, "second power-on"},
		{"panic under KVM: the template's own", "kvm", "reset", []string{panicked, finished}, 1, false, timerPanicText},
		{"no panic", "tcg", "reset", []string{finished, finished}, 1, true, "seen on the console"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin, fake := t.TempDir(), t.TempDir()
			if err := os.WriteFile(filepath.Join(bin, "qemu-system-x86_64"), []byte(fakeQEMU), 0o755); err != nil {
				t.Fatal(err)
			}
			for i, console := range tc.consoles {
				if err := os.WriteFile(filepath.Join(fake, fmt.Sprintf("console-%d", i+1)), []byte(console), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
			t.Setenv("CST_FAKE_QEMU_DIR", fake)
			r := &Runner{Accel: tc.accel, Timeout: time.Minute, Logf: t.Logf}
			cr := &caseRun{c: c, dir: t.TempDir()}
			agains := 0
			g, err := r.powerOn(context.Background(), cr, "", tc.label, func() error { agains++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			g.stop()
			boots, _ := os.ReadFile(filepath.Join(fake, "boots"))
			if got := strings.TrimSpace(string(boots)); got != strconv.Itoa(tc.wantBoots) {
				t.Errorf("powered on %s time(s), want %d", got, tc.wantBoots)
			}
			if agains != tc.wantBoots-1 {
				t.Errorf("ran again %d time(s) before a second power-on, want %d", agains, tc.wantBoots-1)
			}
			if g.ready != tc.wantReady || !strings.Contains(g.detail, tc.wantDetail) {
				t.Errorf("ready %v, detail %q; want ready %v and a detail with %q", g.ready, g.detail, tc.wantReady, tc.wantDetail)
			}
			if tc.wantBoots == 2 {
				if _, err := os.Stat(filepath.Join(cr.dir, "console-"+tc.label+"-again.log")); err != nil {
					t.Errorf("the second power-on has no console of its own: %v", err)
				}
			}
		})
	}
}
