package stats

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Run is one measured run: what it measured, when in a series it ran, the machine's load just before
// and just after it, and what its output showed.
type Run struct {
	Figure string `json:"figure"`
	// Side and Pair place the run in an interleaved series (Pair counts from 1; 0 outside pairs).
	Side       string             `json:"side,omitempty"`
	Pair       int                `json:"pair,omitempty"`
	Seconds    float64            `json:"seconds"`
	LoadBefore Load               `json:"loadBefore"`
	LoadAfter  Load               `json:"loadAfter"`
	Phases     map[string]float64 `json:"phases,omitempty"`
	Stages     []Stage            `json:"stages,omitempty"`
	// CPU is the CPU-seconds each of CPUGroups used on the machine while the run lasted.
	CPU map[string]float64 `json:"cpu,omitempty"`
	// Log is the run's output file, relative to the report's directory.
	Log  string `json:"log,omitempty"`
	Note string `json:"note,omitempty"`
}

// Machine is what the figures were measured on.
type Machine struct {
	Cores       int    `json:"cores"`
	Kernel      string `json:"kernel"`
	MemoryBytes int64  `json:"memoryBytes"`
	// Accelerator is what the module's KVM probe decides for builds (`dagger call accelerator`), and
	// AcceleratorEvidence the probe's finding.
	Accelerator         string `json:"accelerator"`
	AcceleratorEvidence string `json:"acceleratorEvidence,omitempty"`
	LoadStart           Load   `json:"loadStart"`
	LoadEnd             Load   `json:"loadEnd"`
}

// Table is a small table of text cells, printed under the figures.
type Table struct {
	Title  string     `json:"title"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// Report is one benchmark run: the figures, the tables that break them down, every run, the machine.
type Report struct {
	Title     string    `json:"title"`
	Date      time.Time `json:"date"`
	Machine   Machine   `json:"machine"`
	Settings  []string  `json:"settings,omitempty"`
	Reproduce string    `json:"reproduce"`
	Figures   []Figure  `json:"figures"`
	Tables    []Table   `json:"tables,omitempty"`
	Runs      []Run     `json:"runs"`
}

// LoadRange is the lowest and highest 1-minute load average seen before or after any run.
func (r Report) LoadRange() (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, run := range r.Runs {
		for _, l := range []Load{run.LoadBefore, run.LoadAfter} {
			if l.Total == 0 { // not read
				continue
			}
			lo, hi, ok = math.Min(lo, l.One), math.Max(hi, l.One), true
		}
	}
	return lo, hi, ok
}

// Num formats a value of a unit without the unit.
func Num(v float64, unit string) string {
	switch unit {
	case "s":
		if math.Abs(v) >= 100 {
			return fmt.Sprintf("%.0f", v)
		}
		return fmt.Sprintf("%.1f", v)
	case "x":
		return fmt.Sprintf("%.2f", v)
	case "%":
		return fmt.Sprintf("%.1f", v)
	case "MiB", "req":
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// Suffix is how a unit follows its number.
func Suffix(unit string) string {
	switch unit {
	case "x":
		return "×"
	case "":
		return ""
	case "req":
		return " requests"
	}
	return " " + unit
}

// FormatValue formats a value with its unit: 63.2 s, 1.05×, 0.8 %, 201 MB, 192 MiB.
func FormatValue(v float64, unit string) string {
	if unit == "B" {
		return bytesSI(v)
	}
	s := Num(v, unit) + Suffix(unit)
	if unit == "s" && v >= 600 {
		s += fmt.Sprintf(" (%d min %02d s)", int(v)/60, int(v)%60)
	}
	return s
}

func bytesSI(v float64) string {
	for _, u := range []struct {
		name string
		size float64
	}{{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}} {
		if math.Abs(v) >= u.size {
			return fmt.Sprintf("%.1f %s", v/u.size, u.name)
		}
	}
	return fmt.Sprintf("%.0f B", v)
}

// FormatRange formats a summary's range: "110–151 s"; "—" for one value or none.
func FormatRange(s Summary, unit string) string {
	if s.N < 2 {
		return "—"
	}
	if unit == "B" {
		return bytesSI(s.Min) + "–" + bytesSI(s.Max)
	}
	return Num(s.Min, unit) + "–" + Num(s.Max, unit) + Suffix(unit)
}

// FormatGoal formats a goal: "≤ 1.15×", "0 B every run".
func FormatGoal(g *Goal, unit string) string {
	if g == nil {
		return ""
	}
	s := "≤ " + FormatValue(g.AtMost, unit)
	if g.AtMost == 0 {
		s = FormatValue(0, unit)
	}
	if g.OfMax {
		s += ", every run"
	}
	return s
}

// Verdict is the "met?" cell: met, missed (bold), with the note and whether the range crosses the goal.
func (f Figure) Verdict() string {
	var parts []string
	switch {
	case f.Met == nil:
	case *f.Met:
		parts = append(parts, "met")
	default:
		parts = append(parts, "**missed**")
	}
	if f.Straddles() {
		parts = append(parts, "the range crosses the goal")
	}
	if f.Note != "" {
		parts = append(parts, f.Note)
	}
	return strings.Join(parts, "; ")
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Markdown renders the figures as the README's "Measured" table, then the tables, then a line with
// the date, the machine, its load and how to reproduce the figures.
func (r Report) Markdown() string {
	var b strings.Builder
	if r.Title != "" {
		fmt.Fprintf(&b, "%s\n\n", r.Title)
	}
	b.WriteString("| figure | median | range | n | goal | met? / note |\n|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		med := "—"
		if f.N > 0 {
			med = FormatValue(f.Median, f.Unit)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s |\n", mdCell(f.Name), med, FormatRange(f.Summary, f.Unit), f.N,
			mdCell(FormatGoal(f.Goal, f.Unit)), mdCell(f.Verdict()))
	}
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "\n%s\n\n| %s |\n|%s\n", t.Title, strings.Join(t.Header, " | "), strings.Repeat("---|", len(t.Header)))
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = mdCell(c)
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.MachineLine())
	return b.String()
}

// MachineLine is the line under the tables: date, cores, kernel, memory, accelerator, load,
// settings and how to reproduce.
func (r Report) MachineLine() string {
	m := r.Machine
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s UTC on %d cores (%s", r.Date.UTC().Format("2006-01-02 15:04"), m.Cores, m.Kernel)
	if m.MemoryBytes > 0 {
		fmt.Fprintf(&b, ", %.0f GiB", float64(m.MemoryBytes)/(1<<30))
	}
	b.WriteString(")")
	if m.Accelerator != "" {
		fmt.Fprintf(&b, ", accelerator %s by the module's probe", m.Accelerator)
		if m.AcceleratorEvidence != "" {
			fmt.Fprintf(&b, " (%s)", m.AcceleratorEvidence)
		}
	}
	fmt.Fprintf(&b, "; 1-min load %.2f at the start", m.LoadStart.One)
	if lo, hi, ok := r.LoadRange(); ok {
		fmt.Fprintf(&b, ", %.2f–%.2f around the runs", lo, hi)
	}
	fmt.Fprintf(&b, ", %.2f at the end.", m.LoadEnd.One)
	if len(r.Settings) > 0 {
		fmt.Fprintf(&b, " Settings: %s.", strings.Join(r.Settings, ", "))
	}
	if r.Reproduce != "" {
		fmt.Fprintf(&b, " Reproduce: %s.", r.Reproduce)
	}
	return b.String()
}

// PhaseTable compares the phases of two sides' runs: per phase, each side's median and range, and
// the difference of the medians. Phases no run has are left out.
func PhaseTable(title, aName, bName string, a, b []Run) Table {
	return compareTable(title, "phase", aName, bName, a, b, Phases, func(r Run) map[string]float64 { return r.Phases })
}

// CPUTable compares the CPU-seconds each process group used during two series of runs, median
// (range) side by side, as PhaseTable does for Packer's phases.
func CPUTable(title, aName, bName string, a, b []Run) Table {
	return compareTable(title, "CPU used by", aName, bName, a, b, CPUGroups, func(r Run) map[string]float64 { return r.CPU })
}

// compareTable is one row per key that either series has: each side's median (range) in seconds, the
// difference of the medians and the counts.
func compareTable(title, first, aName, bName string, a, b []Run, rows []PhaseKey, values func(Run) map[string]float64) Table {
	t := Table{Title: title, Header: []string{first, aName + ", median (range)", bName + ", median (range)", "difference of medians", "n"}}
	col := func(runs []Run, key string) []float64 {
		var v []float64
		for _, r := range runs {
			if x, ok := values(r)[key]; ok {
				v = append(v, x)
			}
		}
		return v
	}
	cell := func(s Summary) string {
		if s.N == 0 {
			return "—"
		}
		c := FormatValue(s.Median, "s")
		if s.N > 1 {
			c += " (" + FormatRange(s, "s") + ")"
		}
		return c
	}
	for _, p := range rows {
		sa, sb := Summarize(col(a, p.Key)), Summarize(col(b, p.Key))
		if sa.N == 0 && sb.N == 0 {
			continue
		}
		diff := "—"
		if sa.N > 0 && sb.N > 0 {
			diff = fmt.Sprintf("%+.1f s", sa.Median-sb.Median)
		}
		t.Rows = append(t.Rows, []string{p.Label, cell(sa), cell(sb), diff, fmt.Sprintf("%d · %d", sa.N, sb.N)})
	}
	return t
}

// StageTable summarizes the module's stage clock over runs: per stage (in the order first seen),
// median, range and count.
func StageTable(title string, runs []Run) Table {
	t := Table{Title: title, Header: []string{"stage", "median", "range", "n"}}
	var order []string
	vals := map[string][]float64{}
	for _, r := range runs {
		for _, s := range r.Stages {
			if _, ok := vals[s.Name]; !ok {
				order = append(order, s.Name)
			}
			vals[s.Name] = append(vals[s.Name], s.Seconds)
		}
	}
	for _, name := range order {
		s := Summarize(vals[name])
		t.Rows = append(t.Rows, []string{name, FormatValue(s.Median, "s"), FormatRange(s, "s"), fmt.Sprint(s.N)})
	}
	return t
}
