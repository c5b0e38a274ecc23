package artifacts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// sampleBuild writes three real artifact files to a temp dir and returns metadata describing them.
func sampleBuild(t *testing.T) (Metadata, string) {
	t.Helper()
	dir := t.TempDir()
	def := testDefinition()
	m := Metadata{
		SchemaVersion: MetadataSchemaVersion,
		Template:      "debian-12",
		OS:            MetadataOS{ID: def.ID, Name: def.Name, Version: def.Version, Family: def.Family},
		Build: Build{
			StartedAt:    time.Date(2024, 11, 20, 10, 0, 0, 0, time.UTC),
			FinishedAt:   time.Date(2024, 11, 20, 10, 41, 7, 500_000_000, time.UTC),
			SourceCommit: strings.Repeat("ab", 20),
			Accelerator:  "kvm",
			Tools:        map[string]string{"packer": "1.11.2", "qemu": "8.2.2", "trivy": "0.57.1", "dagger": "0.19.7"},
			Stages:       []Stage{{"fetch", 12.5}, {"packer", 1800}, {"convert", 95.25}, {"scan", 40}},
		},
	}
	for _, f := range osdefs.AllFormats() {
		name := "debian-12." + string(f)
		content := []byte(strings.Repeat(string(f)+" image bytes\n", 1000))
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := DigestFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m.Artifacts = append(m.Artifacts, Artifact{Name: name, Format: string(f), SizeBytes: d.Size, VirtualSizeBytes: 2 << 30, SHA256: d.SHA256, SHA512: d.SHA512})
		rt, err := NewRegisterTemplate(def, f, name, d.SHA512, provenAll)
		if err != nil {
			t.Fatal(err)
		}
		m.CloudStack = append(m.CloudStack, rt)
		for ext, hex := range map[string]string{".sha256": d.SHA256, ".sha512": d.SHA512} {
			line, err := checksum.Line(hex, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+ext), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := os.ReadFile("testdata/trivy-debian12-rootfs.json")
	if err != nil {
		t.Fatal(err)
	}
	scan, err := ParseTrivyReport(b, "0.57.1", SeverityNone)
	if err != nil {
		t.Fatal(err)
	}
	scan.SBOM = "debian-12.cdx.json"
	m.Scan = &scan
	return m, dir
}

func TestMetadataRoundTripAndFiles(t *testing.T) {
	m, dir := sampleBuild(t)
	data, err := EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	testcheck.ContainsAll(t, "encoded metadata", string(data), `"schemaVersion": 1`, `"startedAt": "2024-11-20T10:00:00Z"`, `"finishedAt": "2024-11-20T10:41:07.5Z"`, `"virtualSizeBytes"`, `"cloudStack"`)
	got, err := DecodeMetadata(data)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Build.FinishedAt.Equal(m.Build.FinishedAt) || len(got.Artifacts) != len(osdefs.Formats) || got.Scan == nil || got.Scan.Counts["CRITICAL"] != 2 {
		t.Errorf("decoded = %+v", got)
	}
	if err := CheckArtifacts(got, dir); err != nil {
		t.Fatal(err)
	}
	// Scanning skipped: no scan key at all.
	m.Scan = nil
	data, err = EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"scan": {`) {
		t.Error("skipped scan must be omitted")
	}
}

func TestValidateMetadataRejects(t *testing.T) {
	base, _ := sampleBuild(t)
	good, err := EncodeMetadata(base)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string
	}{
		{"missing template", func(d map[string]any) { delete(d, "template") }, "template"},
		{"missing build.tools", func(d map[string]any) { delete(obj(d, "build"), "tools") }, "tools"},
		{"wrong schema version", func(d map[string]any) { d["schemaVersion"] = 2 }, "schemaVersion"},
		{"unknown field", func(d map[string]any) { d["extra"] = true }, "extra"},
		{"bad accelerator", func(d map[string]any) { obj(d, "build")["accelerator"] = "hvf" }, "accelerator"},
		{"bad timestamp", func(d map[string]any) { obj(d, "build")["startedAt"] = "yesterday" }, "startedAt"},
		{"short sha256", func(d map[string]any) { art(d, 0)["sha256"] = "abc" }, "sha256"},
		{"upper-case sha512", func(d map[string]any) { art(d, 0)["sha512"] = strings.ToUpper(art(d, 0)["sha512"].(string)) }, "sha512"},
		{"checksum without prefix", func(d map[string]any) { cs(d, 0)["checksum"] = art(d, 0)["sha512"] }, "checksum"},
		{"md5 prefix", func(d map[string]any) { cs(d, 0)["checksum"] = "{MD5}" + art(d, 0)["sha512"].(string) }, "checksum"},
		{"checksum of other artifact", func(d map[string]any) { cs(d, 0)["checksum"] = "{SHA-512}" + art(d, 1)["sha512"].(string) }, `is not "{SHA-512}" + the sha512 of debian-12.qcow2`},
		{"unknown artifact", func(d map[string]any) { cs(d, 0)["artifact"] = "other.qcow2" }, "not in artifacts"},
		{"wrong hypervisor", func(d map[string]any) { cs(d, 0)["hypervisor"] = "VMware" }, "must be registered as QCOW2/KVM"},
		{"duplicate artifact", func(d map[string]any) { art(d, 1)["name"] = art(d, 0)["name"] }, "listed twice"},
		{"finished before start", func(d map[string]any) { obj(d, "build")["finishedAt"] = "2024-11-20T09:00:00Z" }, "before startedAt"},
		{"scan counts disagree", func(d map[string]any) { obj(obj(d, "scan"), "counts")["HIGH"] = 0 }, "scan counts HIGH"},
		{"scan passed disagrees", func(d map[string]any) { obj(d, "scan")["failOn"] = "HIGH" }, "passed = true"},
		{"negative stage time", func(d map[string]any) {
			obj(d, "build")["stages"] = []any{map[string]any{"name": "x", "seconds": -1}}
		}, "seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(good, &doc); err != nil {
				t.Fatal(err)
			}
			tc.mutate(doc)
			data, _ := json.Marshal(doc)
			testcheck.Refused(t, ValidateMetadata(data), tc.want)
			if _, err := DecodeMetadata(data); err == nil {
				t.Fatal("DecodeMetadata accepted what ValidateMetadata rejects")
			}
		})
	}
	if err := ValidateMetadata([]byte("{")); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func obj(d map[string]any, k string) map[string]any { return d[k].(map[string]any) }
func art(d map[string]any, i int) map[string]any    { return d["artifacts"].([]any)[i].(map[string]any) }
func cs(d map[string]any, i int) map[string]any     { return d["cloudStack"].([]any)[i].(map[string]any) }

func TestCheckArtifactsMismatches(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(m *Metadata, dir string)
		want   string
	}{
		{"tampered file", func(m *Metadata, dir string) {
			appendTo(t, filepath.Join(dir, m.Artifacts[0].Name), "x")
		}, "bytes on disk"},
		{"same size different bytes", func(m *Metadata, dir string) {
			p := filepath.Join(dir, m.Artifacts[1].Name)
			b, _ := os.ReadFile(p)
			b[0] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}, "SHA-256"},
		{"missing file", func(m *Metadata, dir string) { os.Remove(filepath.Join(dir, m.Artifacts[2].Name)) }, "no such file"},
		{"metadata digest wrong", func(m *Metadata, dir string) { m.Artifacts[0].SHA512 = strings.Repeat("0", 128) }, "SHA-512"},
		{"stale .sha256 file", func(m *Metadata, dir string) {
			line, _ := checksum.Line(strings.Repeat("0", 64), m.Artifacts[0].Name)
			os.WriteFile(filepath.Join(dir, m.Artifacts[0].Name+".sha256"), []byte(line), 0o644)
		}, ".sha256 says"},
		{"checksum file for another name", func(m *Metadata, dir string) {
			line, _ := checksum.Line(m.Artifacts[0].SHA512, "other")
			os.WriteFile(filepath.Join(dir, m.Artifacts[0].Name+".sha512"), []byte(line), 0o644)
		}, "has no line for"},
		{"no artifacts", func(m *Metadata, dir string) { m.Artifacts = nil }, "no artifacts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, dir := sampleBuild(t)
			if err := CheckArtifacts(m, dir); err != nil {
				t.Fatalf("intact build fails: %v", err)
			}
			tc.break_(&m, dir)
			testcheck.Refused(t, CheckArtifacts(m, dir), tc.want)
		})
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestMetadataSchemaIsEmbedded(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(MetadataSchema(), &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", s["$schema"])
	}
}

// TestDocsExampleValidates keeps the example in docs/metadata.md a valid document.
func TestDocsExampleValidates(t *testing.T) {
	md, err := os.ReadFile("../docs/metadata.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, opened := strings.Cut(string(md), "```json\n")
	example, rest, closed := strings.Cut(rest, "```")
	if !opened || !closed || strings.Contains(rest, "```json\n") {
		t.Fatal("want exactly one closed json example in docs/metadata.md")
	}
	if err := ValidateMetadata([]byte(example)); err != nil {
		t.Fatal(err)
	}
}
