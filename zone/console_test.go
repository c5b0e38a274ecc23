package zone

import (
	"os"
	"path/filepath"
	"strings"
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

func TestFinalStageFailed(t *testing.T) {
	tests := []struct {
		name, console string
		want          bool
	}{
		{"systemd 252, name shortened, colours", "[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mcloud-fina…\x1b[0m - Execute cloud user/final scripts.\r\n", true},
		{"systemd 249, description only", "[FAILED] Failed to start Execute cloud user/final scripts.\n", true},
		{"cloud-init: no datasource for the stage, after the login prompt",
			"cst-kvm-vr login: [   40.215060] cloud-init[285]: Can not apply stage final, no datasource found! Likely bad things to come!\r\n", true},
		{"cloud-init: another stage", "[   30.1] cloud-init[270]: Can not apply stage config, no datasource found! Likely bad things to come!\n", false},
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

func TestConsoleWarnings(t *testing.T) {
	console := "[   29.1] cloud-init[251]: Cloud-init v. 22.4.2 running 'init' at Sun. Up 29.15 seconds.\r\n" +
		"[   59.2] cloud-init[251]: 2026-11-29 16:33:55,323 - url_helper.py[WARNING]: Calling 'http://10.0.2.2/latest/meta-data/instance-id' failed [30/120s]: request error\r\n" +
		"[\x1b[0;1;31mFAILED\x1b[0m] Failed to start cloud-init.service\r\n" +
		"[   90.3] cloud-init[251]: 2026-11-29 16:34:26,001 - util.py[WARNING]: No instance datasource found! Likely bad things to come!\r\n" +
		"[   90.4] cloud-init[251]: cloudinit.sources.DataSourceNotFoundException: Did not find any data source, searched classes: (DataSourceCloudStack)\r\n" +
		"testbed login: [   98.5] cloud-init[298]: Can not apply stage final, no datasource found! Likely bad things to come!\r\n"
	path := filepath.Join(t.TempDir(), "serial.log")
	if err := os.WriteFile(path, []byte(console), 0o644); err != nil {
		t.Fatal(err)
	}
	got := consoleWarnings(path, 30)
	testcheck.ContainsAll(t, "warnings", got, "url_helper.py[WARNING]: Calling 'http://10.0.2.2/latest/meta-data/instance-id' failed",
		"No instance datasource found!", "searched classes: (DataSourceCloudStack)")
	for _, not := range []string{"running 'init'", "Failed to start", "Can not apply stage final", "\r"} {
		if strings.Contains(got, not) {
			t.Errorf("warnings hold %q, which is no warning:\n%s", not, got)
		}
	}
	if got := consoleWarnings(path, 1); strings.Count(got, "\n") != 1 || !strings.Contains(got, "searched classes") {
		t.Errorf("the last 1 warning: %q", got)
	}
	if err := os.WriteFile(path, []byte("[    1.0] Linux version 6.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := consoleWarnings(path, 30); got != "cloud-init's warnings on the console: none" {
		t.Errorf("a console without warnings: %q", got)
	}
}

func TestConsoleTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serial.log")
	console := "[    1.0] Linux version 6.1\r\n\r\n[\x1b[0;32m  OK  \x1b[0m] Reached target Network.\r\n   \r\ntestbed login: \r\n"
	if err := os.WriteFile(path, []byte(console), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{
		1:  "testbed login:",
		2:  "[  OK  ] Reached target Network.\ntestbed login:",
		10: "[    1.0] Linux version 6.1\n[  OK  ] Reached target Network.\ntestbed login:",
	} {
		if got := consoleTail(path, n); got != want {
			t.Errorf("consoleTail(%d) = %q, want %q", n, got, want)
		}
	}
	if got := consoleTail(filepath.Join(t.TempDir(), "none.log"), 5); got != "" {
		t.Errorf("a console that was never written: %q", got)
	}
}
