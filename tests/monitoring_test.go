//go:build e2e

package tests

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/monitor"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseMetrics reads a Prometheus text file with Prometheus's own parser.
func parseMetrics(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s is not Prometheus text: %v", path, err)
	}
	n := map[string]int{}
	for name, fam := range families {
		n[name] = len(fam.GetMetric())
	}
	return n
}

type junitSuites struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, path string) junitSuites {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j junitSuites
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("%s is not JUnit XML: %v", path, err)
	}
	return j
}

// checkMonitoringExports checks a successful build's record.json, metrics.prom and junit.xml.
func checkMonitoringExports(t *testing.T, out, osID string) {
	t.Helper()
	var rec struct {
		OS, Outcome string
		Stages      []struct{ Name string }
	}
	b, err := os.ReadFile(filepath.Join(out, "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.OS != osID || rec.Outcome != "success" || len(rec.Stages) < 5 {
		t.Errorf("record.json: %+v (%v)", rec, err)
	}
	m := parseMetrics(t, filepath.Join(out, "metrics.prom"))
	for _, fam := range []string{"cloudstack_template_build_success", "cloudstack_template_build_duration_seconds",
		"cloudstack_template_stage_duration_seconds", "cloudstack_template_artifact_size_bytes", "cloudstack_template_build_info"} {
		if m[fam] == 0 {
			t.Errorf("metrics.prom has no %s: %v", fam, m)
		}
	}
	j := parseJUnit(t, filepath.Join(out, "junit.xml"))
	if j.Failures != 0 || len(j.Suites) != 1 || len(j.Suites[0].Cases) != len(rec.Stages) {
		t.Errorf("junit.xml of a successful build: %+v", j)
	}
}

// checkReport checks report's files for records of osID that include a failure.
func checkReport(t *testing.T, dir, osID string) {
	t.Helper()
	var sum struct {
		OSes []struct {
			OS                string
			Builds, Successes int
			SuccessRate       float64
			Stages            []struct{ Name string }
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range sum.OSes {
		if o.OS == osID {
			found = true
			if o.Builds < 2 || o.Successes < 1 || o.Successes >= o.Builds || o.SuccessRate <= 0 || o.SuccessRate >= 1 || len(o.Stages) < 5 {
				t.Errorf("report of %s: %+v", osID, o)
			}
		}
	}
	if !found {
		t.Fatalf("report.json has no %s: %s", osID, b)
	}
	table, _ := os.ReadFile(filepath.Join(dir, "report.txt"))
	if !strings.Contains(string(table), osID) {
		t.Errorf("report.txt does not name %s:\n%s", osID, table)
	}
	t.Logf("e2e: report.txt\n%s", table)
	svg, _ := os.ReadFile(filepath.Join(dir, "stage-durations.svg"))
	var doc struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(svg, &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Errorf("stage-durations.svg is not an SVG document: %v", err)
	}
	if m := parseMetrics(t, filepath.Join(dir, "metrics.prom")); m["cloudstack_template_build_success"] == 0 {
		t.Errorf("report's metrics.prom has no build_success")
	}
	if j := parseJUnit(t, filepath.Join(dir, "junit.xml")); j.Failures == 0 {
		t.Errorf("report's junit.xml shows no failure although a failed build is among the records")
	}
}

// checkAuditLog checks the engine's audit log (exported to path): its chain verifies; the gated
// build (started with --actor e2e-gate --origin gateOrigin) is there as a scan failure with the
// installer's digest among its inputs; a successful testbed build lists the exported qcow2's digest;
// and a copy with one line changed no longer verifies.
func checkAuditLog(t *testing.T, path, out, name, gateOrigin string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := monitor.VerifyAudit(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the exported audit log does not verify: %v", err)
	}
	sum, err := os.ReadFile(filepath.Join(out, name+".qcow2.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	qcow2 := strings.Fields(string(sum))[0]
	var gate, success bool
	for _, e := range entries {
		if !strings.HasPrefix(e.Call, "dagger call ") || e.OS == "" {
			t.Errorf("audit entry without a call: %+v", e)
		}
		if e.Origin == gateOrigin {
			gate = e.Actor == "e2e-gate" && e.Outcome == monitor.OutcomeFailure && e.FailedStage == "scan" &&
				strings.Contains(e.Error, "CVE-9999-0001") && strings.Contains(e.Call, "--fail-on=HIGH") &&
				strings.HasPrefix(e.Inputs["installer:"+osdefs.TestbedImage], "sha256:")
			if !gate {
				t.Errorf("the gated build's audit entry is not a scan failure with its call and installer digest: %+v", e)
			}
		}
		if e.OS == "testbed" && e.Outcome == monitor.OutcomeSuccess && e.Artifacts[name+".qcow2"] == qcow2 {
			success = true
		}
	}
	if !gate {
		t.Errorf("no audit entry has origin %s (the gated build)", gateOrigin)
	}
	if !success {
		t.Errorf("no successful testbed entry lists the exported qcow2's digest %s", qcow2)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	if len(lines) > 2 {
		lines[0] = bytes.Replace(lines[0], []byte(`"actor":"`), []byte(`"actor":"x`), 1)
		if _, err := monitor.VerifyAudit(bytes.NewReader(bytes.Join(lines, nil))); err == nil {
			t.Errorf("an audit log with its first line changed still verifies")
		}
	}
}
