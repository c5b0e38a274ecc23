// Package accelerator decides, before a build spends minutes, which QEMU accelerator it uses: KVM only
// where the engine's probe booted a real guest under it, TCG otherwise. Pure Go, so every rule is
// unit-tested.
package accelerator

import (
	"bufio"
	"fmt"
	"strings"
)

// Accelerators the build accepts.
const (
	AccelAuto = "auto"
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
)

// KVMProbe is what the engine host told us about KVM. The probe does not stop at opening /dev/kvm:
// it boots a real Linux kernel under -accel kvm and waits for a marker on the serial console,
// because some hosts (nested or paravirtual KVM) expose a device that hangs or crashes stock kernels.
type KVMProbe struct {
	// Arch is the engine's machine architecture (uname -m).
	Arch string
	// Device is true when /dev/kvm exists and opens.
	Device bool
	// Boots is true when a guest kernel reached userspace under KVM within the probe's time limit.
	Boots bool
	// Seconds is how long the probe boot took (or ran before it was stopped).
	Seconds float64
	// Detail is the evidence: why the device is unusable, the console's last words.
	Detail string
}

// ParseProbe reads the key=value lines the probe script prints.
func ParseProbe(out string) (KVMProbe, error) {
	var p KVMProbe
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		seen[k] = true
		switch k {
		case "arch":
			p.Arch = v
		case "device":
			p.Device = v == "yes"
		case "boots":
			p.Boots = v == "yes"
		case "seconds":
			_, _ = fmt.Sscanf(v, "%g", &p.Seconds)
		case "detail":
			p.Detail = v
		}
	}
	for _, k := range []string{"arch", "device", "boots"} {
		if !seen[k] {
			return KVMProbe{}, fmt.Errorf("KVM probe output lacks %q: %q", k, out)
		}
	}
	return p, nil
}

// Decision is the accelerator a build will use, with a warning for the user when it is slow.
type Decision struct {
	Accel   string
	Warning string
}

// TCGSlowdown is the rough cost of software emulation against KVM for an OS install, for messages.
const TCGSlowdown = "5-20x"

// Check refuses a name that is not an accelerator, before anything probes or builds.
func Check(requested string) error {
	switch strings.ToLower(strings.TrimSpace(requested)) {
	case AccelAuto, "", AccelKVM, AccelTCG:
		return nil
	}
	return fmt.Errorf("unknown accelerator %q: choose auto, kvm or tcg", requested)
}

// ChooseAccel turns the requested accelerator into the one to use. auto takes KVM only when the
// probe booted a guest with it; kvm where KVM cannot run a guest fails at once instead of timing
// out twenty minutes later.
func ChooseAccel(requested string, p KVMProbe) (Decision, error) {
	why := p.reason()
	switch strings.ToLower(strings.TrimSpace(requested)) {
	case AccelAuto, "":
		if p.Boots {
			return Decision{Accel: AccelKVM}, nil
		}
		return Decision{Accel: AccelTCG, Warning: fmt.Sprintf(
			"KVM is not usable on this engine (%s): building with QEMU's TCG software emulation, %s slower; for speed point _EXPERIMENTAL_DAGGER_RUNNER_HOST at an x86_64 engine with working KVM",
			why, TCGSlowdown)}, nil
	case AccelKVM:
		if !p.Boots {
			return Decision{}, fmt.Errorf("--accel kvm: KVM cannot run a guest on this engine (%s); use --accel tcg (or auto) to build with software emulation, or run on an x86_64 engine with working KVM", why)
		}
		return Decision{Accel: AccelKVM}, nil
	case AccelTCG:
		d := Decision{Accel: AccelTCG}
		if p.Boots {
			d.Warning = "KVM works on this engine but --accel tcg was asked for: expect a " + TCGSlowdown + " slower build"
		}
		return d, nil
	}
	return Decision{}, Check(requested)
}

func (p KVMProbe) reason() string {
	switch {
	case p.Arch != "" && p.Arch != "x86_64":
		return fmt.Sprintf("the engine runs on %s, and x86_64 guests need an x86_64 host for KVM", p.Arch)
	case !p.Device:
		return "no usable /dev/kvm" + detailSuffix(p.Detail)
	case !p.Boots:
		return "/dev/kvm is present but a test guest did not boot under it" + detailSuffix(p.Detail)
	}
	return "KVM boots guests"
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}
