// Package provenance writes and checks the in-toto statement every build exports as provenance.json:
// the subjects are every file of the export with its SHA-256, the predicate is SLSA provenance v1
// naming what went in (the installer and its checksum file, the install configuration, the guest
// scripts, the Packer template, the tools) and how the build was asked for. verify holds an exported
// directory to it: nothing changed, nothing added, nothing missing, and inputs that are what this
// module's catalogue says.
package provenance

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
)

// The statement's fixed identifiers (in-toto Statement v1, SLSA provenance v1).
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	BuildType     = "https://github.com/cloudstack-templates/cloudstack-templates/build/v1"
	BuilderID     = "https://github.com/cloudstack-templates/cloudstack-templates"
	// FileName is the statement's name in an export; it is the one file it does not list.
	FileName = "provenance.json"
)

// DigestSet maps an algorithm to a lower-case hex digest.
type DigestSet map[string]string

// Subject is one file of the export.
type Subject struct {
	Name   string    `json:"name"`
	Digest DigestSet `json:"digest"`
}

// Material is one input of the build (SLSA's ResourceDescriptor).
type Material struct {
	Name   string    `json:"name"`
	URI    string    `json:"uri,omitempty"`
	Digest DigestSet `json:"digest,omitempty"`
}

// Statement is the in-toto statement.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Predicate is SLSA provenance v1.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was asked and what went in.
type BuildDefinition struct {
	BuildType            string            `json:"buildType"`
	ExternalParameters   map[string]any    `json:"externalParameters"`
	InternalParameters   map[string]string `json:"internalParameters,omitempty"`
	ResolvedDependencies []Material        `json:"resolvedDependencies"`
}

// RunDetails says who built it and when.
type RunDetails struct {
	Builder  Builder  `json:"builder"`
	Metadata Metadata `json:"metadata"`
}

// Builder is the module and its tool versions.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Metadata is the run's identity and times.
type Metadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// Input is what New needs to know of a build.
type Input struct {
	OS, Template, SourceCommit string
	Started, Finished          time.Time
	Parameters                 map[string]any
	Tools                      map[string]string
	Materials                  []Material
	// Files are every file of the export but provenance.json, path → SHA-256 hex.
	Files map[string]string
}

// New makes the statement. Subjects and materials are sorted, so one build always gives one document.
func New(in Input) (Statement, error) {
	if in.OS == "" || len(in.Files) == 0 {
		return Statement{}, errors.New("provenance: a build needs an OS and at least one file")
	}
	st := Statement{Type: StatementType, PredicateType: PredicateType}
	for name, sum := range in.Files {
		if err := checkName(name); err != nil {
			return Statement{}, err
		}
		if !checksum.IsLowerHex(sum, checksum.SHA256HexLen) {
			return Statement{}, fmt.Errorf("provenance: %s: %q is not a SHA-256", name, sum)
		}
		st.Subject = append(st.Subject, Subject{Name: name, Digest: DigestSet{"sha256": sum}})
	}
	sort.Slice(st.Subject, func(i, j int) bool { return st.Subject[i].Name < st.Subject[j].Name })
	mats := append([]Material(nil), in.Materials...)
	sort.SliceStable(mats, func(i, j int) bool { return mats[i].Name < mats[j].Name })
	params := map[string]any{"os": in.OS}
	for k, v := range in.Parameters {
		params[k] = v
	}
	st.Predicate = Predicate{
		BuildDefinition: BuildDefinition{
			BuildType: BuildType, ExternalParameters: params,
			InternalParameters:   map[string]string{"sourceCommit": in.SourceCommit},
			ResolvedDependencies: mats,
		},
		RunDetails: RunDetails{
			Builder:  Builder{ID: BuilderID, Version: in.Tools},
			Metadata: Metadata{InvocationID: in.Template + "@" + in.Started.UTC().Format(time.RFC3339Nano), StartedOn: in.Started.UTC(), FinishedOn: in.Finished.UTC()},
		},
	}
	return st, nil
}

// Encode renders the statement as indented JSON.
func (s Statement) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Decode reads a statement and checks its fixed identifiers.
func Decode(b []byte) (Statement, error) {
	var s Statement
	if err := json.Unmarshal(b, &s); err != nil {
		return Statement{}, fmt.Errorf("%s is not JSON: %w", FileName, err)
	}
	if s.Type != StatementType || s.PredicateType != PredicateType || s.Predicate.BuildDefinition.BuildType != BuildType {
		return Statement{}, fmt.Errorf("%s is not a cloudstack-templates build statement (type %q, predicate %q, build type %q)",
			FileName, s.Type, s.PredicateType, s.Predicate.BuildDefinition.BuildType)
	}
	return s, nil
}

// Verify compares an export (path → SHA-256 of every file in it, provenance.json excluded) with the
// statement, and the statement's materials with expected (name → digest, as this module's catalogue
// and embedded files have them; a material missing from expected is not judged). It returns every
// difference, one per line.
func Verify(s Statement, files map[string]string, expected map[string]string) error {
	var problems []string
	listed := map[string]string{}
	for _, sub := range s.Subject {
		listed[sub.Name] = sub.Digest["sha256"]
	}
	for name, want := range listed {
		got, ok := files[name]
		switch {
		case !ok:
			problems = append(problems, "missing: "+name+" is in the provenance but not in the directory")
		case got != want:
			problems = append(problems, fmt.Sprintf("changed: %s has sha256 %s, the provenance says %s", name, got, want))
		}
	}
	for name := range files {
		if _, ok := listed[name]; !ok {
			problems = append(problems, "added: "+name+" is not in the provenance")
		}
	}
	for _, m := range s.Predicate.BuildDefinition.ResolvedDependencies {
		want, ok := expected[m.Name]
		if ok && m.Digest["sha256"] != want {
			problems = append(problems, fmt.Sprintf("input: %s was %s in this build, but this module's catalogue has %s", m.Name, m.Digest["sha256"], want))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("the directory does not match its provenance:\n  %s", strings.Join(problems, "\n  "))
}

func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") || name == FileName {
		return fmt.Errorf("provenance: %q is not a file name inside the export", name)
	}
	return nil
}

// ParseSums reads `sha256sum` output for files listed relative to the export ("./a/b" or "a/b"),
// with the project's one checksum-line grammar, which drops the "./"; every digest must be a SHA-256.
func ParseSums(out string) (map[string]string, error) {
	entries, err := checksum.ParseStrict(out)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, e := range entries {
		if len(e.Digest) != checksum.SHA256HexLen {
			return nil, fmt.Errorf("sha256sum output line %d: %q is not a SHA-256 of a named file", e.Line, e.Text)
		}
		files[e.Name] = e.Digest
	}
	return files, nil
}
