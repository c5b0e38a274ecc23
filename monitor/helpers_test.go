package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
)

// day0 is the start of the fixtures' history; builds are placed by day offset from it.
var day0 = time.Date(2024, 11, 1, 2, 0, 0, 0, time.UTC)

func at(day int, hour int) time.Time {
	return day0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
}

// success is a valid success record starting at day d with the given stage seconds (fetch, packer,
// convert, scan) and a qcow2 of size bytes.
func success(osID string, d int, fetch, packer, convert, scan float64, size int64) Record {
	stages := []Stage{
		{Name: "fetch", Seconds: fetch, Outcome: OutcomeSuccess},
		{Name: "packer", Seconds: packer, Outcome: OutcomeSuccess},
		{Name: "convert", Seconds: convert, Outcome: OutcomeSuccess},
		{Name: "scan", Seconds: scan, Outcome: OutcomeSuccess},
	}
	total := fetch + packer + convert + scan
	return Record{
		SchemaVersion: RecordSchemaVersion,
		OS:            osID,
		Template:      osID,
		StartedAt:     at(d, 0),
		FinishedAt:    at(d, 0).Add(time.Duration(total * float64(time.Second))),
		Outcome:       OutcomeSuccess,
		Accelerator:   "kvm",
		Stages:        stages,
		Artifacts:     []ArtifactSize{{Name: osID + ".qcow2", Format: "qcow2", SizeBytes: size}},
		ScanCounts:    map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "UNKNOWN": 0},
		SourceCommit:  strings.Repeat("ab", 20),
		Tools:         map[string]string{"packer": "1.11.2", "qemu": "8.2.2", "trivy": "0.57.1", "dagger": "0.19.7"},
	}
}

// failure is a valid failure record at day d that failed in packer after fetch.
func failure(osID string, d int, msg string) Record {
	return Failure(osID, osID, at(d, 0), at(d, 1), []Stage{{Name: "fetch", Seconds: 10}, {Name: "packer", Seconds: 3000}}, "packer", errString(msg))
}

type errString string

func (e errString) Error() string { return string(e) }

// sampleMetadata is a metadata document that passes artifacts.ValidateMetadata: real-looking hex
// digests and a scan whose counts agree with its findings.
func sampleMetadata(t *testing.T, osID string, started time.Time) artifacts.Metadata {
	t.Helper()
	return artifacts.Metadata{
		SchemaVersion: artifacts.MetadataSchemaVersion,
		Template:      osID,
		OS:            artifacts.MetadataOS{ID: osID, Name: "Debian", Version: "12", Family: "debian"},
		Build: artifacts.Build{
			StartedAt:    started,
			FinishedAt:   started.Add(41*time.Minute + 7*time.Second),
			SourceCommit: strings.Repeat("cd", 20),
			Accelerator:  "kvm",
			Tools:        map[string]string{"packer": "1.11.2", "qemu": "8.2.2", "trivy": "0.57.1"},
			Stages:       []artifacts.Stage{{Name: "fetch", Seconds: 12.5}, {Name: "packer", Seconds: 1804.2}, {Name: "convert", Seconds: 95.3}},
		},
		Artifacts: []artifacts.Artifact{{
			Name: osID + ".qcow2", Format: "qcow2", SizeBytes: 123456789, VirtualSizeBytes: 10 << 30,
			SHA256: strings.Repeat("a", 64), SHA512: strings.Repeat("b", 128),
		}},
		Scan: &artifacts.ScanSummary{
			Scanner: "trivy", Version: "0.57.1",
			Counts:          map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0},
			Vulnerabilities: []artifacts.Finding{{ID: "CVE-2024-0001", Package: "zlib1g", Installed: "1.2", Severity: "HIGH"}},
			FailOn:          "NONE", Passed: true,
		},
		CloudStack: []artifacts.RegisterTemplate{},
	}
}

func boolPtr(b bool) *bool { return &b }
