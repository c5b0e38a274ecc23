// Package doctor judges whether an engine can build: its platform, KVM, free disk and tools, as
// findings with a status, a detail and a remedy, reported as a table or JSON.
package doctor

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// Status of a doctor finding.
type Status string

// Statuses, from good to bad.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Finding is one doctor check's verdict with a one-line remedy when it is not a pass.
type Finding struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Remedy string `json:"remedy,omitempty"`
}

// Report is doctor's answer: can this engine build, and how fast.
type Report struct {
	Findings []Finding `json:"findings"`
	// Accelerator is what `build --accel auto` would use on this engine.
	Accelerator string `json:"accelerator"`
	// Ready is false when any check failed.
	Ready bool `json:"ready"`
}

// NewReport computes Ready from the findings.
func NewReport(accel string, findings []Finding) Report {
	r := Report{Findings: findings, Accelerator: accel, Ready: true}
	for _, f := range findings {
		if f.Status == Fail {
			r.Ready = false
		}
	}
	return r
}

// Table renders the report for people.
func (r Report) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tSTATUS\tDETAIL")
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%s\t%s\t%s\n", f.Check, strings.ToUpper(string(f.Status)), f.Detail)
		if f.Remedy != "" && f.Status != Pass {
			fmt.Fprintf(w, "\t\t→ %s\n", f.Remedy)
		}
	}
	_ = w.Flush()
	verdict := "ready to build"
	if !r.Ready {
		verdict = "NOT ready: fix the failed checks above"
	}
	fmt.Fprintf(&b, "\naccelerator for builds: %s; %s\n", r.Accelerator, verdict)
	return b.String()
}

// JSON renders the report for machines.
func (r Report) JSON() (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	return string(b) + "\n", err
}

// PlatformFinding judges the engine's architecture.
func PlatformFinding(arch string) Finding {
	f := Finding{Check: "engine platform", Detail: arch}
	switch arch {
	case "x86_64", "amd64":
		f.Status = Pass
	case "":
		f.Status, f.Detail = Fail, "unknown"
		f.Remedy = "the probe container did not report its architecture; check the engine"
	default:
		f.Status = Warn
		f.Detail = arch + ": x86_64 guests run under full emulation, " + accelerator.TCGSlowdown + " slower than KVM"
		f.Remedy = "point _EXPERIMENTAL_DAGGER_RUNNER_HOST at an x86_64 engine with KVM (see docs/ci.md)"
	}
	return f
}

// KVMFinding judges the KVM probe; it agrees with accelerator.ChooseAccel by construction.
func KVMFinding(p accelerator.KVMProbe) Finding {
	f := Finding{Check: "kvm"}
	switch {
	case p.Boots:
		f.Status, f.Detail = Pass, fmt.Sprintf("a test guest booted under KVM in %.1fs", p.Seconds)
	case p.Device:
		f.Status, f.Detail = Warn, "/dev/kvm is present but cannot run a guest ("+p.Detail+"): builds use TCG, "+accelerator.TCGSlowdown+" slower"
		f.Remedy = "use an engine host with working (non-nested or properly nested) KVM for speed; builds still work"
	default:
		f.Status, f.Detail = Warn, "no usable /dev/kvm ("+p.Detail+"): builds use TCG, "+accelerator.TCGSlowdown+" slower"
		f.Remedy = "run the engine on an x86_64 host with /dev/kvm (for docker: --device /dev/kvm) for speed"
	}
	return f
}

// DiskFinding compares free space on the engine's state filesystem with what the builds need.
func DiskFinding(availBytes, needBytes int64) Finding {
	f := Finding{Check: "engine disk", Detail: fmt.Sprintf("%s free, builds need about %s", gib(availBytes), gib(needBytes))}
	switch {
	case availBytes < needBytes:
		f.Status = Fail
		f.Remedy = "free space where the engine keeps its state (dagger core engine local-cache prune, or a bigger disk)"
	case availBytes < 2*needBytes:
		f.Status = Warn
		f.Remedy = "space is tight: a second build or cache growth may fill the disk"
	default:
		f.Status = Pass
	}
	return f
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// DiskNeed is a build's rough peak footprint: installer, working disk, converted artifacts.
func DiskNeed(diskSizeBytes, isoBytes int64) int64 {
	return isoBytes + 3*diskSizeBytes
}

// Installer sizes BuildNeed counts, before the installer is fetched: a vendor's installer ISO is
// up to 3 GiB, a disk image (the testbed) under 1 GiB.
const (
	isoEstimate       = 3 << 30
	diskImageEstimate = 1 << 30
)

// BuildNeed is DiskNeed for a build of d: its virtual disk (d.DiskSize) and the estimate of its
// installer. The doctor's disk check and the CI docs' numbers both come from it.
func BuildNeed(d osdefs.Definition) (int64, error) {
	size, err := ParseSize(d.DiskSize)
	if err != nil {
		return 0, fmt.Errorf("%s: disk size: %w", d.ID, err)
	}
	iso := int64(isoEstimate)
	if d.DiskImage {
		iso = diskImageEstimate
	}
	return DiskNeed(size, iso), nil
}

// ParseSize reads Packer-style sizes ("10G", "1536M", "2048" MiB).
func ParseSize(size string) (int64, error) {
	s := strings.TrimSpace(strings.ToUpper(size))
	mult := int64(1 << 20)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		s = strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "T"):
		mult, s = 1<<40, strings.TrimSuffix(s, "T")
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q is not like 10G or 1536M", size)
	}
	return n * mult, nil
}
