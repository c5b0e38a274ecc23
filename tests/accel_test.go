//go:build e2e

package tests

import (
	"os"
	"regexp"
	"sync"
	"testing"
	"time"
)

// accelDecision is what the engine's KVM probe decided on this host: the tests assert it, never a
// fixed answer, so the suite passes on a KVM runner as on a TCG-only one.
type accelDecision struct {
	accel string // "kvm" or "tcg"
	boots bool   // KVM ran the probe's guest
	// reason is the evidence auto gives for falling back to TCG ("" where KVM works).
	reason string
}

var (
	accelOnce sync.Once
	accelDec  accelDecision
	accelErr  string
)

var (
	accelLineRe = regexp.MustCompile(`(?m)^accelerator: (kvm|tcg)$`)
	bootsLineRe = regexp.MustCompile(`(?m)boots a guest: (true|false)`)
)

// hostAccel asks the engine once, as build's --accel auto does.
func hostAccel(t *testing.T) accelDecision {
	t.Helper()
	accelOnce.Do(func() {
		// Stays the answer if the call below ends this goroutine (a t.Fatal in the harness).
		accelErr = "the accelerator probe did not finish"
		r := daggerCall(t, 25*time.Minute, "accelerator")
		if r.err != nil {
			accelErr = "dagger call accelerator failed: " + tail(r.stderr, 30)
			return
		}
		a, b := accelLineRe.FindStringSubmatch(r.stdout), bootsLineRe.FindStringSubmatch(r.stdout)
		if a == nil || b == nil {
			accelErr = "unreadable accelerator decision:\n" + r.stdout
			return
		}
		accelErr = ""
		accelDec = accelDecision{accel: a[1], boots: b[1] == "true"}
		if !accelDec.boots {
			accelDec.reason = "no usable /dev/kvm"
			if _, err := os.Stat("/dev/kvm"); err == nil {
				accelDec.reason = "/dev/kvm is present but a test guest did not boot under it"
			}
		}
		// The decision must follow the evidence: KVM exactly where it booted the probe's guest.
		if (accelDec.accel == "kvm") != accelDec.boots {
			accelErr = "the probe's decision contradicts its evidence:\n" + r.stdout
		}
	})
	if accelErr != "" {
		t.Fatal(accelErr)
	}
	return accelDec
}
