package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func auditEntry(os string, outcome string) AuditEntry {
	e := AuditEntry{
		Time: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), Actor: "octocat", Origin: "https://github.com/o/r/actions/runs/1",
		Function: "build", Arguments: map[string]any{"os": os}, OS: os, Outcome: outcome,
		Inputs: map[string]string{"installer:x.iso": "sha256:" + strings.Repeat("a", 64)},
		Tools:  map[string]string{"packer": "1.9.4"},
	}
	if outcome == OutcomeFailure {
		e.FailedStage, e.Error = "packer-build", "boom"
	}
	return e
}

// appendReal runs AuditAppendScript with the host's sh, as the engine's container does.
func appendReal(t *testing.T, log string, e AuditEntry) {
	t.Helper()
	line, err := AuditLine(e)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "line.json")
	if err := os.WriteFile(f, line, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-c", AuditAppendScript(), "append", f, log).CombinedOutput(); err != nil {
		t.Fatalf("append script: %v: %s", err, out)
	}
}

func TestAuditAppendAndVerify(t *testing.T) {
	for _, tool := range []string{"sh", "flock", "sha256sum", "sed", "tail"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the append script as the engine does: %v", tool, err)
		}
	}
	log := filepath.Join(t.TempDir(), "audit", "audit.jsonl")
	// Concurrent appenders, as build-all's builds are: the lock keeps the chain whole.
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outcome := OutcomeSuccess
			if i%3 == 0 {
				outcome = OutcomeFailure
			}
			appendReal(t, log, auditEntry(fmt.Sprintf("os-%d", i), outcome))
		}(i)
	}
	wg.Wait()
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := VerifyAudit(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("a log the script wrote does not verify: %v\n%s", err, raw)
	}
	if len(entries) != 12 || entries[0].Prev != AuditGenesis {
		t.Fatalf("got %d entries, first prev %s", len(entries), entries[0].Prev)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	lines = lines[:len(lines)-1]

	tamper := []struct {
		name string
		log  func() []byte
		want string
	}{
		{"a field changed", func() []byte {
			c := append([][]byte{}, lines...)
			c[4] = bytes.Replace(c[4], []byte(`"actor":"octocat"`), []byte(`"actor":"mallory"`), 1)
			return bytes.Join(c, nil)
		}, "line 6: prev is"},
		{"a line removed", func() []byte {
			c := append(append([][]byte{}, lines[:3]...), lines[4:]...)
			return bytes.Join(c, nil)
		}, "line 4: prev is"},
		{"the first line removed", func() []byte { return bytes.Join(lines[1:], nil) }, "line 1: prev is"},
		{"a line inserted", func() []byte {
			c := append(append(append([][]byte{}, lines[:2]...), lines[7]), lines[2:]...)
			return bytes.Join(c, nil)
		}, "line 3: prev is"},
		{"not JSON", func() []byte { return append(bytes.Join(lines, nil), []byte("hello\n")...) }, "line 13 is not an audit entry"},
		{"an unknown field", func() []byte {
			c := append([][]byte{}, lines...)
			c[0] = bytes.Replace(c[0], []byte(`{"prev"`), []byte(`{"x":1,"prev"`), 1)
			return bytes.Join(c, nil)
		}, "line 1 is not an audit entry"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyAudit(bytes.NewReader(tc.log()))
			testcheck.Refused(t, err, tc.want)
		})
	}
	// Truncation at the end cannot be seen from the log alone; the chain still holds.
	if _, err := VerifyAudit(bytes.NewReader(bytes.Join(lines[:5], nil))); err != nil {
		t.Fatalf("a prefix of a log is a log: %v", err)
	}
}

func TestAuditLineRefusesBadEntries(t *testing.T) {
	cases := []struct {
		name, want string
		edit       func(*AuditEntry)
	}{
		{name: "no time", edit: func(e *AuditEntry) { e.Time = time.Time{} }, want: "no time"},
		{name: "no OS", edit: func(e *AuditEntry) { e.OS = "" }, want: "no OS or function"},
		{name: "unknown outcome", edit: func(e *AuditEntry) { e.Outcome = "maybe" }, want: "outcome \"maybe\""},
		{name: "failure without stage", edit: func(e *AuditEntry) { e.Outcome = OutcomeFailure }, want: "failed stage"},
		{name: "placeholder in a field", edit: func(e *AuditEntry) { e.Actor = AuditPrevPlaceholder }, want: "placeholder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := auditEntry("testbed", OutcomeSuccess)
			tc.edit(&e)
			_, err := AuditLine(e)
			testcheck.Refused(t, err, tc.want)
		})
	}
}

func TestAuditNeverRecordsSecrets(t *testing.T) {
	const planted = "s3cr3t-planted-value"
	objectID := strings.Repeat("QUJD", 60) // the shape of an engine ID on the wire
	args := map[string]any{
		"os":            AuditValue(json.RawMessage(`"fedora"`), ArgText, ""),
		"mirror":        AuditValue(json.RawMessage(`"https://user:`+planted+`@mirror.example/iso/?X-Amz-Signature=`+planted+`"`), ArgText, ""),
		"mirrorService": AuditValue(json.RawMessage(`"`+objectID+`"`), ArgObject, "Service"),
		"iso":           AuditValue(json.RawMessage(`"`+objectID+`"`), ArgText, ""),
		"skipZoneCases": AuditValue(json.RawMessage(`["xen-vr","https://u:`+planted+`@x/"]`), ArgText, ""),
		"parallel":      AuditValue(json.RawMessage(`2`), ArgText, ""),
	}
	ctor := map[string]any{"mirrorAuth": AuditValue(json.RawMessage(`"`+planted+`"`), ArgSecret, "Secret")}
	e := auditEntry("fedora", OutcomeFailure)
	e.Arguments, e.Constructor = args, ctor
	e.Call = AuditCommand(ctor, "buildAll", args)
	e.Origin = "https://ci:" + planted + "@ci.example/run/7"
	e.Error = "GET https://user:" + planted + "@mirror.example/x.iso: 403"
	line, err := AuditLine(e)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(line, []byte(planted)) || bytes.Contains(line, []byte(objectID)) {
		t.Fatalf("the audit line carries the planted secret or an object ID: %s", line)
	}
	testcheck.ContainsAll(t, "call", e.Call, `--mirror-service=<Service>`, `--iso=<object>`, `--mirror-auth=<secret>`, `dagger call --mirror-auth=<secret> build-all`, `--parallel=2`, `--os=fedora`, `--skip-zone-cases=xen-vr,https://REDACTED@x/`)
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{"build": "build", "buildAll": "build-all", "trivyDb": "trivy-db", "qcow2Compression": "qcow-2-compression", "trivyDB": "trivy-db"} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}
