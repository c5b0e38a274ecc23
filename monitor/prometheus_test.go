package monitor

import (
	"math"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseExposition parses text as the textfile collector and Pushgateway would, with the strict
// (legacy) name rules, and fails the test on any error.
func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, text)
	}
	for name, f := range fams {
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		if f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s has type %v, want gauge", name, f.GetType())
		}
		seen := map[string]bool{}
		for _, m := range f.Metric {
			if m.TimestampMs != nil {
				t.Errorf("%s carries a timestamp, which the textfile collector rejects", name)
			}
			k := labelKey(m)
			if seen[k] {
				t.Errorf("%s has the series {%s} twice", name, k)
			}
			seen[k] = true
		}
	}
	return fams
}

func labelKey(m *dto.Metric) string {
	var parts []string
	for _, l := range m.Label {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// value finds the sample of family name whose labels are exactly labels (name=value,...).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name, labels string) (float64, bool) {
	t.Helper()
	f, ok := fams[MetricPrefix+name]
	if !ok {
		return 0, false
	}
	parts := strings.Split(labels, ",")
	sort.Strings(parts)
	want := strings.Join(parts, ",")
	for _, m := range f.Metric {
		if labelKey(m) == want {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestPrometheusText(t *testing.T) {
	old := success("debian-12", 0, 10, 1000, 50, 20, 1_000_000)
	latestOK := success("debian-12", 1, 12, 1100, 55, 21, 1_100_000)
	latestOK.ISOCacheHit = boolPtr(true)
	// The newest debian build failed: current state is "failing", but its artifacts and scan are
	// still those of the last successful build.
	failed := failure("debian-12", 2, "packer: exit status 1")
	fedora := success("fedora-41", 1, 5, 900, 40, 10, 2_000_000)
	fedora.ScanCounts = nil
	fedora.Accelerator = "tcg"
	fedora.Tools = map[string]string{"packer": "1.11.2"}
	fedora.ISOCacheHit = boolPtr(false)
	invalid := success("", 5, 1, 1, 1, 1, 1)

	text := PrometheusText([]Record{fedora, failed, old, latestOK, invalid})
	fams := parseExposition(t, text)

	tests := []struct {
		name, labels string
		want         float64
	}{
		{"build_success", "os=debian-12", 0},
		{"build_success", "os=fedora-41", 1},
		{"build_duration_seconds", "os=debian-12", 3600},
		{"build_duration_seconds", "os=fedora-41", 955},
		{"stage_duration_seconds", "os=debian-12,stage=fetch", 10},
		{"stage_duration_seconds", "os=debian-12,stage=packer", 3000},
		{"stage_duration_seconds", "os=fedora-41,stage=convert", 40},
		{"stage_success", "os=debian-12,stage=fetch", 1},
		{"stage_success", "os=debian-12,stage=packer", 0},
		{"stage_success", "os=fedora-41,stage=scan", 1},
		{"artifact_size_bytes", "os=debian-12,format=qcow2,artifact=debian-12.qcow2", 1_100_000},
		{"artifact_size_bytes", "os=fedora-41,format=qcow2,artifact=fedora-41.qcow2", 2_000_000},
		{"scan_vulnerabilities", "os=debian-12,severity=HIGH", 1},
		{"scan_vulnerabilities", "os=debian-12,severity=LOW", 3},
		{"scan_vulnerabilities", "os=debian-12,severity=CRITICAL", 0},
		{"iso_cache_hit", "os=fedora-41", 0},
		{"build_timestamp_seconds", "os=debian-12", float64(at(2, 1).Unix())},
		{"last_success_timestamp_seconds", "os=debian-12", float64(latestOK.FinishedAt.Unix())},
		{"build_info", "os=fedora-41,accelerator=tcg,source_commit=" + strings.Repeat("ab", 20) + ",packer=1.11.2", 1},
		{"build_info", "os=debian-12", 1},
	}
	for _, tc := range tests {
		got, ok := value(t, fams, tc.name, tc.labels)
		if !ok {
			t.Errorf("%s{%s} missing", tc.name, tc.labels)
			continue
		}
		if got != tc.want {
			t.Errorf("%s{%s} = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// Counts of series: latest per OS only, nothing from the invalid record, no unknowns.
	counts := map[string]int{
		"build_success": 2, "build_duration_seconds": 2, "stage_duration_seconds": 6, "stage_success": 6,
		"artifact_size_bytes": 2, "scan_vulnerabilities": 5, "iso_cache_hit": 1,
		"build_timestamp_seconds": 2, "last_success_timestamp_seconds": 2, "build_info": 2,
	}
	for name, n := range counts {
		if got := len(fams[MetricPrefix+name].GetMetric()); got != n {
			t.Errorf("%s has %d series, want %d", name, got, n)
		}
	}
	if len(fams) != len(counts) {
		t.Errorf("%d families, want %d", len(fams), len(counts))
	}
	// debian's latest build failed, so its ISO cache state is unknown: no sample, not a stale one.
	if _, ok := value(t, fams, "iso_cache_hit", "os=debian-12"); ok {
		t.Error("iso_cache_hit exported for a build where it is unknown")
	}
	if strings.Contains(text, "1e+") {
		t.Errorf("values should be plain decimals:\n%s", text)
	}
	if PrometheusText([]Record{old, latestOK, failed, fedora}) != text {
		t.Error("output depends on the order of the input")
	}
}

func TestPrometheusTextEscaping(t *testing.T) {
	r := success("debian-12", 0, 1, 2, 3, 4, 5)
	r.Stages[0].Name = "quote\" back\\slash\nnewline"
	r.Artifacts[0].Name = "bad\xffutf8"
	r.Tools["qemu"] = `8.2.2 "ubuntu"`
	text := PrometheusText([]Record{r})
	if !strings.Contains(text, `stage="quote\" back\\slash\nnewline"`) {
		t.Errorf("label value not escaped:\n%s", text)
	}
	fams := parseExposition(t, text)
	if _, ok := value(t, fams, "stage_duration_seconds", "os=debian-12,stage=quote\" back\\slash\nnewline"); !ok {
		t.Error("escaped stage label does not parse back to the original")
	}
	if _, ok := value(t, fams, "artifact_size_bytes", "os=debian-12,format=qcow2,artifact=bad\uFFFDutf8"); !ok {
		t.Error("invalid UTF-8 label value not replaced")
	}
}

func TestPrometheusTextMergesRetriedStages(t *testing.T) {
	r := success("debian-12", 0, 1, 2, 3, 4, 5)
	r.Stages = append(r.Stages, Stage{Name: "packer", Seconds: 8, Outcome: OutcomeSuccess})
	fams := parseExposition(t, PrometheusText([]Record{r}))
	if v, _ := value(t, fams, "stage_duration_seconds", "os=debian-12,stage=packer"); v != 10 {
		t.Errorf("retried stage duration %v, want the sum 10", v)
	}
}

func TestPrometheusTextNeverExportsErrors(t *testing.T) {
	const secret = "ghp_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ"
	tests := []struct {
		name string
		rec  Record
	}{
		{"error set directly", func() Record {
			r := failure("debian-12", 0, "x")
			r.Error = "token " + secret + " rejected"
			return r
		}()},
		{"error through Failure", failure("debian-12", 0, "authentication with "+secret+" failed\nmore "+secret)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.rec.Error, secret) {
				t.Fatal("fixture lost its secret; the test would prove nothing")
			}
			text := PrometheusText([]Record{tc.rec})
			if strings.Contains(text, secret) || strings.Contains(text, "rejected") || strings.Contains(text, "authentication") {
				t.Fatalf("error text leaked into metrics:\n%s", text)
			}
			parseExposition(t, text)
		})
	}
}

func TestPrometheusTextEmpty(t *testing.T) {
	if got := PrometheusText(nil); got != "" {
		t.Fatalf("no records should give no families, got %q", got)
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {12.5, "12.5"}, {1732097267.5, "1732097267.5"}, {1e20, "1e+20"}, {1e-9, "1e-09"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	}
	for _, tc := range tests {
		if got := formatValue(tc.in); got != tc.want {
			t.Errorf("formatValue(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSeverities(t *testing.T) {
	got := severities(map[string]int{"LOW": 1, "NEGLIGIBLE": 0, "CRITICAL": 2, "ABC": 0})
	if strings.Join(got, " ") != "CRITICAL LOW ABC NEGLIGIBLE" {
		t.Fatalf("severities = %v: want worst first, then unknown ones alphabetically", got)
	}
}
