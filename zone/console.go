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

// finalStageAborted is how cloud-init says its final stage will not run at all (it has no
// datasource); the stage's modules, the final message among them, never run.
const finalStageAborted = "Can not apply stage final"

// finalStageFailed reports whether the console shows that cloud-init's final stage failed: cloud-init
// saying it cannot run the stage, or systemd saying cloud-final failed. systemd prints unit failures
// on the console only until the boot is over, so cloud-init's own line is the one to count on.
// cloud-init prints its final message before the stage ends, so a guest whose console shows either
// without the message will not print it: there is nothing left to wait for.
func finalStageFailed(console []byte) bool {
	for _, l := range strings.Split(ansiEscape.ReplaceAllString(string(console), ""), "\n") {
		if strings.Contains(l, finalStageAborted) {
			return true
		}
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

// consoleLines is the last n of the console's lines that keep accepts, without carriage returns,
// terminal colours or surrounding blanks.
func consoleLines(path string, n int, keep func(line string) bool) []string {
	b, _ := os.ReadFile(path)
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(ansiEscape.ReplaceAllString(string(b), ""), "\r", ""), "\n") {
		if l = strings.TrimSpace(l); l != "" && keep(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// consoleTail is the console's last lines, for evidence.
func consoleTail(path string, n int) string {
	return strings.Join(consoleLines(path, n, func(string) bool { return true }), "\n")
}

// cloudInitWarning marks a console line in which cloud-init reports trouble: its WARNING and ERROR
// log lines (cloud-init's console handler prints those) and the exceptions they end in.
var cloudInitWarning = regexp.MustCompile(`cloud-init\[\d+\]: .*(\[WARNING\]|\[ERROR\]|Exception:|Error:)`)

// consoleWarnings is every console line in which cloud-init reported trouble, the last n of them.
// The console's tail shows where a boot ended; these show what went wrong earlier, when a failed
// network stage has scrolled out of the tail and the guest lets no one in to read its logs.
func consoleWarnings(path string, n int) string {
	lines := consoleLines(path, n, cloudInitWarning.MatchString)
	if len(lines) == 0 {
		return "cloud-init's warnings on the console: none"
	}
	return "cloud-init's warnings on the console:\n" + strings.Join(lines, "\n")
}
