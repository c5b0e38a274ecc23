package zone

import "testing"

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
