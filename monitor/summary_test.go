package monitor

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		values  []float64
		q, want float64
	}{
		{nil, 0.5, 0},
		{[]float64{7}, 0.9, 7},
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{4, 1, 3, 2}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1},
		{[]float64{10, 20}, 0.9, 19},
	}
	for _, tc := range tests {
		if got := percentile(tc.values, tc.q); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.values, tc.q, got, tc.want)
		}
	}
	v := []float64{3, 1, 2}
	percentile(v, 0.5)
	if v[0] != 3 {
		t.Error("percentile sorted its input in place")
	}
}

func TestLeastSquaresSlope(t *testing.T) {
	tests := []struct {
		name   string
		points [][2]float64
		want   float64
		ok     bool
	}{
		{"exact line", [][2]float64{{0, 10}, {1, 12}, {2, 14}}, 2, true},
		{"noisy", [][2]float64{{0, 1}, {1, 3}, {2, 2}, {3, 4}}, 0.8, true},
		{"falling", [][2]float64{{0, 9}, {1, 6}, {2, 3}}, -3, true},
		{"one x", [][2]float64{{1, 1}, {1, 5}, {1, 9}}, 0, false},
	}
	for _, tc := range tests {
		got, ok := leastSquaresSlope(tc.points)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: slope %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// history is four days of debian builds (packer grows 100 s/day, convert 5 s/day, fetch shrinks),
// one failure among them, two alma builds, and a record outside any window used below.
func history() []Record {
	d0 := success("debian-12", 0, 10, 1000, 50, 20, 1000)
	d1 := success("debian-12", 1, 9, 1100, 55, 20, 1100)
	d2 := failure("debian-12", 2, "boom")
	d3 := success("debian-12", 3, 8, 1300, 65, 20, 1300)
	d3.ScanCounts = map[string]int{"HIGH": 4, "LOW": 5}
	a0 := success("alma-9", 0, 5, 500, 30, 10, 500)
	a0.ScanCounts = nil
	a1 := success("alma-9", 1, 5, 500, 30, 10, 500)
	a1.ScanCounts = nil
	old := success("debian-12", -30, 1, 1, 1, 1, 1)
	bad := success("debian-12", 1, 1, 1, 1, 1, 1)
	bad.Outcome = "?"
	return []Record{d3, a1, d0, d2, bad, old, a0, d1}
}

func TestSummarize(t *testing.T) {
	s := Summarize(history(), at(0, 0), at(10, 0))
	if s.Records != 6 || s.Invalid != 1 || len(s.OSes) != 2 {
		t.Fatalf("records %d invalid %d oses %d; want 6 1 2", s.Records, s.Invalid, len(s.OSes))
	}
	alma, deb := s.OSes[0], s.OSes[1]
	if alma.OS != "alma-9" || deb.OS != "debian-12" {
		t.Fatalf("OS order %s, %s", alma.OS, deb.OS)
	}
	if deb.Builds != 4 || deb.Successes != 3 || deb.SuccessRate != 0.75 {
		t.Errorf("debian builds %d successes %d rate %v", deb.Builds, deb.Successes, deb.SuccessRate)
	}
	// Successful build durations: 1080, 1184, 1393 s (the failed one is left out).
	if deb.MedianSeconds != 1184 || math.Abs(deb.P90Seconds-(1184+0.8*(1393-1184))) > 1e-9 {
		t.Errorf("debian median %v p90 %v", deb.MedianSeconds, deb.P90Seconds)
	}
	wantStages := []StageStats{
		{Name: "fetch", Runs: 4, Failures: 0, MedianSeconds: 9.5, P90Seconds: 10},
		{Name: "packer", Runs: 4, Failures: 1, MedianSeconds: 1100, P90Seconds: 1260},
		{Name: "convert", Runs: 3, MedianSeconds: 55, P90Seconds: 63},
		{Name: "scan", Runs: 3, MedianSeconds: 20, P90Seconds: 20},
	}
	if len(deb.Stages) != len(wantStages) {
		t.Fatalf("stages %+v", deb.Stages)
	}
	for i, w := range wantStages {
		g := deb.Stages[i]
		if g.Name != w.Name || g.Runs != w.Runs || g.Failures != w.Failures || math.Abs(g.MedianSeconds-w.MedianSeconds) > 1e-9 || math.Abs(g.P90Seconds-w.P90Seconds) > 1e-9 {
			t.Errorf("stage %d = %+v, want %+v", i, g, w)
		}
	}
	// packer: successful points (0,1000) (1,1100) (3,1300) → exactly 100 s/day.
	if g := deb.SlowestGrowingStage; g == nil || g.Stage != "packer" || g.Points != 3 || math.Abs(g.SlopeSecondsPerDay-100) > 1e-9 {
		t.Errorf("slowest-growing stage %+v, want packer +100 s/day over 3", g)
	}
	if len(deb.Artifacts) != 1 || deb.Artifacts[0] != (SizeTrend{Format: "qcow2", Builds: 3, FirstBytes: 1000, LastBytes: 1300, FirstAt: at(0, 0), LastAt: at(3, 0)}) {
		t.Errorf("artifact trend %+v", deb.Artifacts)
	}
	if deb.Scan == nil || *deb.Scan != (ScanTrend{Builds: 3, FirstTotal: 6, LastTotal: 9, FirstAt: at(0, 0), LastAt: at(3, 0)}) {
		t.Errorf("scan trend %+v", deb.Scan)
	}
	// alma: two builds, flat: no trend, no scan.
	if alma.SlowestGrowingStage != nil || alma.Scan != nil || alma.SuccessRate != 1 {
		t.Errorf("alma %+v", alma)
	}

	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	testcheck.ContainsAll(t, "JSON", string(data), `"oses":[{"os":"alma-9"`, `"slowestGrowingStage":null`, `"slowestGrowingStage":{"stage":"packer","slopeSecondsPerDay":100,"points":3}`, `"scan":{"builds":3,"firstAt":"2024-11-01T02:00:00Z","firstTotal":6,"lastAt":"2024-11-04T02:00:00Z","lastTotal":9}`, `"successRate":0.75`)
}

func TestSummarizeWindow(t *testing.T) {
	tests := []struct {
		name         string
		since, until time.Time
		records      int
	}{
		{"open", time.Time{}, time.Time{}, 7},
		{"since only", at(1, 0), time.Time{}, 4},
		{"until is exclusive", time.Time{}, at(1, 0), 3},
		{"empty", at(20, 0), at(21, 0), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(history(), tc.since, tc.until)
			if s.Records != tc.records {
				t.Fatalf("records %d, want %d", s.Records, tc.records)
			}
			if s.OSes == nil {
				t.Fatal("OSes must be an empty list, not null, in JSON")
			}
		})
	}
}

func TestSummarizeNoGrowth(t *testing.T) {
	// Every stage shrinks: there is no slowest-growing stage to report.
	recs := []Record{
		success("debian-12", 0, 30, 300, 30, 30, 1),
		success("debian-12", 1, 20, 200, 20, 20, 1),
		success("debian-12", 2, 10, 100, 10, 10, 1),
	}
	if g := Summarize(recs, time.Time{}, time.Time{}).OSes[0].SlowestGrowingStage; g != nil {
		t.Fatalf("want nil, got %+v", g)
	}
}

func TestSummaryTable(t *testing.T) {
	out := Summarize(history(), at(0, 0), at(10, 0)).Table()
	testcheck.ContainsAll(t, "table", out,
		"Builds started 2024-11-01T02:00:00Z to 2024-11-11T02:00:00Z: 6 records (invalid records ignored: 1)",
		"OS         BUILDS  OK  RATE    MEDIAN  P90     STAGE GROWING FASTEST           VULNERABILITIES",
		"debian-12  4       3   75.0%   19m44s",
		"packer +100.0 s/day (3 builds)",
		"6 → 9",
		"  STAGE    RUNS  FAILED  MEDIAN  P90",
		"  packer   4     1       18m20s  21m0s",
		"  qcow2: 1000 B → 1.27 KiB (+30.0%, 3 builds)",
	)
	// Columns line up: every row of the main table starts its BUILDS column at the same offset.
	lines := strings.Split(out, "\n")
	col := strings.Index(lines[2], "BUILDS")
	for _, l := range lines[3:5] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row %q is not aligned at column %d", l, col)
		}
	}
	if got := (Summary{}).Table(); !strings.Contains(got, "the beginning to now: 0 records") || !strings.Contains(got, "No builds.") {
		t.Errorf("empty table %q", got)
	}
}

func TestTextHelpers(t *testing.T) {
	tests := []struct{ got, want string }{
		{durationText(2.25, true), "2.2s"},
		{durationText(2467, true), "41m7s"},
		{durationText(0, false), "-"},
		{bytesText(512), "512 B"},
		{bytesText(10 << 30), "10.00 GiB"},
		{changeText(0, 5), "new"},
		{changeText(200, 150), "-25.0%"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
