package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// MetadataSchemaVersion is the schemaVersion this package writes and validates. Bump it (and the
// schema's const) on any incompatible change.
const MetadataSchemaVersion = 1

// Metadata is the JSON document written beside each template's artifacts. docs/metadata.md
// describes every field; schema/metadata.schema.json is the contract.
type Metadata struct {
	SchemaVersion int                `json:"schemaVersion"`
	Template      string             `json:"template"`
	OS            MetadataOS         `json:"os"`
	Build         Build              `json:"build"`
	Artifacts     []Artifact         `json:"artifacts"`
	Scan          *ScanSummary       `json:"scan,omitempty"`
	CloudStack    []RegisterTemplate `json:"cloudStack"`
}

// MetadataOS identifies the operating system (from the osdefs Definition).
type MetadataOS struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Family  string `json:"family"`
}

// Build records when, from what and with which tools the template was built.
type Build struct {
	StartedAt    time.Time `json:"startedAt"`
	FinishedAt   time.Time `json:"finishedAt"`
	SourceCommit string    `json:"sourceCommit"`
	// Accelerator is "kvm" or "tcg" (software emulation, much slower).
	Accelerator string `json:"accelerator"`
	// Tools maps a tool name (packer, qemu, trivy, dagger, ...) to its version.
	Tools  map[string]string `json:"tools"`
	Stages []Stage           `json:"stages"`
}

// Artifact is one delivered file.
type Artifact struct {
	Name             string `json:"name"`
	Format           string `json:"format"`
	SizeBytes        int64  `json:"sizeBytes"`
	VirtualSizeBytes int64  `json:"virtualSizeBytes"`
	SHA256           string `json:"sha256"`
	SHA512           string `json:"sha512"`
}

// Stage is one pipeline stage and how long it took.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// ValidateMetadata checks a metadata document against MetadataSchema (the embedded schema with the
// format registry's formats and hypervisors), then the cross-field facts a schema cannot express:
// artifact names are unique; every CloudStack entry names an artifact, has that artifact's format and
// hypervisor, and a checksum equal to "{SHA-512}" + its sha512; the build finished after it started;
// and the scan's counts, secrets and passed flag agree with its findings.
func ValidateMetadata(data []byte) error {
	sch, err := compiledSchema()
	if err != nil {
		return fmt.Errorf("metadata schema does not compile: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("metadata: not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("metadata does not match the schema: %w", err)
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return m.crossCheck()
}

func (m Metadata) crossCheck() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byName := map[string]Artifact{}
	for _, a := range m.Artifacts {
		if _, dup := byName[a.Name]; dup {
			add("artifact %q listed twice", a.Name)
		}
		byName[a.Name] = a
		// The schema checks these too; repeated here so Go-built values are held to the same rule.
		if !checksum.IsLowerHex(a.SHA256, checksum.SHA256HexLen) || !checksum.IsLowerHex(a.SHA512, checksum.SHA512HexLen) {
			add("artifact %q: digests must be lower-case hex of 64 (sha256) and 128 (sha512) digits", a.Name)
		}
	}
	for i, cs := range m.CloudStack {
		a, ok := byName[cs.Artifact]
		if !ok {
			add("cloudStack[%d] names artifact %q, which is not in artifacts", i, cs.Artifact)
			continue
		}
		if want := CloudStackChecksum(a.SHA512); cs.Checksum != want {
			add("cloudStack[%d] checksum %q is not \"{SHA-512}\" + the sha512 of %s", i, cs.Checksum, a.Name)
		}
		if tf, err := osdefs.Spec(osdefs.Format(a.Format)); err != nil {
			add("cloudStack[%d]: %v", i, err)
		} else if cs.Format != tf.CloudStackFormat || cs.Hypervisor != tf.Hypervisor {
			add("cloudStack[%d]: %s artifact %s must be registered as %s/%s, not %s/%s", i, a.Format, a.Name, tf.CloudStackFormat, tf.Hypervisor, cs.Format, cs.Hypervisor)
		}
	}
	if m.Build.FinishedAt.Before(m.Build.StartedAt) {
		add("build finishedAt %s is before startedAt %s", m.Build.FinishedAt.Format(time.RFC3339), m.Build.StartedAt.Format(time.RFC3339))
	}
	if s := m.Scan; s != nil {
		counts := map[string]int{}
		for _, f := range s.Vulnerabilities {
			counts[f.Severity]++
		}
		for _, sev := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"} {
			if counts[sev] != s.Counts[sev] {
				add("scan counts %s = %d, but %d such vulnerabilities are listed", sev, s.Counts[sev], counts[sev])
			}
		}
		if len(s.SecretFindings) > 0 && s.Secrets != len(s.SecretFindings) {
			add("scan secrets = %d, but %d secret findings are listed", s.Secrets, len(s.SecretFindings))
		}
		if failOn, err := ParseSeverity(s.FailOn); err == nil {
			if passed := Gate(*s, failOn) == nil; passed != s.Passed {
				add("scan passed = %t, but the findings %s the gate at %s", s.Passed, map[bool]string{true: "pass", false: "fail"}[passed], s.FailOn)
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("metadata: " + strings.Join(problems, "; "))
	}
	return nil
}

// EncodeMetadata renders m as indented JSON and validates the result, so the pipeline can never
// publish a document that DecodeMetadata or the schema would reject.
func EncodeMetadata(m Metadata) ([]byte, error) {
	if m.Artifacts == nil {
		m.Artifacts = []Artifact{}
	}
	if m.CloudStack == nil {
		m.CloudStack = []RegisterTemplate{}
	}
	if m.Build.Stages == nil {
		m.Build.Stages = []Stage{}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	if err := ValidateMetadata(data); err != nil {
		return nil, err
	}
	return data, nil
}

// DecodeMetadata validates data (schema and cross-field checks) and returns it as Metadata.
func DecodeMetadata(data []byte) (Metadata, error) {
	if err := ValidateMetadata(data); err != nil {
		return Metadata{}, err
	}
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Metadata{}, fmt.Errorf("metadata: %w", err)
	}
	return m, nil
}

// CheckArtifacts re-hashes every artifact in dir and compares size, SHA-256 and SHA-512 with m. When
// dir also holds the GNU checksum files NAME.sha256 / NAME.sha512, their digests must match too. All
// mismatches are reported together. This is what the end-to-end test runs on the exported directory.
func CheckArtifacts(m Metadata, dir string) error {
	if len(m.Artifacts) == 0 {
		return errors.New("check artifacts: metadata lists no artifacts")
	}
	var problems []string
	for _, a := range m.Artifacts {
		if err := checkPlainName(a.Name); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		d, err := DigestFile(filepath.Join(dir, a.Name))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if d.Size != a.SizeBytes {
			problems = append(problems, fmt.Sprintf("%s: %d bytes on disk, metadata says %d", a.Name, d.Size, a.SizeBytes))
		}
		if d.SHA256 != a.SHA256 {
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s on disk, metadata says %s", a.Name, d.SHA256, a.SHA256))
		}
		if d.SHA512 != a.SHA512 {
			problems = append(problems, fmt.Sprintf("%s: SHA-512 %s on disk, metadata says %s", a.Name, d.SHA512, a.SHA512))
		}
		for ext, want := range map[string]string{".sha256": d.SHA256, ".sha512": d.SHA512} {
			if p := checkSumFile(dir, a.Name, ext, want); p != "" {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("check artifacts: " + strings.Join(problems, "; "))
	}
	return nil
}

// checkSumFile verifies dir/name+ext when it exists; it returns a problem description or "".
func checkSumFile(dir, name, ext, want string) string {
	data, err := readFileIfExists(filepath.Join(dir, name+ext))
	if err != nil {
		return err.Error()
	}
	if data == nil {
		return ""
	}
	entries, err := checksum.ParseStrict(string(data))
	if err != nil {
		return fmt.Sprintf("%s%s: %v", name, ext, err)
	}
	for _, e := range entries {
		if e.Name == name {
			if e.Digest != want {
				return fmt.Sprintf("%s%s says %s, the file hashes to %s", name, ext, e.Digest, want)
			}
			return ""
		}
	}
	return fmt.Sprintf("%s%s has no line for %s", name, ext, name)
}
