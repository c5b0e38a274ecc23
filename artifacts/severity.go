package artifacts

import (
	"fmt"
	"strings"
)

// Severity is a Trivy severity, ordered so that a higher value is worse. SeverityNone is only a
// threshold: no finding has it, so a gate at NONE never fails.
type Severity int

// Severities in increasing order.
const (
	SeverityUnknown Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
	SeverityNone
)

var severityNames = []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL", "NONE"}

// String is the upper-case name Trivy uses.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively. The error names the valid choices so a
// mistyped --fail-on flag explains itself.
func ParseSeverity(s string) (Severity, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	for i, name := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: choose one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, NONE (NONE never fails)", s)
}

// findingSeverity reads a severity from a report: anything Trivy may add later counts as UNKNOWN
// rather than being dropped, and NONE is not a finding severity.
func findingSeverity(s string) Severity {
	v, err := ParseSeverity(s)
	if err != nil || v == SeverityNone {
		return SeverityUnknown
	}
	return v
}
