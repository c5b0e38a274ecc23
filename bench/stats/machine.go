package stats

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Load is the machine's load average as /proc/loadavg gives it.
type Load struct {
	One     float64 `json:"1m"`
	Five    float64 `json:"5m"`
	Fifteen float64 `json:"15m"`
	// Running and Total are the runnable and all scheduling entities at that moment.
	Running int `json:"running"`
	Total   int `json:"total"`
}

// ParseLoadavg reads /proc/loadavg: "2.33 2.82 3.69 10/200 13860".
func ParseLoadavg(s string) (Load, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return Load{}, fmt.Errorf("unreadable load average %q", s)
	}
	var l Load
	var err error
	for i, p := range []*float64{&l.One, &l.Five, &l.Fifteen} {
		if *p, err = strconv.ParseFloat(f[i], 64); err != nil {
			return Load{}, fmt.Errorf("unreadable load average %q", s)
		}
	}
	run, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return Load{}, fmt.Errorf("unreadable load average %q", s)
	}
	if l.Running, err = strconv.Atoi(run); err != nil {
		return Load{}, fmt.Errorf("unreadable load average %q", s)
	}
	if l.Total, err = strconv.Atoi(total); err != nil {
		return Load{}, fmt.Errorf("unreadable load average %q", s)
	}
	return l, nil
}

func (l Load) String() string { return fmt.Sprintf("%.2f %.2f %.2f", l.One, l.Five, l.Fifteen) }

var (
	accelLineRe  = regexp.MustCompile(`(?m)^accelerator: (\S+)\s*$`)
	accelProbeRe = regexp.MustCompile(`(?m)^kvm device: .*$`)
	accelWarnRe  = regexp.MustCompile(`(?m)^warning: .*$`)
)

// ParseAccelerator reads what `dagger call accelerator` prints ("accelerator: tcg\nkvm device: false,
// boots a guest: false (0.0s)\n" and maybe a "warning: …" line): the decision and its evidence.
func ParseAccelerator(out string) (accel, evidence string, err error) {
	m := accelLineRe.FindStringSubmatch(out)
	if m == nil {
		return "", "", fmt.Errorf("no \"accelerator: …\" line in %q", out)
	}
	var ev []string
	if p := accelProbeRe.FindString(out); p != "" {
		ev = append(ev, strings.TrimSpace(p))
	}
	if w := accelWarnRe.FindString(out); w != "" {
		ev = append(ev, strings.TrimSpace(w))
	}
	return m[1], strings.Join(ev, "; "), nil
}

// ParseMemTotal reads MemTotal from /proc/meminfo, in bytes.
func ParseMemTotal(meminfo string) (int64, error) {
	for _, l := range strings.Split(meminfo, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}
