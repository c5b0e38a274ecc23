package monitor

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// minTrendPoints is the fewest points a stage needs before its growth is reported: two points always
// fit a line exactly, so a slope from them says nothing about a trend.
const minTrendPoints = 3

// Summary is the trend report over a window of builds. Its JSON form is for dashboards and
// scripts; Table is for people.
type Summary struct {
	// Since and Until bound the window (on StartedAt, Since inclusive, Until exclusive); a zero
	// time leaves that side open.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Records is the number of valid records in the window; Invalid counts records (in or out of
	// the window) that failed Validate and were ignored, so a bad input is visible in the report.
	Records int `json:"records"`
	Invalid int `json:"invalid"`
	// OSes has one entry per OS, sorted by OS id.
	OSes []OSSummary `json:"oses"`
}

// OSSummary is one OS's builds in the window.
type OSSummary struct {
	// OS is the OS id.
	OS string `json:"os"`
	// Builds is the number of builds; Successes how many succeeded; SuccessRate is their ratio (0-1).
	Builds      int     `json:"builds"`
	Successes   int     `json:"successes"`
	SuccessRate float64 `json:"successRate"`
	// MedianSeconds and P90Seconds are over successful builds only: a failed build stops early, and
	// mixing its short time in would make a failing OS look fast. Zero when none succeeded.
	MedianSeconds float64 `json:"medianSeconds"`
	P90Seconds    float64 `json:"p90Seconds"`
	// Artifacts trend the size of each format, sorted by format.
	Artifacts []SizeTrend `json:"artifacts"`
	// Stages are per stage, in pipeline order (first appearance).
	Stages []StageStats `json:"stages"`
	// SlowestGrowingStage is the stage whose successful duration grows fastest over time (largest
	// positive least-squares slope); nil when no stage has minTrendPoints points or none grows.
	SlowestGrowingStage *StageTrend `json:"slowestGrowingStage"`
	// Scan trends the total vulnerability count; nil when no build in the window was scanned.
	Scan *ScanTrend `json:"scan"`
}

// StageStats describes one stage of one OS over the window.
type StageStats struct {
	// Name is the stage name.
	Name string `json:"name"`
	// Runs is how many builds ran the stage; Failures how many of those it failed in.
	Runs     int `json:"runs"`
	Failures int `json:"failures"`
	// MedianSeconds and P90Seconds are over the successful runs (a failed run is cut short); zero
	// when the stage never succeeded.
	MedianSeconds float64 `json:"medianSeconds"`
	P90Seconds    float64 `json:"p90Seconds"`
}

// StageTrend is a stage's growth: the least-squares slope of its successful durations against the
// builds' start times.
type StageTrend struct {
	// Stage is the stage name.
	Stage string `json:"stage"`
	// SlopeSecondsPerDay is how many seconds the stage gains per day.
	SlopeSecondsPerDay float64 `json:"slopeSecondsPerDay"`
	// Points is the number of successful runs the line was fitted to.
	Points int `json:"points"`
}

// SizeTrend is the size of one format's artifacts at the first and the last build that delivered it.
type SizeTrend struct {
	// Format is qcow2, vhd or ova.
	Format string `json:"format"`
	// Builds is how many builds delivered this format.
	Builds int `json:"builds"`
	// FirstBytes is the size at FirstAt, the first build that delivered the format, LastBytes at
	// LastAt, the last (each summed over the build's artifacts of the format).
	FirstAt    time.Time `json:"firstAt"`
	FirstBytes int64     `json:"firstBytes"`
	LastAt     time.Time `json:"lastAt"`
	LastBytes  int64     `json:"lastBytes"`
}

// ScanTrend is the total number of vulnerabilities at the first and the last scanned build.
type ScanTrend struct {
	// Builds is how many builds were scanned.
	Builds int `json:"builds"`
	// FirstTotal is the count at FirstAt, the first scanned build; LastTotal at LastAt, the last.
	FirstAt    time.Time `json:"firstAt"`
	FirstTotal int       `json:"firstTotal"`
	LastAt     time.Time `json:"lastAt"`
	LastTotal  int       `json:"lastTotal"`
}

// Summarize reports, per OS, the builds that started in [since, until) (a zero bound is open):
// counts and success rate, build and per-stage median and p90 durations, the slowest-growing stage,
// and how artifact sizes and scan findings moved from the first build to the last. Records that fail
// Validate are counted in Invalid and otherwise ignored.
func Summarize(records []Record, since, until time.Time) Summary {
	valid, invalid := validRecords(records)
	sortRecords(valid)
	sum := Summary{Since: since, Until: until, Invalid: invalid, OSes: []OSSummary{}}
	byOS := map[string][]Record{}
	var order []string
	for _, r := range valid {
		if (!since.IsZero() && r.StartedAt.Before(since)) || (!until.IsZero() && !r.StartedAt.Before(until)) {
			continue
		}
		sum.Records++
		if _, ok := byOS[r.OS]; !ok {
			order = append(order, r.OS)
		}
		byOS[r.OS] = append(byOS[r.OS], r)
	}
	sort.Strings(order)
	for _, os := range order {
		sum.OSes = append(sum.OSes, summarizeOS(os, byOS[os]))
	}
	return sum
}

// summarizeOS expects recs sorted by StartedAt.
func summarizeOS(os string, recs []Record) OSSummary {
	s := OSSummary{OS: os, Builds: len(recs), Stages: []StageStats{}, Artifacts: []SizeTrend{}}
	var durations []float64
	type stageData struct {
		stats  StageStats
		secs   []float64
		points [][2]float64 // (days since first build, seconds)
	}
	stages := map[string]*stageData{}
	var stageOrder []string
	sizes := map[string]*SizeTrend{}
	t0 := recs[0].StartedAt
	for _, r := range recs {
		if r.Outcome == OutcomeSuccess {
			s.Successes++
			durations = append(durations, buildSeconds(r))
		}
		for _, st := range mergedStages(r) {
			d, ok := stages[st.Name]
			if !ok {
				d = &stageData{stats: StageStats{Name: st.Name}}
				stages[st.Name] = d
				stageOrder = append(stageOrder, st.Name)
			}
			d.stats.Runs++
			if st.Outcome != OutcomeSuccess {
				d.stats.Failures++
				continue
			}
			d.secs = append(d.secs, st.Seconds)
			d.points = append(d.points, [2]float64{r.StartedAt.Sub(t0).Hours() / 24, st.Seconds})
		}
		perFormat := map[string]int64{}
		var formats []string
		for _, a := range r.Artifacts {
			if _, ok := perFormat[a.Format]; !ok {
				formats = append(formats, a.Format)
			}
			perFormat[a.Format] += a.SizeBytes
		}
		for _, f := range formats {
			t, ok := sizes[f]
			if !ok {
				t = &SizeTrend{Format: f, FirstBytes: perFormat[f], FirstAt: r.StartedAt}
				sizes[f] = t
			}
			t.Builds++
			t.LastBytes, t.LastAt = perFormat[f], r.StartedAt
		}
		if r.ScanCounts != nil {
			total := 0
			for _, n := range r.ScanCounts {
				total += n
			}
			if s.Scan == nil {
				s.Scan = &ScanTrend{FirstTotal: total, FirstAt: r.StartedAt}
			}
			s.Scan.Builds++
			s.Scan.LastTotal, s.Scan.LastAt = total, r.StartedAt
		}
	}
	s.SuccessRate = float64(s.Successes) / float64(s.Builds)
	s.MedianSeconds, s.P90Seconds = percentile(durations, 0.5), percentile(durations, 0.9)
	for _, name := range stageOrder {
		d := stages[name]
		d.stats.MedianSeconds, d.stats.P90Seconds = percentile(d.secs, 0.5), percentile(d.secs, 0.9)
		s.Stages = append(s.Stages, d.stats)
		if len(d.points) < minTrendPoints {
			continue
		}
		slope, ok := leastSquaresSlope(d.points)
		if !ok || slope <= 0 {
			continue
		}
		// Ties keep the earlier stage, so the choice does not depend on anything but the data.
		if s.SlowestGrowingStage == nil || slope > s.SlowestGrowingStage.SlopeSecondsPerDay {
			s.SlowestGrowingStage = &StageTrend{Stage: name, SlopeSecondsPerDay: slope, Points: len(d.points)}
		}
	}
	formats := make([]string, 0, len(sizes))
	for f := range sizes {
		formats = append(formats, f)
	}
	sort.Strings(formats)
	for _, f := range formats {
		s.Artifacts = append(s.Artifacts, *sizes[f])
	}
	return s
}

// percentile is the q-quantile of values by linear interpolation between closest ranks (the
// "type 7" definition of R and NumPy), so the median of an even count is the mean of the middle two.
// It returns 0 for no values.
func percentile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	pos := q * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return v[lo] + (v[hi]-v[lo])*(pos-float64(lo))
}

// leastSquaresSlope fits y = a + b·x to points and returns b; ok is false when every x is the same,
// where no slope exists.
func leastSquaresSlope(points [][2]float64) (slope float64, ok bool) {
	n := float64(len(points))
	var mx, my float64
	for _, p := range points {
		mx += p[0]
		my += p[1]
	}
	mx /= n
	my /= n
	var sxy, sxx float64
	for _, p := range points {
		dx := p[0] - mx
		sxy += dx * (p[1] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// Table renders the summary as aligned plain text: one line per OS, then each OS's stages and trends.
func (s Summary) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Builds started %s to %s: %d records", boundText(s.Since, "the beginning"), boundText(s.Until, "now"), s.Records)
	if s.Invalid > 0 {
		fmt.Fprintf(&b, " (invalid records ignored: %d)", s.Invalid)
	}
	b.WriteString("\n")
	if len(s.OSes) == 0 {
		b.WriteString("No builds.\n")
		return b.String()
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OS\tBUILDS\tOK\tRATE\tMEDIAN\tP90\tSTAGE GROWING FASTEST\tVULNERABILITIES")
	for _, o := range s.OSes {
		growth := "-"
		if g := o.SlowestGrowingStage; g != nil {
			growth = fmt.Sprintf("%s %+.1f s/day (%d builds)", g.Stage, g.SlopeSecondsPerDay, g.Points)
		}
		vulns := "-"
		if o.Scan != nil {
			vulns = fmt.Sprintf("%d → %d", o.Scan.FirstTotal, o.Scan.LastTotal)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%s\t%s\t%s\t%s\n", o.OS, o.Builds, o.Successes, 100*o.SuccessRate,
			durationText(o.MedianSeconds, o.Successes > 0), durationText(o.P90Seconds, o.Successes > 0), growth, vulns)
	}
	tw.Flush()
	for _, o := range s.OSes {
		fmt.Fprintf(&b, "\n%s\n", o.OS)
		if len(o.Stages) > 0 {
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  STAGE\tRUNS\tFAILED\tMEDIAN\tP90")
			for _, st := range o.Stages {
				ok := st.Runs > st.Failures
				fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", st.Name, st.Runs, st.Failures, durationText(st.MedianSeconds, ok), durationText(st.P90Seconds, ok))
			}
			tw.Flush()
		}
		for _, a := range o.Artifacts {
			fmt.Fprintf(&b, "  %s: %s → %s (%s, %d builds)\n", a.Format, bytesText(a.FirstBytes), bytesText(a.LastBytes), changeText(a.FirstBytes, a.LastBytes), a.Builds)
		}
	}
	return b.String()
}

func boundText(t time.Time, open string) string {
	if t.IsZero() {
		return open
	}
	return t.UTC().Format(time.RFC3339)
}

// durationText shows seconds the way people read build times (41m7s); "-" when there is no data,
// so a zero that means "never succeeded" is not mistaken for an instant stage.
func durationText(sec float64, ok bool) string {
	if !ok {
		return "-"
	}
	if sec < 10 {
		return fmt.Sprintf("%.1fs", sec)
	}
	return time.Duration(sec * float64(time.Second)).Round(time.Second).String()
}

// bytesText uses binary units, as qemu-img and disk tools do.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, exp := float64(n), 0
	for v >= unit && exp < 4 {
		v /= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", v, "KMGT"[exp-1])
}

func changeText(first, last int64) string {
	if first == 0 {
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", 100*float64(last-first)/float64(first))
}
