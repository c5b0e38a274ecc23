package monitor

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// The JUnit XML schema as Jenkins and GitLab read it, declared independently of the writer's types
// so a mistake in those cannot hide here.
type xTestSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Suites   []xTestSuite `xml:"testsuite"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     float64      `xml:"time,attr"`
}

type xTestSuite struct {
	Name       string `xml:"name,attr"`
	Tests      int    `xml:"tests,attr"`
	Failures   int    `xml:"failures,attr"`
	Errors     int    `xml:"errors,attr"`
	Time       string `xml:"time,attr"`
	Timestamp  string `xml:"timestamp,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []xTestCase `xml:"testcase"`
}

type xTestCase struct {
	Classname string  `xml:"classname,attr"`
	Name      string  `xml:"name,attr"`
	Time      float64 `xml:"time,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
}

func parseJUnit(t *testing.T, data []byte) xTestSuites {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(xml.Header)) {
		t.Errorf("no XML declaration")
	}
	var s xTestSuites
	if err := xml.Unmarshal(data, &s); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, data)
	}
	return s
}

func TestJUnitXML(t *testing.T) {
	ok := success("debian-12", 1, 10, 1000, 50, 20.25, 1)
	const nasty = `exit status 1: <stderr> & "quoted" 'single' ]]>` + "\x1b[31m\nsecond line"
	bad := failure("fedora-41", 0, nasty)
	tests := []struct {
		name                    string
		records                 []Record
		suites, tests, failures int
	}{
		{"none", nil, 0, 0, 0},
		{"one success", []Record{ok}, 1, 4, 0},
		{"success and failure", []Record{ok, bad}, 2, 6, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := JUnitXML(tc.records)
			if err != nil {
				t.Fatal(err)
			}
			s := parseJUnit(t, data)
			if len(s.Suites) != tc.suites || s.Tests != tc.tests || s.Failures != tc.failures || s.Errors != 0 {
				t.Fatalf("suites %d tests %d failures %d errors %d; want %d %d %d 0", len(s.Suites), s.Tests, s.Failures, s.Errors, tc.suites, tc.tests, tc.failures)
			}
			var tests, failures int
			for _, suite := range s.Suites {
				nf := 0
				for _, c := range suite.Cases {
					if c.Failure != nil {
						nf++
					}
				}
				if suite.Tests != len(suite.Cases) || suite.Failures != nf {
					t.Errorf("suite %s says tests=%d failures=%d, has %d cases with %d failures", suite.Name, suite.Tests, suite.Failures, len(suite.Cases), nf)
				}
				tests += suite.Tests
				failures += suite.Failures
			}
			if tests != s.Tests || failures != s.Failures {
				t.Errorf("root totals %d/%d do not add up to the suites' %d/%d", s.Tests, s.Failures, tests, failures)
			}
		})
	}

	data, err := JUnitXML([]Record{ok, bad})
	if err != nil {
		t.Fatal(err)
	}
	s := parseJUnit(t, data)
	// Suites come in StartedAt order: fedora (day 0) before debian (day 1).
	f, d := s.Suites[0], s.Suites[1]
	if f.Name != "cloudstack-templates fedora-41" || d.Name != "cloudstack-templates debian-12" {
		t.Fatalf("suite names %q, %q", f.Name, d.Name)
	}
	if f.Time != "3600.000" || f.Timestamp != "2024-11-01T02:00:00" {
		t.Errorf("fedora suite time %q timestamp %q", f.Time, f.Timestamp)
	}
	if c := d.Cases[3]; c.Classname != "debian-12" || c.Name != "scan" || c.Time != 20.25 || c.Failure != nil {
		t.Errorf("debian scan case %+v", c)
	}
	c := f.Cases[1]
	if c.Name != "packer" || c.Failure == nil {
		t.Fatalf("the failed stage has no failure: %+v", c)
	}
	// What the parser reads back is the error, with the one character XML cannot carry replaced.
	wantText := strings.Replace(nasty, "\x1b", "\uFFFD", 1)
	if c.Failure.Type != "stage" || c.Failure.Text != wantText {
		t.Errorf("failure type %q text %q, want stage %q", c.Failure.Type, c.Failure.Text, wantText)
	}
	if first, _, _ := strings.Cut(wantText, "\n"); c.Failure.Message != first {
		t.Errorf("failure message %q, want the first line %q", c.Failure.Message, first)
	}
	if f.Cases[0].Failure != nil {
		t.Error("the stage before the failure is marked failed")
	}
	props := map[string]string{}
	for _, p := range d.Properties {
		props[p.Name] = p.Value
	}
	if props["template"] != "debian-12" || props["tool.packer"] != "1.11.2" || props["outcome"] != "success" {
		t.Errorf("properties %v", props)
	}
	if again, _ := JUnitXML([]Record{bad, ok}); !bytes.Equal(again, data) {
		t.Error("output depends on the order of the input")
	}
}

func TestJUnitXMLFailureWithoutError(t *testing.T) {
	r := failure("debian-12", 0, "")
	r.Error = ""
	data, err := JUnitXML([]Record{r})
	if err != nil {
		t.Fatal(err)
	}
	s := parseJUnit(t, data)
	if c := s.Suites[0].Cases[1]; c.Failure == nil || c.Failure.Message != "stage packer failed" {
		t.Fatalf("failure without error text: %+v", c.Failure)
	}
}

func TestJUnitXMLRejectsInvalidRecords(t *testing.T) {
	r := success("debian-12", 0, 1, 1, 1, 1, 1)
	r.Outcome = "passed"
	if _, err := JUnitXML([]Record{r}); err == nil || !strings.Contains(err.Error(), "records[0]") {
		t.Fatalf("want an error naming records[0], got %v", err)
	}
}

func TestJUnitXMLLongMessage(t *testing.T) {
	r := failure("debian-12", 0, strings.Repeat("x", 300)+"\nsecond")
	data, err := JUnitXML([]Record{r})
	if err != nil {
		t.Fatal(err)
	}
	f := parseJUnit(t, data).Suites[0].Cases[1].Failure
	if n := len([]rune(f.Message)); n != maxFailureMessage || !strings.HasSuffix(f.Message, "…") {
		t.Errorf("message is %d runes, want %d ending in an ellipsis", n, maxFailureMessage)
	}
	if !strings.HasPrefix(f.Text, strings.Repeat("x", 300)+"\n") {
		t.Error("the failure text must keep the whole error")
	}
}
