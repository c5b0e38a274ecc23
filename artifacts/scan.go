package artifacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
)

// trivyReport is the part of Trivy's JSON report (`--format json`, SchemaVersion 2; see
// aquasecurity/trivy pkg/types/report.go and pkg/fanal/types/secret.go) that the summary uses.
type trivyReport struct {
	SchemaVersion int
	ArtifactName  string
	ArtifactType  string
	// Trivy.Version appears in reports of newer Trivy releases only; older ones (v0.57) lack it.
	Trivy struct {
		Version string
	}
	Results []struct {
		Target          string
		Class           string
		Type            string
		Vulnerabilities []struct {
			VulnerabilityID  string
			PkgName          string
			InstalledVersion string
			FixedVersion     string
			Severity         string
			Title            string
		}
		Secrets []struct {
			RuleID    string
			Category  string
			Severity  string
			Title     string
			StartLine int
			// Match (the redacted line) is deliberately not read: it never leaves the report.
		}
	}
}

// Finding is one vulnerability in the scanned image.
type Finding struct {
	ID        string `json:"id"`
	Package   string `json:"package"`
	Installed string `json:"installed"`
	Fixed     string `json:"fixed,omitempty"`
	Severity  string `json:"severity"`
	Title     string `json:"title,omitempty"`
}

// SecretFinding is one secret Trivy found, without the matched text.
type SecretFinding struct {
	RuleID   string `json:"ruleId"`
	Category string `json:"category,omitempty"`
	Severity string `json:"severity"`
	Title    string `json:"title,omitempty"`
	Target   string `json:"target"`
	Line     int    `json:"line,omitempty"`
}

// ScanSummary is the scan result recorded in the metadata.
type ScanSummary struct {
	// Scanner is "trivy".
	Scanner string `json:"scanner"`
	// Version is the Trivy version that scanned.
	Version string `json:"version"`
	// Counts has the number of vulnerabilities per severity; every severity is present.
	Counts map[string]int `json:"counts"`
	// Vulnerabilities are the distinct findings, worst first.
	Vulnerabilities []Finding `json:"vulnerabilities"`
	// Secrets is the number of secrets found; SecretFindings lists them without the secret text.
	Secrets        int             `json:"secrets"`
	SecretFindings []SecretFinding `json:"secretFindings,omitempty"`
	// FailOn is the gate threshold the build used; Passed says whether the gate passed.
	FailOn string `json:"failOn"`
	Passed bool   `json:"passed"`
	// SBOM names the SBOM file exported beside the artifacts, when one was made.
	SBOM string `json:"sbom,omitempty"`
}

// ParseTrivyReport summarizes a Trivy JSON report and applies the gate at failOn (FailOn and Passed
// are set from it). version is used when the report itself does not carry Trivy's version. The same
// vulnerability reported for the same package version by several results (e.g. OS packages and a
// language lock file) is counted once.
func ParseTrivyReport(data []byte, version string, failOn Severity) (ScanSummary, error) {
	var r trivyReport
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return ScanSummary{}, fmt.Errorf("trivy report: %w", err)
	}
	if r.SchemaVersion != 2 {
		return ScanSummary{}, fmt.Errorf("trivy report: SchemaVersion %d, this parser reads 2", r.SchemaVersion)
	}
	if r.Trivy.Version != "" {
		version = r.Trivy.Version
	}
	s := ScanSummary{Scanner: "trivy", Version: version, Counts: map[string]int{}, Vulnerabilities: []Finding{}}
	for _, sev := range []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnknown} {
		s.Counts[sev.String()] = 0
	}
	seen := map[[3]string]bool{}
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			key := [3]string{v.VulnerabilityID, v.PkgName, v.InstalledVersion}
			if seen[key] {
				continue
			}
			seen[key] = true
			sev := findingSeverity(v.Severity)
			s.Counts[sev.String()]++
			s.Vulnerabilities = append(s.Vulnerabilities, Finding{
				ID: v.VulnerabilityID, Package: v.PkgName, Installed: v.InstalledVersion,
				Fixed: v.FixedVersion, Severity: sev.String(), Title: v.Title,
			})
		}
		for _, sec := range res.Secrets {
			s.SecretFindings = append(s.SecretFindings, SecretFinding{
				RuleID: sec.RuleID, Category: sec.Category, Severity: findingSeverity(sec.Severity).String(),
				Title: sec.Title, Target: res.Target, Line: sec.StartLine,
			})
		}
	}
	s.Secrets = len(s.SecretFindings)
	sortFindings(s.Vulnerabilities)
	s.FailOn = failOn.String()
	s.Passed = Gate(s, failOn) == nil
	return s, nil
}

// sortFindings orders worst severity first, then by ID, then package, so output is stable.
func sortFindings(f []Finding) {
	sort.SliceStable(f, func(i, j int) bool {
		si, sj := findingSeverity(f[i].Severity), findingSeverity(f[j].Severity)
		if si != sj {
			return si > sj
		}
		if f[i].ID != f[j].ID {
			return f[i].ID < f[j].ID
		}
		return f[i].Package < f[j].Package
	})
}

// Gate fails when any vulnerability or secret is at or above failOn. The error lists each offending
// vulnerability as `ID (package installed → fixed, SEVERITY)`, worst first then by ID, and each secret
// by rule and location, so the build log says exactly what to fix. At NONE it never fails.
func Gate(s ScanSummary, failOn Severity) error {
	var vulns []Finding
	for _, f := range s.Vulnerabilities {
		if findingSeverity(f.Severity) >= failOn {
			vulns = append(vulns, f)
		}
	}
	sortFindings(vulns)
	var lines []string
	for _, f := range vulns {
		fixed := f.Fixed
		if fixed == "" {
			fixed = "no fix"
		}
		lines = append(lines, fmt.Sprintf("%s (%s %s → %s, %s)", f.ID, f.Package, f.Installed, fixed, f.Severity))
	}
	nSecrets := 0
	for _, sec := range s.SecretFindings {
		if findingSeverity(sec.Severity) >= failOn {
			nSecrets++
			lines = append(lines, fmt.Sprintf("secret %s in %s:%d (%s)", sec.RuleID, sec.Target, sec.Line, sec.Severity))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("scan gate: %d vulnerabilities and %d secrets at or above %s:\n  %s",
		len(vulns), nSecrets, failOn, strings.Join(lines, "\n  "))
}

// Table renders the summary for people: a counts line, then one fixed-width row per vulnerability
// (titles cut to keep rows on one line), then the secrets.
func Table(s ScanSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: CRITICAL %d, HIGH %d, MEDIUM %d, LOW %d, UNKNOWN %d; secrets %d; gate %s: %s\n",
		s.Scanner, s.Version, s.Counts["CRITICAL"], s.Counts["HIGH"], s.Counts["MEDIUM"], s.Counts["LOW"], s.Counts["UNKNOWN"],
		s.Secrets, s.FailOn, passFail(s.Passed))
	if len(s.Vulnerabilities) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tID\tPACKAGE\tINSTALLED\tFIXED\tTITLE")
		for _, f := range s.Vulnerabilities {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.ID, f.Package, f.Installed, dash(f.Fixed), cut(f.Title, 60))
		}
		tw.Flush()
	}
	if len(s.SecretFindings) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tSECRET\tLOCATION\tTITLE")
		for _, sec := range s.SecretFindings {
			fmt.Fprintf(tw, "%s\t%s\t%s:%d\t%s\n", sec.Severity, sec.RuleID, sec.Target, sec.Line, cut(sec.Title, 60))
		}
		tw.Flush()
	}
	return b.String()
}

func passFail(ok bool) string {
	if ok {
		return "passed"
	}
	return "FAILED"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cut shortens s to at most n runes, marking the cut with an ellipsis; tabs and newlines would break
// the table, so they become spaces.
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
