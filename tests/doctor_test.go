//go:build e2e

package tests

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

type doctorReport struct {
	Findings []struct {
		Check, Status, Detail, Remedy string
	}
	Accelerator string
	Ready       bool
}

// runDoctor runs doctor with the module's flags ctor and the function's flags args.
func runDoctor(t *testing.T, ctor []string, args ...string) doctorReport {
	t.Helper()
	out := daggerCall(t, 15*time.Minute, append(append(ctor, "doctor", "--format", "json"), args...)...).mustSucceed(t)
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor --format json: %v\n%s", err, out)
	}
	return r
}

func finding(t *testing.T, r doctorReport, check string) (status, detail, remedy string) {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == check {
			return f.Status, f.Detail, f.Remedy
		}
	}
	t.Fatalf("doctor reports no %q check: %+v", check, r.Findings)
	return
}

// doctor on this engine reports what this machine really has, and agrees with build's choice. Asked
// about the testbed with no --mirror, as a user on any engine asks, it finds the installer the module
// builds and serves itself.
func TestDoctorOnThisEngine(t *testing.T) {
	t.Parallel()
	r := runDoctor(t, nil, "--os", "testbed")
	if s, d, _ := finding(t, r, "engine platform"); s != "pass" || d != "x86_64" {
		t.Errorf("engine platform: %s %s", s, d)
	}
	dec := hostAccel(t)
	if dec.boots {
		if s, d, _ := finding(t, r, "kvm"); s != "pass" || !strings.Contains(d, "a test guest booted under KVM") {
			t.Errorf("kvm: %s %q; want a pass, as the probe booted a guest", s, d)
		}
	} else {
		kvmWant := "no usable /dev/kvm"
		if _, err := os.Stat("/dev/kvm"); err == nil {
			kvmWant = "/dev/kvm is present but cannot run a guest"
		}
		if s, d, rem := finding(t, r, "kvm"); s != "warn" || !strings.Contains(d, kvmWant) || !strings.Contains(d, "builds use TCG") || rem == "" {
			t.Errorf("kvm: %s %q %q; want a warning containing %q", s, d, rem, kvmWant)
		}
	}
	if r.Accelerator != dec.accel {
		t.Errorf("doctor says builds use %q, the probe decided %q", r.Accelerator, dec.accel)
	}
	if s, d, _ := finding(t, r, "privileged execs"); s != "pass" {
		t.Errorf("privileged execs: %s %s", s, d)
	}
	if s, d, _ := finding(t, r, "testbed installer"); s != "pass" || !strings.Contains(d, "built in the engine") {
		t.Errorf("testbed installer without --mirror: %s %q; want a pass naming the module's own build", s, d)
	}
	if s, _, _ := finding(t, r, "engine disk"); s == "" {
		t.Error("no disk verdict")
	}
	if !r.Ready {
		t.Errorf("doctor finds this engine not ready for the testbed: %+v", r.Findings)
	}
	// The same decision build makes.
	if acc := daggerCall(t, 10*time.Minute, "accelerator").mustSucceed(t); !strings.Contains(acc, "accelerator: "+r.Accelerator) {
		t.Errorf("accelerator function disagrees with doctor (%s):\n%s", r.Accelerator, acc)
	}
}

// With --mirror, doctor asks the mirror for the installer and its checksum file: a mirror that
// answers passes, and an unreachable one is reported as such, with a remedy, and the engine is not
// ready.
func TestDoctorMirror(t *testing.T) {
	t.Parallel()
	mir := startMirror(t, testbedDir(t))
	r := runDoctor(t, mir.flags(), "--os", "testbed")
	for _, c := range []string{"testbed installer", "testbed checksum file"} {
		if s, d, _ := finding(t, r, c); s != "pass" || !strings.Contains(d, "reachable") {
			t.Errorf("%s from a mirror that answers: %s %s", c, s, d)
		}
	}
	mir.srv.Close() // nothing answers on that port any more
	r = runDoctor(t, mir.flags(), "--os", "testbed")
	s, d, rem := finding(t, r, "testbed installer")
	if s != "fail" || !strings.Contains(d, "unreachable") || !strings.Contains(rem, "--mirror") {
		t.Errorf("unreachable installer: %s %q %q", s, d, rem)
	}
	if r.Ready {
		t.Error("doctor calls an engine ready that cannot reach its installer")
	}
}
