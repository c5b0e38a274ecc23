package monitor

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// RecordSchemaVersion is the schemaVersion of the Record JSON this package writes and accepts; an
// incompatible change to Record bumps it so old readers refuse new files instead of misreading them.
const RecordSchemaVersion = 1

// Outcomes of a build or of a stage. They are strings, not booleans, so the JSON reads the same way
// the metrics and JUnit do and a later outcome (e.g. cancelled) can be added without a schema break.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// UnknownStage is the failed stage Failure records when the caller cannot say which stage failed: a
// failure record must name one so that Validate, the JUnit report and the stage metrics all agree.
const UnknownStage = "unknown"

// Limits on the error text kept in a failure record: enough to tell what broke, small enough that a
// record stays a short JSON document and a JUnit message stays readable. The full log is elsewhere.
const (
	maxErrorLines = 5
	maxErrorBytes = 2000
)

// Record is one build's outcome: what monitoring keeps about a build, successful or not. It is small
// on purpose (no digests, no findings, no registration parameters) so it can be written for every
// build, kept for months and aggregated cheaply. JSON field names follow metadata.json's style.
type Record struct {
	// SchemaVersion is RecordSchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// OS is the canonical OS id (the --os value), e.g. "debian-12".
	OS string `json:"os"`
	// Template is the template name (the stem of the artifact file names).
	Template string `json:"template,omitempty"`
	// StartedAt and FinishedAt bound the whole build.
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Outcome is OutcomeSuccess or OutcomeFailure.
	Outcome string `json:"outcome"`
	// FailedStage names the stage that failed; set exactly when Outcome is OutcomeFailure.
	FailedStage string `json:"failedStage,omitempty"`
	// Error is the first lines of the failure's error. Callers must redact secrets they know of
	// before building a record (Failure additionally scrubs URL credentials); it is never exported
	// as a metric, only in JUnit reports and the record itself.
	Error string `json:"error,omitempty"`
	// Stages are the stages that ran, in run order.
	Stages []Stage `json:"stages"`
	// Accelerator is "kvm" or "tcg" when known.
	Accelerator string `json:"accelerator,omitempty"`
	// Artifacts are the delivered files with their sizes; empty for a failed build.
	Artifacts []ArtifactSize `json:"artifacts,omitempty"`
	// ScanCounts maps a severity (CRITICAL, HIGH, ...) to the number of vulnerabilities found; nil
	// when the build did not scan, which is different from a scan that found nothing.
	ScanCounts map[string]int `json:"scanCounts,omitempty"`
	// ISOCacheHit says whether the installer ISO came from the cache; nil when unknown.
	ISOCacheHit *bool `json:"isoCacheHit,omitempty"`
	// SourceCommit is the cloudstack-templates commit that built it.
	SourceCommit string `json:"sourceCommit,omitempty"`
	// Tools maps a tool name (packer, qemu, trivy, ...) to its version.
	Tools map[string]string `json:"tools,omitempty"`
}

// Stage is one pipeline stage of a build, how long it ran and how it ended.
type Stage struct {
	// Name is the stage name as the pipeline logs it, e.g. "packer".
	Name string `json:"name"`
	// Seconds is the stage's wall-clock duration.
	Seconds float64 `json:"seconds"`
	// Outcome is OutcomeSuccess or OutcomeFailure.
	Outcome string `json:"outcome"`
}

// ArtifactSize is one delivered file and its size, the part of a metadata artifact worth trending.
type ArtifactSize struct {
	// Name is the file name, e.g. "debian-12.qcow2".
	Name string `json:"name"`
	// Format is qcow2, vhd or ova.
	Format string `json:"format"`
	// SizeBytes is the size of the file as delivered.
	SizeBytes int64 `json:"sizeBytes"`
}

// FromMetadata makes the success record of the build a metadata.json describes. A metadata document
// is only written for builds that passed every stage, so every stage is marked successful. The ISO
// cache is not recorded in the metadata, so ISOCacheHit is left unknown.
func FromMetadata(md artifacts.Metadata) Record {
	r := Record{
		SchemaVersion: RecordSchemaVersion,
		OS:            md.OS.ID,
		Template:      md.Template,
		StartedAt:     md.Build.StartedAt,
		FinishedAt:    md.Build.FinishedAt,
		Outcome:       OutcomeSuccess,
		Accelerator:   md.Build.Accelerator,
		Stages:        make([]Stage, 0, len(md.Build.Stages)),
		SourceCommit:  md.Build.SourceCommit,
		Tools:         maps.Clone(md.Build.Tools),
	}
	for _, s := range md.Build.Stages {
		r.Stages = append(r.Stages, Stage{Name: s.Name, Seconds: s.Seconds, Outcome: OutcomeSuccess})
	}
	for _, a := range md.Artifacts {
		r.Artifacts = append(r.Artifacts, ArtifactSize{Name: a.Name, Format: a.Format, SizeBytes: a.SizeBytes})
	}
	if md.Scan != nil {
		r.ScanCounts = maps.Clone(md.Scan.Counts)
		if r.ScanCounts == nil {
			// A scan ran but counted nothing: keep "scanned" distinct from "not scanned".
			r.ScanCounts = map[string]int{}
		}
	}
	return r
}

// Failure makes the record of a failed build. stages are the stages that ran (the failed one
// included or not); a stage without an Outcome counts as successful unless it is failedStage. When
// stages does not show failedStage failing, a zero-second failed stage is appended so every report
// names the culprit. An empty failedStage becomes UnknownStage. The error keeps its first lines, with
// URL credentials scrubbed by redact.Text; secrets that only the caller knows (API keys) must be
// removed from err by the caller.
func Failure(osID, template string, started, finished time.Time, stages []Stage, failedStage string, err error) Record {
	if failedStage == "" {
		failedStage = UnknownStage
	}
	out := make([]Stage, 0, len(stages)+1)
	shown := false
	for _, s := range stages {
		if s.Outcome == "" {
			s.Outcome = OutcomeSuccess
			if s.Name == failedStage {
				s.Outcome = OutcomeFailure
			}
		}
		if s.Name == failedStage && s.Outcome == OutcomeFailure {
			shown = true
		}
		out = append(out, s)
	}
	if !shown {
		out = append(out, Stage{Name: failedStage, Outcome: OutcomeFailure})
	}
	return Record{
		SchemaVersion: RecordSchemaVersion,
		OS:            osID,
		Template:      template,
		StartedAt:     started,
		FinishedAt:    finished,
		Outcome:       OutcomeFailure,
		FailedStage:   failedStage,
		Error:         errorText(err),
		Stages:        out,
	}
}

// errorText keeps the head of an error: build errors can carry a whole tool log, and a record is a
// summary that points at the log rather than a copy of it.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	s := redact.Text(err.Error())
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(strings.TrimSpace(s), "\n")
	truncated := false
	if len(lines) > maxErrorLines {
		lines, truncated = lines[:maxErrorLines], true
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	s = strings.Join(lines, "\n")
	if len(s) > maxErrorBytes {
		cut := maxErrorBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, truncated = s[:cut], true
	}
	if truncated {
		s += " …"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// osIDPattern is the metadata schema's pattern for os.id, so a record's OS can always be matched
// with the metadata and used as a label value without surprises.
var osIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Validate checks what the record's consumers rely on: known schema version and outcomes, an OS id,
// a failed stage exactly on failure (and shown failing in Stages), a success with no failed stage,
// sane times and non-negative durations, sizes and counts. All problems are reported together.
func Validate(r Record) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.SchemaVersion != RecordSchemaVersion {
		add("schemaVersion is %d, this package reads %d", r.SchemaVersion, RecordSchemaVersion)
	}
	if r.OS == "" {
		add("os is empty")
	} else if !osIDPattern.MatchString(r.OS) {
		add("os %q is not an OS id (lower-case letters, digits, '.', '_', '-')", r.OS)
	}
	switch r.Outcome {
	case OutcomeSuccess:
		if r.FailedStage != "" {
			add("outcome is success but failedStage is %q", r.FailedStage)
		}
	case OutcomeFailure:
		if r.FailedStage == "" {
			add("outcome is failure but failedStage is empty")
		}
	default:
		add("outcome %q is neither %q nor %q", r.Outcome, OutcomeSuccess, OutcomeFailure)
	}
	if r.StartedAt.IsZero() {
		add("startedAt is not set")
	}
	if r.FinishedAt.IsZero() {
		add("finishedAt is not set")
	}
	if r.FinishedAt.Before(r.StartedAt) {
		add("finishedAt %s is before startedAt %s", r.FinishedAt.Format(time.RFC3339), r.StartedAt.Format(time.RFC3339))
	}
	failedShown := false
	for i, s := range r.Stages {
		if s.Name == "" {
			add("stages[%d] has no name", i)
		}
		if math.IsNaN(s.Seconds) || math.IsInf(s.Seconds, 0) || s.Seconds < 0 {
			add("stage %q: seconds %v is not a non-negative number", s.Name, s.Seconds)
		}
		switch s.Outcome {
		case OutcomeSuccess:
		case OutcomeFailure:
			if r.Outcome == OutcomeSuccess {
				add("stage %q failed in a successful build", s.Name)
			}
			if s.Name == r.FailedStage {
				failedShown = true
			}
		default:
			add("stage %q: outcome %q is neither %q nor %q", s.Name, s.Outcome, OutcomeSuccess, OutcomeFailure)
		}
	}
	if r.Outcome == OutcomeFailure && r.FailedStage != "" && !failedShown {
		add("failedStage %q is not among the stages with outcome failure", r.FailedStage)
	}
	names := map[string]bool{}
	for i, a := range r.Artifacts {
		if a.Name == "" || a.Format == "" {
			add("artifacts[%d] needs a name and a format", i)
		}
		if names[a.Name] {
			add("artifact %q listed twice", a.Name)
		}
		names[a.Name] = true
		if a.SizeBytes < 0 {
			add("artifact %q: sizeBytes %d is negative", a.Name, a.SizeBytes)
		}
	}
	for _, sev := range slices.Sorted(maps.Keys(r.ScanCounts)) {
		if sev == "" {
			add("scanCounts has an empty severity")
		}
		if n := r.ScanCounts[sev]; n < 0 {
			add("scanCounts %s = %d is negative", sev, n)
		}
	}
	if len(problems) > 0 {
		return errors.New("record: " + strings.Join(problems, "; "))
	}
	return nil
}

// buildSeconds is the whole build's wall-clock duration.
func buildSeconds(r Record) float64 { return r.FinishedAt.Sub(r.StartedAt).Seconds() }

// mergedStages folds repeated stage names (a retried stage) into one entry per name, in order of
// first appearance, with the durations added and the last outcome kept. Metrics need one series per
// stage, and a retry's total time is what the stage cost the build.
func mergedStages(r Record) []Stage {
	idx := map[string]int{}
	var out []Stage
	for _, s := range r.Stages {
		if s.Name == "" {
			continue
		}
		if i, ok := idx[s.Name]; ok {
			out[i].Seconds += s.Seconds
			out[i].Outcome = s.Outcome
			continue
		}
		idx[s.Name] = len(out)
		out = append(out, s)
	}
	return out
}

// validRecords drops records that fail Validate and returns how many it dropped; the renderers take
// whatever they are given and must not emit a series with an empty OS or a negative duration.
func validRecords(records []Record) ([]Record, int) {
	out := make([]Record, 0, len(records))
	for _, r := range records {
		if Validate(r) == nil {
			out = append(out, r)
		}
	}
	return out, len(records) - len(out)
}

// severityOrder is the worst-first order used wherever severities are listed.
var severityOrder = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}

// severities lists the keys of counts worst first, then any others alphabetically, so output never
// depends on map order.
func severities(counts map[string]int) []string {
	var out []string
	for _, s := range severityOrder {
		if _, ok := counts[s]; ok {
			out = append(out, s)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(severityOrder, s) {
			out = append(out, s)
		}
	}
	return out
}
