package artifacts

import (
	"os"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func loadSample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/trivy-debian12-rootfs.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in   string
		want Severity
	}{
		{"CRITICAL", SeverityCritical}, {"high", SeverityHigh}, {" Medium ", SeverityMedium},
		{"low", SeverityLow}, {"unknown", SeverityUnknown}, {"none", SeverityNone},
	}
	for _, tc := range tests {
		got, err := ParseSeverity(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSeverity(%q) = %v, %v", tc.in, got, err)
		}
	}
	_, err := ParseSeverity("severe")
	if err == nil || !strings.Contains(err.Error(), "CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, NONE") || !strings.Contains(err.Error(), `"severe"`) {
		t.Fatalf("err = %v", err)
	}
	if SeverityCritical.String() != "CRITICAL" || Severity(42).String() != "Severity(42)" {
		t.Error("String")
	}
}

func TestParseTrivyReportSample(t *testing.T) {
	s, err := ParseTrivyReport(loadSample(t), "0.57.1", SeverityCritical)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{"CRITICAL": 2, "HIGH": 3, "MEDIUM": 1, "LOW": 2, "UNKNOWN": 0}
	for k, v := range wantCounts {
		if s.Counts[k] != v {
			t.Errorf("Counts[%s] = %d, want %d", k, s.Counts[k], v)
		}
	}
	if len(s.Counts) != 5 || s.Scanner != "trivy" || s.Version != "0.57.1" || s.FailOn != "CRITICAL" || s.Passed {
		t.Errorf("summary = %+v", s)
	}
	if len(s.Vulnerabilities) != 8 {
		t.Fatalf("%d vulnerabilities", len(s.Vulnerabilities))
	}
	first := s.Vulnerabilities[0]
	if first != (Finding{ID: "CVE-2023-45853", Package: "zlib1g", Installed: "1:1.2.13.dfsg-1", Severity: "CRITICAL",
		Title: "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6"}) {
		t.Errorf("first finding = %+v", first)
	}
	if last := s.Vulnerabilities[7]; last.ID != "TEMP-0841856-B18BAF" || last.Severity != "LOW" {
		t.Errorf("last finding = %+v", last)
	}
	if s.Secrets != 1 || s.SecretFindings[0] != (SecretFinding{RuleID: "private-key", Category: "AsymmetricPrivateKey",
		Severity: "HIGH", Title: "Asymmetric Private Key", Target: "/rootfs/root/.ssh/id_ed25519", Line: 1}) {
		t.Errorf("secrets = %d %+v", s.Secrets, s.SecretFindings)
	}
}

func TestParseTrivyReportVersionDedupAndErrors(t *testing.T) {
	report := `{"SchemaVersion":2,"Trivy":{"Version":"0.58.0"},"Results":[
	  {"Target":"a","Class":"os-pkgs","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","Severity":"HIGH"}]},
	  {"Target":"b","Class":"lang-pkgs","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","Severity":"HIGH"},
	    {"VulnerabilityID":"CVE-2","PkgName":"q","InstalledVersion":"2","Severity":"WEIRD"}]}]}`
	s, err := ParseTrivyReport([]byte(report), "fallback", SeverityNone)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "0.58.0" || len(s.Vulnerabilities) != 2 || s.Counts["HIGH"] != 1 || s.Counts["UNKNOWN"] != 1 || !s.Passed || s.FailOn != "NONE" {
		t.Errorf("summary = %+v", s)
	}
	empty, err := ParseTrivyReport([]byte(`{"SchemaVersion":2,"ArtifactName":"/rootfs"}`), "0.57.1", SeverityLow)
	if err != nil || !empty.Passed || empty.Vulnerabilities == nil || len(empty.Counts) != 5 {
		t.Errorf("clean report = %+v, %v", empty, err)
	}
	for _, bad := range []string{`{"SchemaVersion":1}`, `not json`, `[]`} {
		if _, err := ParseTrivyReport([]byte(bad), "x", SeverityHigh); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGate(t *testing.T) {
	s, err := ParseTrivyReport(loadSample(t), "0.57.1", SeverityNone)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		failOn  Severity
		lines   int // offending lines listed
		first   string
		present []string
		absent  []string
	}{
		{SeverityNone, 0, "", nil, nil},
		{SeverityCritical, 2, "CVE-2023-45853 (zlib1g 1:1.2.13.dfsg-1 → no fix, CRITICAL)",
			[]string{"CVE-2024-45491 (libexpat1 2.5.0-1 → 2.5.0-1+deb12u1, CRITICAL)"}, []string{"CVE-2024-6387", "secret private-key"}},
		{SeverityHigh, 6, "CVE-2023-45853", []string{
			"CVE-2024-2961 (libc-bin 2.36-9+deb12u4 → 2.36-9+deb12u7, HIGH)",
			"CVE-2024-6387 (openssh-server 1:9.2p1-2+deb12u2 → 1:9.2p1-2+deb12u3, HIGH)",
			"secret private-key in /rootfs/root/.ssh/id_ed25519:1 (HIGH)"}, []string{"CVE-2023-4039"}},
		{SeverityLow, 9, "CVE-2023-45853", []string{"TEMP-0841856-B18BAF", "CVE-2011-3374"}, nil},
		{SeverityUnknown, 9, "CVE-2023-45853", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.failOn.String(), func(t *testing.T) {
			err := Gate(s, tc.failOn)
			if tc.lines == 0 {
				if err != nil {
					t.Fatalf("gate at %s failed: %v", tc.failOn, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("gate at %s passed", tc.failOn)
			}
			lines := strings.Split(err.Error(), "\n")[1:]
			if len(lines) != tc.lines {
				t.Fatalf("%d offending lines, want %d:\n%v", len(lines), tc.lines, err)
			}
			if !strings.HasPrefix(strings.TrimSpace(lines[0]), tc.first) {
				t.Errorf("first line %q, want %q", lines[0], tc.first)
			}
			testcheck.ContainsAll(t, "error", err.Error(), tc.present...)
			for _, a := range tc.absent {
				if strings.Contains(err.Error(), a) {
					t.Errorf("unexpected %q in\n%v", a, err)
				}
			}
		})
	}
	// Same-severity findings are listed by ID.
	err = Gate(s, SeverityHigh)
	msg := err.Error()
	if strings.Index(msg, "CVE-2024-2961 (libc-bin") > strings.Index(msg, "CVE-2024-6387") {
		t.Errorf("HIGH findings not sorted by ID:\n%s", msg)
	}
}

func TestTable(t *testing.T) {
	s, err := ParseTrivyReport(loadSample(t), "0.57.1", SeverityCritical)
	if err != nil {
		t.Fatal(err)
	}
	out := Table(s)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "trivy 0.57.1: CRITICAL 2, HIGH 3, MEDIUM 1, LOW 2, UNKNOWN 0; secrets 1; gate CRITICAL: FAILED") {
		t.Errorf("header %q", lines[0])
	}
	// Header + column row + 8 findings + secret column row + 1 secret.
	if len(lines) != 12 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	// Fixed width: the ID column starts at the same offset on every vulnerability row.
	col := strings.Index(lines[1], "ID")
	for _, l := range lines[2:10] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned row %q (ID column at %d)", l, col)
		}
	}
	if !strings.Contains(out, "-  ") || strings.Contains(out, "OPENSSH PRIVATE KEY") {
		t.Errorf("missing fixed-version dash or leaked secret text:\n%s", out)
	}
	if got := cut("a\tvery\nlong title", 8); got != "a very …" {
		t.Errorf("cut = %q", got)
	}
}
