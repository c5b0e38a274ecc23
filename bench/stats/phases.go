package stats

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Line is one line of a process's output and when it was written, counted from the process's start.
type Line struct {
	At   time.Duration
	Text string
}

// ReadStamped reads r line by line and stamps each line with since() as it arrives: Packer writes
// each UI line at once, so the arrival time is when Packer reached that point. It returns at EOF.
func ReadStamped(r io.Reader, since func() time.Duration) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		lines = append(lines, Line{At: since(), Text: sc.Text()})
	}
	return lines, sc.Err()
}

// Text joins the lines' text, one per line.
func Text(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

var (
	ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	// A log line of `dagger --progress=plain`: the span's number, its indentation, the time since the
	// span started in brackets, a pipe, the line:  "60  : ┆ [1m38s] | ==> qemu.template: Connected to SSH!"
	plainLogRe = regexp.MustCompile(`^(\d+)\s*:[^\[|]*\[([0-9.]+[a-zµ]+(?:[0-9.]+[a-zµ]+)*)\] \|(?: (.*))?$`)
	durPartRe  = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?)(ms|µs|us|ns|d|h|m|s)`)
)

// StripANSI removes terminal colour and style sequences.
func StripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

// ParseDaggerDuration reads a duration as dagger's progress output prints it: 0.6s, 1m38s, 2h3m4s, 1d2h.
func ParseDaggerDuration(s string) (time.Duration, error) {
	parts := durPartRe.FindAllStringSubmatchIndex(s, -1)
	if len(parts) == 0 {
		return 0, fmt.Errorf("not a duration: %q", s)
	}
	var d time.Duration
	end := 0
	for _, p := range parts {
		if p[0] != end {
			return 0, fmt.Errorf("not a duration: %q", s)
		}
		end = p[1]
		n, err := strconv.ParseFloat(s[p[2]:p[3]], 64)
		if err != nil {
			return 0, err
		}
		unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second,
			"ms": time.Millisecond, "µs": time.Microsecond, "us": time.Microsecond, "ns": 1}[s[p[4]:p[5]]]
		d += time.Duration(n * float64(unit))
	}
	if end != len(s) {
		return 0, fmt.Errorf("not a duration: %q", s)
	}
	return d, nil
}

// PlainLogs reads the output of `dagger --progress=plain` and returns each span's log lines (by the
// span's number) with the time since that span started, which the engine stamps on each line as the
// process writes it: 0.1 s resolution in a span's first minute, 1 s after.
func PlainLogs(out string) map[string][]Line {
	spans := map[string][]Line{}
	for _, raw := range strings.Split(out, "\n") {
		m := plainLogRe.FindStringSubmatch(strings.TrimRight(StripANSI(raw), "\r"))
		if m == nil {
			continue
		}
		d, err := ParseDaggerDuration(m[2])
		if err != nil {
			continue
		}
		spans[m[1]] = append(spans[m[1]], Line{At: d, Text: m[3]})
	}
	return spans
}

// packerMarker is a line every successful Packer build with an SSH communicator prints.
const packerMarker = "Waiting for SSH to become available"

// PackerRun finds Packer's output among the spans of `dagger --progress=plain` output: the one span
// whose lines hold Packer's "Waiting for SSH to become available". The times count from the start of
// the exec that ran Packer.
func PackerRun(out string) ([]Line, error) {
	var found []string
	spans := PlainLogs(out)
	for id, lines := range spans {
		for _, l := range lines {
			if strings.Contains(l.Text, packerMarker) {
				found = append(found, id)
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no Packer output (a span with %q) in the dagger output: was the Packer run cached, or the output not --progress=plain?", packerMarker)
	case 1:
		return spans[found[0]], nil
	default:
		return nil, fmt.Errorf("%d Packer runs in one dagger output (spans %v): cannot tell them apart", len(found), found)
	}
}

// PhaseKey names one phase of a Packer build.
type PhaseKey struct {
	Key   string
	Label string
}

// The phases of a Packer build with the QEMU builder and an SSH communicator, in order, as read from
// Packer's UI lines, then Packer's whole run and what the caller spent outside it (filled in by the
// caller, who knows the whole run's time).
var (
	PhaseVMStart      = PhaseKey{"vm-start", "start → QEMU launched (exec or process start, ISO check, disk)"}
	PhaseBootCommand  = PhaseKey{"boot-command", "boot wait + boot command (QEMU launched → waiting for SSH)"}
	PhaseBootToSSH    = PhaseKey{"boot-to-ssh", "boot to SSH (waiting for SSH → connected)"}
	PhaseProvisioning = PhaseKey{"provisioning", "provisioning (connected → halting)"}
	PhaseShutdown     = PhaseKey{"shutdown", "shutdown (halting → guest off)"}
	PhaseExport       = PhaseKey{"export", "export (disk conversion → artifact)"}
	PhasePacker       = PhaseKey{"packer", "Packer in all"}
	PhaseOutside      = PhaseKey{"outside-packer", "outside Packer in all (CLI, module, stages, container, result)"}
	// PhaseStageExtra is the module's packer-build stage less Packer's run: rendering the inputs,
	// starting the container, taking its result.
	PhaseStageExtra = PhaseKey{"packer-build-stage-extra", "`packer-build` stage outside Packer (inputs, container start, result)"}
	Phases          = []PhaseKey{PhaseVMStart, PhaseBootCommand, PhaseBootToSSH, PhaseProvisioning, PhaseShutdown, PhaseExport, PhasePacker, PhaseOutside, PhaseStageExtra}
)

var buildFinishedRe = regexp.MustCompile(`Build '[^']*' finished`)

// PackerPhases splits a Packer build's output into its phases (seconds by PhaseKey.Key):
//
//	vm-start      start → "Starting VM" (the ISO or disk image checked and copied, QEMU launched)
//	boot-command  → "Waiting for SSH to become available" (boot_wait, the boot command typed over VNC)
//	boot-to-ssh   → "Connected to SSH!" (boot or install, until sshd answers)
//	provisioning  → "Gracefully halting virtual machine" / "Halting the virtual machine"
//	shutdown      → the next step: "Converting hard drive" or "Build '…' finished" (QEMU exited)
//	export        → Packer's last line (disk conversion, the artifact in the output directory)
//	packer        start → Packer's last line
//
// Times count from the start of the process (or exec); a phase that the stamps' resolution makes
// negative counts as zero.
func PackerPhases(lines []Line) (map[string]float64, error) {
	idx := 0
	find := func(what string, match func(string) bool) (time.Duration, error) {
		for i := idx; i < len(lines); i++ {
			if match(lines[i].Text) {
				idx = i + 1
				return lines[i].At, nil
			}
		}
		return 0, fmt.Errorf("Packer's output lacks %s", what)
	}
	contains := func(subs ...string) func(string) bool {
		return func(s string) bool {
			for _, sub := range subs {
				if strings.Contains(s, sub) {
					return true
				}
			}
			return false
		}
	}
	var marks [5]time.Duration
	steps := []struct {
		what  string
		match func(string) bool
	}{
		{`"Starting VM"`, contains("Starting VM")},
		{`"` + packerMarker + `"`, contains(packerMarker)},
		{`"Connected to SSH!"`, contains("Connected to SSH!")},
		{`"Gracefully halting virtual machine" or "Halting the virtual machine"`, contains("Gracefully halting virtual machine", "Halting the virtual machine")},
		{`"Converting hard drive" or "Build '…' finished" after the halt`, func(s string) bool {
			return strings.Contains(s, "Converting hard drive") || buildFinishedRe.MatchString(s)
		}},
	}
	for i, s := range steps {
		at, err := find(s.what, s.match)
		if err != nil {
			return nil, err
		}
		marks[i] = at
	}
	end := lines[len(lines)-1].At
	sec := func(from, to time.Duration) float64 {
		if to < from {
			return 0
		}
		return (to - from).Seconds()
	}
	return map[string]float64{
		PhaseVMStart.Key:      sec(0, marks[0]),
		PhaseBootCommand.Key:  sec(marks[0], marks[1]),
		PhaseBootToSSH.Key:    sec(marks[1], marks[2]),
		PhaseProvisioning.Key: sec(marks[2], marks[3]),
		PhaseShutdown.Key:     sec(marks[3], marks[4]),
		PhaseExport.Key:       sec(marks[4], end),
		PhasePacker.Key:       sec(0, end),
	}, nil
}

// Stage is one stage of the module's stage clock and how long it took.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

var stageDoneRe = regexp.MustCompile(`stage done .*\bstage=(\S+) elapsed=(\S+)`)

// StageTimes reads the module's stage clock from its log lines ("stage done os=… stage=packer-build
// elapsed=2m6.471s"), in the order they finished. A build the engine served from its cache logs none.
func StageTimes(out string) []Stage {
	var stages []Stage
	for _, l := range strings.Split(StripANSI(out), "\n") {
		m := stageDoneRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		d, err := time.ParseDuration(strings.Trim(m[2], `"`))
		if err != nil {
			continue
		}
		stages = append(stages, Stage{Name: strings.Trim(m[1], `"`), Seconds: d.Seconds()})
	}
	return stages
}

var packerBuildRe = regexp.MustCompile(`packer build((?:\s+-[^\s"$]+)*)\s+"\$@"`)

// PackerBuildFlags returns the flags the pipeline's run script gives `packer build` before the
// caller's arguments (`packer build -color=false "$@" template.pkr.hcl` gives [-color=false]), so
// that a raw run for comparison is invoked exactly as the pipeline's.
func PackerBuildFlags(script string) ([]string, error) {
	m := packerBuildRe.FindStringSubmatch(script)
	if m == nil {
		return nil, fmt.Errorf(`no "packer build … \"$@\"" line in the run script`)
	}
	return strings.Fields(m[1]), nil
}
