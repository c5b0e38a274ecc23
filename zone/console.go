package zone

import (
	"bytes"
	"os"
	"regexp"
	"strings"
)

// What the boot test reads on a guest's serial console: when to stop waiting, and the evidence.

// timerPanicText is how Linux gives up when its early check sees no timer interrupt through the
// IO-APIC within a calibrated wait. Under TCG on a busy host the emulated CPU can fall that far
// behind its own timer; guests on KVM or real hardware do not (cloud images add no_timer_check
// for overcommitted hosts for the same reason).
const timerPanicText = "Kernel panic - not syncing: IO-APIC + timer doesn't work"

// timerCheckPanic reports whether a console shows that early-boot panic.
func timerCheckPanic(console []byte) bool { return bytes.Contains(console, []byte(timerPanicText)) }

// finalStageUnits are the descriptions of cloud-final.service that systemd prints on the console:
// cloud-init before 24.3, and from 24.3 on. systemd shortens the unit's name to fit the line, never
// its description.
var finalStageUnits = []string{"Execute cloud user/final scripts", "Cloud-init: Final Stage"}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// finalStageFailed reports whether systemd says on the console that cloud-init's final stage
// failed. cloud-init prints its final message before the stage ends, so a guest whose console shows
// this without the message will not print it: there is nothing left to wait for.
func finalStageFailed(console []byte) bool {
	for _, l := range strings.Split(ansiEscape.ReplaceAllString(string(console), ""), "\n") {
		if !strings.Contains(l, "Failed to start") {
			continue
		}
		for _, u := range finalStageUnits {
			if strings.Contains(l, u) {
				return true
			}
		}
	}
	return false
}

func lastLineWith(text, marker string) string {
	line := ""
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		if i := strings.Index(l, marker); i >= 0 {
			line = l[i:]
		}
	}
	return strings.TrimSpace(line)
}

// consoleTail is the console's last lines, for evidence.
func consoleTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r", ""), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
