package monitor

import (
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// JUnitSuitePrefix starts each testsuite name; CI systems group test reports by suite name, so the
// prefix keeps template builds apart from the project's Go tests in the same pipeline.
const JUnitSuitePrefix = "cloudstack-templates "

// The JUnit XML shape Jenkins and GitLab read (the de facto "Ant" JUnit schema).
type junitTestSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestSuite `xml:"testsuite"`
}

type junitTestSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Timestamp  string           `xml:"timestamp,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitTestCase  `xml:"testcase"`
}

type junitProperties struct {
	Props []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// maxFailureMessage caps the failure's message attribute, which CI systems show on one line; the
// element text keeps the whole (already shortened) error.
const maxFailureMessage = 200

// JUnitXML renders records as a JUnit XML report so CI shows each build as a test suite and each
// stage as a test case: one <testsuite name="cloudstack-templates OS"> per record (in StartedAt
// order), one <testcase classname="OS" name="STAGE" time="SECONDS"> per stage, and a <failure
// type="stage"> carrying the error on the failed stage. The suite's time is the whole build's, which
// includes time between stages. Records that fail Validate are refused with an error, because a
// report that silently drops a build would read as green.
func JUnitXML(records []Record) ([]byte, error) {
	recs := make([]Record, len(records))
	copy(recs, records)
	for i, r := range recs {
		if err := Validate(r); err != nil {
			return nil, fmt.Errorf("junit: records[%d] (%s): %w", i, r.OS, err)
		}
	}
	sortRecords(recs)
	root := junitTestSuites{Name: strings.TrimSpace(JUnitSuitePrefix)}
	var total float64
	for _, r := range recs {
		s := junitTestSuite{
			Name:      JUnitSuitePrefix + r.OS,
			Time:      seconds3(buildSeconds(r)),
			Timestamp: r.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		}
		total += buildSeconds(r)
		failedShown := false
		for _, st := range r.Stages {
			tc := junitTestCase{Classname: r.OS, Name: st.Name, Time: seconds3(st.Seconds)}
			if st.Outcome == OutcomeFailure {
				tc.Failure = failureOf(r, st.Name)
				failedShown = failedShown || st.Name == r.FailedStage
			}
			s.Cases = append(s.Cases, tc)
		}
		if r.Outcome == OutcomeFailure && !failedShown {
			// Validate guarantees this never happens; kept so the report cannot hide a failure.
			s.Cases = append(s.Cases, junitTestCase{Classname: r.OS, Name: r.FailedStage, Time: seconds3(0), Failure: failureOf(r, r.FailedStage)})
		}
		for _, tc := range s.Cases {
			s.Tests++
			if tc.Failure != nil {
				s.Failures++
			}
		}
		s.Properties = properties(r)
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Suites = append(root.Suites, s)
	}
	root.Time = seconds3(total)
	out, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// failureOf describes stage's failure: the record's error when stage is the failed stage (the error
// belongs to it), otherwise a plain note, since an earlier failed-then-retried stage has no error.
func failureOf(r Record, stage string) *junitFailure {
	f := &junitFailure{Type: "stage", Message: fmt.Sprintf("stage %s failed", stage)}
	if stage == r.FailedStage && r.Error != "" {
		f.Text = r.Error
		first, _, _ := strings.Cut(r.Error, "\n")
		f.Message = cut(first, maxFailureMessage)
	}
	return f
}

// properties carries the build's context (template, accelerator, commit, tool versions) into the
// report, where CI systems show it beside the suite; sorted so the output is deterministic.
func properties(r Record) *junitProperties {
	var p []junitProperty
	addProp := func(name, value string) {
		if value != "" {
			p = append(p, junitProperty{Name: name, Value: value})
		}
	}
	addProp("template", r.Template)
	addProp("outcome", r.Outcome)
	addProp("accelerator", r.Accelerator)
	addProp("sourceCommit", r.SourceCommit)
	for _, t := range slices.Sorted(maps.Keys(r.Tools)) {
		addProp("tool."+t, r.Tools[t])
	}
	if len(p) == 0 {
		return nil
	}
	return &junitProperties{Props: p}
}

func seconds3(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

// cut shortens s to at most n runes, marking the cut, so one-line fields stay one readable line.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
