package monitor

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MetricPrefix starts every metric family name, so the families group together and cannot clash
// with another exporter's on the same node.
const MetricPrefix = "cloudstack_template_"

// infoTools are the tools whose versions become build_info labels. The set is fixed so the label set
// of the series does not change when a build records an extra tool.
var infoTools = []string{"packer", "qemu", "trivy"}

type label struct{ name, value string }

type sample struct {
	labels []label
	value  float64
}

type family struct {
	name, help, typ string
	samples         []sample
}

func (f *family) add(value float64, labels ...label) {
	f.samples = append(f.samples, sample{labels: labels, value: value})
}

// PrometheusText renders the current state of each OS in the Prometheus text exposition format
// 0.0.4, which node-exporter's textfile collector and the Pushgateway read. Per OS the latest record
// (by finish time) is the current state; artifact sizes and scan counts come from the latest record
// that has them, because a failed build delivers nothing and the last delivered template is still
// the one in use. Records that fail Validate are skipped. Samples carry no timestamps: the textfile
// collector rejects them, and build_timestamp_seconds carries the time instead. The error text is
// never exported: it can be long, unique per build (a label cardinality problem) and sensitive.
func PrometheusText(records []Record) string {
	records, _ = validRecords(records)
	var (
		success  = &family{name: MetricPrefix + "build_success", typ: "gauge", help: "Whether the latest build of the OS succeeded (1) or failed (0)."}
		duration = &family{name: MetricPrefix + "build_duration_seconds", typ: "gauge", help: "Wall-clock duration of the latest build of the OS."}
		stageDur = &family{name: MetricPrefix + "stage_duration_seconds", typ: "gauge", help: "Duration of each pipeline stage in the latest build of the OS."}
		stageOK  = &family{name: MetricPrefix + "stage_success", typ: "gauge", help: "Whether each stage that ran in the latest build of the OS succeeded (1) or failed (0)."}
		size     = &family{name: MetricPrefix + "artifact_size_bytes", typ: "gauge", help: "Size of each artifact of the latest build of the OS that delivered artifacts."}
		vulns    = &family{name: MetricPrefix + "scan_vulnerabilities", typ: "gauge", help: "Vulnerabilities per severity found by the latest scanned build of the OS."}
		isoHit   = &family{name: MetricPrefix + "iso_cache_hit", typ: "gauge", help: "Whether the latest build of the OS found its installer ISO in the cache (1) or downloaded it (0)."}
		finished = &family{name: MetricPrefix + "build_timestamp_seconds", typ: "gauge", help: "Unix time at which the latest build of the OS finished."}
		lastOK   = &family{name: MetricPrefix + "last_success_timestamp_seconds", typ: "gauge", help: "Unix time at which the latest successful build of the OS finished."}
		info     = &family{name: MetricPrefix + "build_info", typ: "gauge", help: "Always 1; labels describe the latest build of the OS (accelerator, source commit, tool versions)."}
	)
	for _, r := range latestPerOS(records) {
		osLabel := label{"os", r.OS}
		success.add(boolValue(r.Outcome == OutcomeSuccess), osLabel)
		duration.add(buildSeconds(r), osLabel)
		for _, s := range mergedStages(r) {
			st := label{"stage", s.Name}
			stageDur.add(s.Seconds, osLabel, st)
			stageOK.add(boolValue(s.Outcome == OutcomeSuccess), osLabel, st)
		}
		if r.ISOCacheHit != nil {
			isoHit.add(boolValue(*r.ISOCacheHit), osLabel)
		}
		finished.add(unixSeconds(r.FinishedAt), osLabel)
		labels := []label{osLabel}
		if r.Accelerator != "" {
			labels = append(labels, label{"accelerator", r.Accelerator})
		}
		if r.SourceCommit != "" {
			labels = append(labels, label{"source_commit", r.SourceCommit})
		}
		for _, t := range infoTools {
			if v := r.Tools[t]; v != "" {
				labels = append(labels, label{t, v})
			}
		}
		info.add(1, labels...)
	}
	for _, r := range latestPerOSWhere(records, func(r Record) bool { return len(r.Artifacts) > 0 }) {
		seen := map[[2]string]bool{}
		for _, a := range r.Artifacts {
			k := [2]string{a.Format, a.Name}
			if seen[k] {
				// Two series with one label set would make the whole exposition invalid.
				continue
			}
			seen[k] = true
			size.add(float64(a.SizeBytes), label{"os", r.OS}, label{"format", a.Format}, label{"artifact", a.Name})
		}
	}
	for _, r := range latestPerOSWhere(records, func(r Record) bool { return r.ScanCounts != nil }) {
		for _, sev := range severities(r.ScanCounts) {
			vulns.add(float64(r.ScanCounts[sev]), label{"os", r.OS}, label{"severity", sev})
		}
	}
	for _, r := range latestPerOSWhere(records, func(r Record) bool { return r.Outcome == OutcomeSuccess }) {
		lastOK.add(unixSeconds(r.FinishedAt), label{"os", r.OS})
	}

	var b strings.Builder
	for _, f := range []*family{success, duration, stageDur, stageOK, size, vulns, isoHit, finished, lastOK, info} {
		// An empty family is left out rather than written as bare HELP/TYPE lines, which some
		// consumers treat as a metric without samples.
		if len(f.samples) == 0 {
			continue
		}
		b.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		b.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for _, s := range f.samples {
			b.WriteString(f.name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l.name + `="` + escapeLabelValue(l.value) + `"`)
				}
				b.WriteByte('}')
			}
			b.WriteString(" " + formatValue(s.value) + "\n")
		}
	}
	return b.String()
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// labelEscaper and helpEscaper implement the escapes the text format defines: label values escape
// backslash, double quote and line feed; HELP text escapes backslash and line feed only.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabelValue also replaces invalid UTF-8, which the format forbids and parsers reject.
func escapeLabelValue(s string) string {
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

func escapeHelp(s string) string { return helpEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD")) }

// formatValue writes plain decimals where that is exact (timestamps and byte sizes stay readable)
// and Go's shortest exponent form otherwise; both are valid Prometheus floats.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0 || (math.Abs(v) >= 1e-6 && math.Abs(v) < 1e15):
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
}

// latestPerOS returns, for each OS, the record that finished last (ties: started last, then later in
// the input), sorted by OS. This is the "current state" a textfile collector should expose.
func latestPerOS(records []Record) []Record {
	return latestPerOSWhere(records, func(Record) bool { return true })
}

// latestPerOSWhere is latestPerOS over the records that satisfy keep.
func latestPerOSWhere(records []Record, keep func(Record) bool) []Record {
	best := map[string]Record{}
	for _, r := range records {
		if !keep(r) {
			continue
		}
		b, ok := best[r.OS]
		if !ok || newer(r, b) {
			best[r.OS] = r
		}
	}
	out := make([]Record, 0, len(best))
	for _, r := range best {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OS < out[j].OS })
	return out
}

// newer reports whether a is at least as recent as b; equal records let the later one in the input win.
func newer(a, b Record) bool {
	if !a.FinishedAt.Equal(b.FinishedAt) {
		return a.FinishedAt.After(b.FinishedAt)
	}
	return !a.StartedAt.Before(b.StartedAt)
}

// unixSeconds is t as fractional Unix seconds, the unit Prometheus timestamps use.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
