package monitor

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestFromMetadata(t *testing.T) {
	started := time.Date(2024, 11, 20, 10, 0, 0, 0, time.UTC)
	md := sampleMetadata(t, "debian-12", started)
	r := FromMetadata(md)
	if err := Validate(r); err != nil {
		t.Fatalf("record from valid metadata does not validate: %v", err)
	}
	want := Record{
		SchemaVersion: 1, OS: "debian-12", Template: "debian-12",
		StartedAt: started, FinishedAt: started.Add(41*time.Minute + 7*time.Second),
		Outcome: OutcomeSuccess, Accelerator: "kvm",
		Stages: []Stage{
			{Name: "fetch", Seconds: 12.5, Outcome: OutcomeSuccess},
			{Name: "packer", Seconds: 1804.2, Outcome: OutcomeSuccess},
			{Name: "convert", Seconds: 95.3, Outcome: OutcomeSuccess},
		},
		Artifacts:    []ArtifactSize{{Name: "debian-12.qcow2", Format: "qcow2", SizeBytes: 123456789}},
		ScanCounts:   map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0},
		SourceCommit: strings.Repeat("cd", 20),
		Tools:        map[string]string{"packer": "1.11.2", "qemu": "8.2.2", "trivy": "0.57.1"},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("FromMetadata:\n got %+v\nwant %+v", r, want)
	}
	// The record must not alias the metadata's maps: callers may reuse the metadata.
	md.Build.Tools["packer"] = "changed"
	md.Scan.Counts["HIGH"] = 99
	if r.Tools["packer"] != "1.11.2" || r.ScanCounts["HIGH"] != 1 {
		t.Fatal("FromMetadata shares maps with the metadata")
	}

	md.Scan = nil
	if r := FromMetadata(md); r.ScanCounts != nil {
		t.Fatalf("no scan must give nil ScanCounts, got %v", r.ScanCounts)
	}
}

func TestFailure(t *testing.T) {
	s, f := at(0, 0), at(0, 1)
	tests := []struct {
		name        string
		stages      []Stage
		failedStage string
		err         error
		wantStages  []Stage
		wantFailed  string
		wantError   string
	}{
		{
			name:        "failed stage listed",
			stages:      []Stage{{Name: "fetch", Seconds: 3}, {Name: "packer", Seconds: 60}},
			failedStage: "packer",
			err:         errString("packer: exit status 1"),
			wantStages:  []Stage{{"fetch", 3, OutcomeSuccess}, {"packer", 60, OutcomeFailure}},
			wantFailed:  "packer",
			wantError:   "packer: exit status 1",
		},
		{
			name:        "failed stage not listed is appended",
			stages:      []Stage{{Name: "fetch", Seconds: 3}},
			failedStage: "packer",
			err:         errString("boom"),
			wantStages:  []Stage{{"fetch", 3, OutcomeSuccess}, {"packer", 0, OutcomeFailure}},
			wantFailed:  "packer",
			wantError:   "boom",
		},
		{
			name:       "unknown stage and nil error",
			wantStages: []Stage{{UnknownStage, 0, OutcomeFailure}},
			wantFailed: UnknownStage,
		},
		{
			name:        "explicit outcomes are kept (retried stage)",
			stages:      []Stage{{"convert", 5, OutcomeFailure}, {"convert", 6, OutcomeSuccess}, {"scan", 1, ""}},
			failedStage: "scan",
			err:         errString("gate"),
			wantStages:  []Stage{{"convert", 5, OutcomeFailure}, {"convert", 6, OutcomeSuccess}, {"scan", 1, OutcomeFailure}},
			wantFailed:  "scan",
			wantError:   "gate",
		},
		{
			name:        "long error keeps the first lines, URL credentials scrubbed",
			stages:      []Stage{{Name: "fetch", Seconds: 1}},
			failedStage: "fetch",
			err:         errString("GET https://user:hunter2@mirror.example/a.iso?X-Amz-Signature=abc: 403\r\nl2\nl3\nl4\nl5\nl6\nl7"),
			wantStages:  []Stage{{"fetch", 1, OutcomeFailure}},
			wantFailed:  "fetch",
			wantError:   "GET https://REDACTED@mirror.example/a.iso?REDACTED: 403\nl2\nl3\nl4\nl5 …",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Failure("debian-12", "debian-12", s, f, tc.stages, tc.failedStage, tc.err)
			if err := Validate(r); err != nil {
				t.Fatalf("Failure gave an invalid record: %v", err)
			}
			if r.Outcome != OutcomeFailure || r.FailedStage != tc.wantFailed || r.Error != tc.wantError {
				t.Errorf("outcome %q failedStage %q error %q; want failure %q %q", r.Outcome, r.FailedStage, r.Error, tc.wantFailed, tc.wantError)
			}
			if !reflect.DeepEqual(r.Stages, tc.wantStages) {
				t.Errorf("stages %+v, want %+v", r.Stages, tc.wantStages)
			}
		})
	}
	// The caller's slice is not modified.
	in := []Stage{{Name: "packer", Seconds: 1}}
	Failure("debian-12", "", s, f, in, "packer", nil)
	if in[0].Outcome != "" {
		t.Fatal("Failure modified the caller's stages")
	}
}

func TestErrorTextByteLimit(t *testing.T) {
	long := strings.Repeat("é", maxErrorBytes) // 2 bytes each: the cut falls inside a rune
	got := errorText(errString(long))
	if len(got) > maxErrorBytes+len(" …") || !strings.HasSuffix(got, " …") {
		t.Fatalf("not cut to %d bytes: %d bytes", maxErrorBytes, len(got))
	}
	if strings.ContainsRune(got, '\uFFFD') {
		t.Fatal("cut inside a rune")
	}
}

func TestValidate(t *testing.T) {
	ok := success("debian-12", 0, 10, 100, 10, 5, 1000)
	tests := []struct {
		name   string
		modify func(*Record)
		want   string // substring of the error; "" means valid
	}{
		{"valid success", func(*Record) {}, ""},
		{"valid failure", func(r *Record) { *r = failure("debian-12", 0, "x") }, ""},
		{"schema version", func(r *Record) { r.SchemaVersion = 2 }, "schemaVersion is 2"},
		{"empty os", func(r *Record) { r.OS = "" }, "os is empty"},
		{"bad os", func(r *Record) { r.OS = "Debian 12" }, "is not an OS id"},
		{"outcome enum", func(r *Record) { r.Outcome = "ok" }, `outcome "ok"`},
		{"failed stage on success", func(r *Record) { r.FailedStage = "packer" }, "outcome is success but failedStage"},
		{"no failed stage on failure", func(r *Record) { r.Outcome = OutcomeFailure }, "failedStage is empty"},
		{"failed stage not shown", func(r *Record) { r.Outcome, r.FailedStage = OutcomeFailure, "upload" }, `failedStage "upload" is not among`},
		{"stage failed in success", func(r *Record) { r.Stages[1].Outcome = OutcomeFailure }, `stage "packer" failed in a successful build`},
		{"negative seconds", func(r *Record) { r.Stages[0].Seconds = -1 }, "not a non-negative number"},
		{"NaN seconds", func(r *Record) { r.Stages[0].Seconds = math.NaN() }, "not a non-negative number"},
		{"stage outcome enum", func(r *Record) { r.Stages[0].Outcome = "" }, `outcome ""`},
		{"unnamed stage", func(r *Record) { r.Stages[0].Name = "" }, "stages[0] has no name"},
		{"finished before started", func(r *Record) { r.FinishedAt = r.StartedAt.Add(-time.Second) }, "is before startedAt"},
		{"zero start", func(r *Record) { r.StartedAt = time.Time{} }, "startedAt is not set"},
		{"negative size", func(r *Record) { r.Artifacts[0].SizeBytes = -1 }, "sizeBytes -1 is negative"},
		{"duplicate artifact", func(r *Record) { r.Artifacts = append(r.Artifacts, r.Artifacts[0]) }, "listed twice"},
		{"negative count", func(r *Record) { r.ScanCounts["HIGH"] = -2 }, "scanCounts HIGH = -2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			r.Stages = append([]Stage(nil), ok.Stages...)
			r.Artifacts = append([]ArtifactSize(nil), ok.Artifacts...)
			r.ScanCounts = map[string]int{"HIGH": 1}
			tc.modify(&r)
			testcheck.Err(t, Validate(r), tc.want)
		})
	}
}

func TestRecordJSON(t *testing.T) {
	r := failure("debian-12", 3, "boom")
	r.ISOCacheHit = boolPtr(false)
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	testcheck.ContainsAll(t, "JSON", string(data), `"schemaVersion":1`, `"os":"debian-12"`, `"startedAt":"2024-11-04T02:00:00Z"`, `"outcome":"failure"`, `"failedStage":"packer"`, `"isoCacheHit":false`, `"stages":[{"name":"fetch","seconds":10,"outcome":"success"}`)
	back, err := decodeRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, r)
	}
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(string(data), `"os"`, `"osId":"x","os"`, 1),
		"trailing data": string(data) + "{}",
		"invalid":       strings.Replace(string(data), `"failure"`, `"failed"`, 1),
	} {
		if _, err := decodeRecord([]byte(bad)); err == nil {
			t.Errorf("%s: decodeRecord accepted %s", name, bad)
		}
	}
}

func TestMergedStages(t *testing.T) {
	r := Record{Stages: []Stage{{"a", 1, OutcomeSuccess}, {"b", 2, OutcomeFailure}, {"", 9, OutcomeSuccess}, {"b", 3, OutcomeSuccess}}}
	want := []Stage{{"a", 1, OutcomeSuccess}, {"b", 5, OutcomeSuccess}}
	if got := mergedStages(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("mergedStages = %+v, want %+v", got, want)
	}
}
