package packerrun

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// fakePacker stands in for `packer build`: it writes the given log lines, optionally starts a fake
// guest (a process named like QEMU) for guestSeconds, writes console to the serial log, sleeps, and
// exits with rc. SIGINT ends it as Packer's own handler would.
const fakePacker = `#!/bin/bash
if [ -n "${FAKE_WRAP:-}" ] && [ -z "${FAKE_CHILD:-}" ]; then
  # Like Packer's panicwrap: the parent forwards SIGTERM to a child that does the work.
  FAKE_CHILD=1 "$0" "$@" & child=$!
  trap 'kill -TERM "$child"' TERM
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  exit "$rc"
fi
trap 'echo "Build was cancelled."; exit 130' TERM
[ -n "${FAKE_GUEST:-}" ] && { "$FAKE_BIN/$CST_QEMU_COMM-guest" "$FAKE_GUEST" >/dev/null 2>&1 & }
sleep 0.2
[ -n "${FAKE_CONSOLE:-}" ] && printf '%s\n' "$FAKE_CONSOLE" >"$CST_WORK/serial.log"
printf '%b\n' "$FAKE_LOG"
sleep "${FAKE_SLEEP:-0}" >/dev/null 2>&1 & wait $!
if [ "${FAKE_RC:-0}" = 0 ]; then mkdir -p "$CST_WORK/output" && echo image >"$CST_WORK/output/img.qcow2"; fi
exit "${FAKE_RC:-0}"
`

// The fake guest keeps its own name while it sleeps (no exec), as QEMU's process does.
const fakeGuest = `#!/bin/bash
sleep "$1" >/dev/null 2>&1 & wait $!
`

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		env       []string
		wantRC    int
		wantErr   []string
		maxTime   time.Duration
		wantImage bool
	}{
		{name: "success", env: []string{"FAKE_LOG=Waiting for SSH to become available...\\nConnected to SSH!", "FAKE_GUEST=1", "FAKE_CONSOLE=booted"},
			wantRC: 0, maxTime: 10 * time.Second, wantImage: true},
		{name: "packer fails", env: []string{"FAKE_LOG=Build errored: Timeout waiting for SSH.", "FAKE_RC=3", "FAKE_CONSOLE=cst-installer: something"},
			wantRC: 3, wantErr: []string{"packer build failed (exit 3)", "Timeout waiting for SSH", "guest serial console, last 25 lines:", "cst-installer: something"}, maxTime: 10 * time.Second},
		{name: "guest powers off before SSH", env: []string{"FAKE_LOG=Waiting for SSH to become available...", "FAKE_GUEST=5", "FAKE_SLEEP=120",
			"FAKE_CONSOLE=cst-installer: FATAL: no inst.ks="},
			wantRC: 130, wantErr: []string{"the guest powered off before it answered SSH", "cst-installer: FATAL: no inst.ks=", "Build was cancelled"}, maxTime: 30 * time.Second},
		{name: "guest powers off, packer wrapped like panicwrap", env: []string{"FAKE_WRAP=1", "FAKE_LOG=Waiting for SSH to become available...", "FAKE_GUEST=5", "FAKE_SLEEP=120",
			"FAKE_CONSOLE=cst-installer: FATAL: no inst.ks="},
			wantRC: 130, wantErr: []string{"the guest powered off before it answered SSH", "Build was cancelled"}, maxTime: 30 * time.Second},
		{name: "silent console after the boot command", env: []string{"FAKE_LOG=Waiting for SSH to become available...", "FAKE_GUEST=120", "FAKE_SLEEP=120", "CST_CONSOLE_TIMEOUT=3"},
			wantRC: 130, wantErr: []string{"the guest printed nothing on its serial console in 3s after the boot command was typed", "(empty: the guest printed nothing)"}, maxTime: 30 * time.Second},
		{name: "disk full while the guest runs", env: []string{"FAKE_LOG=Waiting for SSH to become available...", "FAKE_GUEST=120", "FAKE_SLEEP=120", "FAKE_CONSOLE=[ 0.0] Linux version",
			"CST_MIN_FREE_BYTES=" + strconv.FormatInt(1<<62, 10)},
			wantRC: 130, wantErr: []string{"the engine's disk is full (", "dagger core engine local-cache prune", "Build was cancelled"}, maxTime: 30 * time.Second},
		{name: "kernel panic before SSH", env: []string{"FAKE_LOG=Waiting for SSH to become available...", "FAKE_GUEST=120", "FAKE_SLEEP=120",
			"FAKE_CONSOLE=[    5.737406] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"},
			wantRC: 130, wantErr: []string{"the guest's kernel panicked before it answered SSH", "VFS: Unable to mount root fs", "Build was cancelled"}, maxTime: 30 * time.Second},
		{name: "a talking console is not stopped", env: []string{"FAKE_LOG=Waiting for SSH to become available...", "FAKE_GUEST=8", "FAKE_SLEEP=6", "CST_CONSOLE_TIMEOUT=2", "FAKE_CONSOLE=[ 0.0] Linux version"},
			wantRC: 0, maxTime: 30 * time.Second, wantImage: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Each case's guest has its own process name: the script looks for the guest by name
			// among all processes, and the cases run side by side.
			guestName := "fq" + strconv.Itoa(os.Getpid()%1000) + strconv.Itoa(i)
			work, bin := t.TempDir(), t.TempDir()
			for name, body := range map[string]string{"packer": fakePacker, guestName + "-guest": fakeGuest} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "-c", Script, "packer-run", "-var", "x=y")
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CST_WORK="+work, "FAKE_BIN="+bin, "CST_QEMU_COMM="+guestName,
				// The disk-full watch would trip on a nearly full test host; only its own case sets a floor.
				"CST_MIN_FREE_BYTES=0")
			cmd.Env = append(cmd.Env, tc.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			t0 := time.Now()
			err := cmd.Run()
			elapsed := time.Since(t0)
			rc := 0
			if ee, ok := err.(*exec.ExitError); ok {
				rc = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if rc != tc.wantRC {
				t.Errorf("exit %d, want %d\n%s", rc, tc.wantRC, stderr.String())
			}
			testcheck.ContainsAll(t, "stderr", stderr.String(), tc.wantErr...)
			if elapsed > tc.maxTime {
				t.Errorf("took %s, want under %s", elapsed, tc.maxTime)
			}
			if _, err := os.Stat(filepath.Join(work, "result", "packer.log")); err != nil {
				t.Errorf("no packer.log kept: %v", err)
			}
			if _, err := os.Stat(filepath.Join(work, "result", "img.qcow2")); (err == nil) != tc.wantImage {
				t.Errorf("image in result: %v, want %v", err == nil, tc.wantImage)
			}
		})
	}
}
