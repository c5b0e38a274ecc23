package monitor

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/redact"
	"github.com/iancoleman/strcase"
)

// The audit log is JSON lines, one Entry a build, appended and never rewritten. Each line carries the
// SHA-256 of the line before it (Prev), so a line changed, inserted or removed anywhere but at the
// end breaks the chain at that point and VerifyAudit names it. The chain proves the log is whole, not
// who wrote it: keep copies (CI artifacts) where the engine's owner cannot change them.

// AuditSchemaVersion is the version of Entry's layout, documented in docs/monitoring.md.
const AuditSchemaVersion = 1

// AuditGenesis is the Prev of a log's first line.
var AuditGenesis = strings.Repeat("0", 64)

// AuditPrevPlaceholder stands in Prev in a line written before the log's last line is known: the
// appender replaces it, under the log's lock, with the SHA-256 of that last line (or AuditGenesis).
var AuditPrevPlaceholder = strings.Repeat("p", 64)

// AuditEntry is one build in the audit log.
type AuditEntry struct {
	// Prev is the SHA-256 (hex) of the previous line without its newline; AuditGenesis on the first.
	Prev          string `json:"prev"`
	SchemaVersion int    `json:"schemaVersion"`
	// Time is when the entry was written, at the build's end.
	Time time.Time `json:"time"`
	// Actor is who started the build (the CI user, or the local user), as the caller said (--actor).
	Actor string `json:"actor"`
	// Origin is where it was started (the CI run's URL, or the host), as the caller said (--origin).
	Origin string `json:"origin"`
	// Trace is the W3C traceparent of the call, linking the entry to its OpenTelemetry trace.
	Trace string `json:"trace,omitempty"`
	// Call is the call as a dagger command line, secrets and objects replaced by their kind.
	Call string `json:"call"`
	// Function and Arguments are the call's function and its arguments, redacted as in Call;
	// Constructor holds the module's constructor arguments that were set.
	Function    string         `json:"function"`
	Constructor map[string]any `json:"constructor,omitempty"`
	Arguments   map[string]any `json:"arguments"`
	// OS is the OS this entry's build made (build-all writes one entry per OS).
	OS string `json:"os"`
	// Inputs are the build's inputs, name → digest ("sha256:<hex>") or, where no digest is known
	// (a checksum file's URL), its redacted location.
	Inputs map[string]string `json:"inputs"`
	// Tools are the tools and their versions (and where they came from: release or source).
	Tools map[string]string `json:"tools"`
	// Outcome is OutcomeSuccess or OutcomeFailure; FailedStage and Error say how it failed.
	Outcome     string `json:"outcome"`
	FailedStage string `json:"failedStage,omitempty"`
	Error       string `json:"error,omitempty"`
	// Artifacts are the delivered files' SHA-256 digests, name → hex; empty for a failed build.
	Artifacts map[string]string `json:"artifacts,omitempty"`
}

// AuditLine encodes e as one log line (with its newline), Prev set to AuditPrevPlaceholder for the
// appender to fill in. Text fields are redacted once more here, whatever the caller did.
func AuditLine(e AuditEntry) ([]byte, error) {
	e.Prev = AuditPrevPlaceholder
	e.SchemaVersion = AuditSchemaVersion
	e.Actor, e.Origin, e.Call, e.Error = redact.Text(e.Actor), redact.URL(e.Origin), redact.Text(e.Call), redact.Text(e.Error)
	if err := checkAuditEntry(e); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	if bytes.Count(buf.Bytes(), []byte(AuditPrevPlaceholder)) != 1 {
		return nil, fmt.Errorf("audit entry for %s: a field holds the placeholder text", e.OS)
	}
	return buf.Bytes(), nil
}

func checkAuditEntry(e AuditEntry) error {
	switch {
	case e.Time.IsZero():
		return fmt.Errorf("audit entry: no time")
	case e.OS == "" || e.Function == "":
		return fmt.Errorf("audit entry: no OS or function")
	case e.Outcome != OutcomeSuccess && e.Outcome != OutcomeFailure:
		return fmt.Errorf("audit entry for %s: outcome %q is neither %s nor %s", e.OS, e.Outcome, OutcomeSuccess, OutcomeFailure)
	case (e.Outcome == OutcomeFailure) != (e.FailedStage != ""):
		return fmt.Errorf("audit entry for %s: a failed stage is named exactly when the build failed", e.OS)
	}
	return nil
}

// AuditAppendScript is the shell script that appends the line in file $1 to the log $2, under an
// exclusive lock on $2.lock (the builds of a build-all append at the same time), with Prev filled in.
// It needs only what every Debian image has: flock, tail, sha256sum and sed.
func AuditAppendScript() string {
	return fmt.Sprintf(`set -eu
line=$1 log=$2
mkdir -p "$(dirname "$log")"
exec 9>>"$log.lock"
flock 9
prev=%s
if [ -s "$log" ]; then prev=$(tail -n 1 "$log" | tr -d '\n' | sha256sum | cut -c1-64); fi
sed "s/%s/$prev/" "$line" >>"$log"
`, AuditGenesis, AuditPrevPlaceholder)
}

// AuditHash is the SHA-256 (hex) a line's successor carries as Prev.
func AuditHash(line []byte) string {
	sum := sha256.Sum256(bytes.TrimSuffix(line, []byte("\n")))
	return hex.EncodeToString(sum[:])
}

// VerifyAudit reads a whole audit log and checks every line: it parses, has the fields an entry
// needs, and its Prev is the hash of the line before (AuditGenesis for the first). It returns the
// entries, or the first line that breaks the log.
func VerifyAudit(r io.Reader) ([]AuditEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var out []AuditEntry
	prev := AuditGenesis
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		var e AuditEntry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return out, fmt.Errorf("audit log line %d is not an audit entry: %v", n, err)
		}
		if e.Prev != prev {
			if n == 1 {
				return out, fmt.Errorf("audit log line 1: prev is %s, but a log starts with %s: lines before it were removed", e.Prev, AuditGenesis)
			}
			return out, fmt.Errorf("audit log line %d: prev is %s, but line %d hashes to %s: a line was changed, inserted or removed", n, e.Prev, n-1, prev)
		}
		if e.SchemaVersion != AuditSchemaVersion {
			return out, fmt.Errorf("audit log line %d: schemaVersion %d, this reader knows %d", n, e.SchemaVersion, AuditSchemaVersion)
		}
		if err := checkAuditEntry(e); err != nil {
			return out, fmt.Errorf("audit log line %d: %v", n, err)
		}
		out = append(out, e)
		prev = AuditHash(line)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("audit log line %d: %v", n+1, err)
	}
	return out, nil
}

// AuditArgKind is how an argument's value is recorded: as text (redacted), or only as what it is.
type AuditArgKind string

const (
	ArgText   AuditArgKind = ""
	ArgSecret AuditArgKind = "secret"
	ArgObject AuditArgKind = "object"
)

// objectIDRe matches what an engine object's ID looks like on the wire (long base64): a value of
// that shape is recorded as an object even when its argument is not declared one.
var objectIDRe = regexp.MustCompile(`^[A-Za-z0-9+/_-]{120,}={0,2}$`)

// AuditValue is the recorded form of one argument's JSON value: secrets as "<secret>", engine
// objects (directories, files, services) as "<kind>", URLs and text redacted.
func AuditValue(raw json.RawMessage, kind AuditArgKind, objectName string) any {
	switch kind {
	case ArgSecret:
		return "<secret>"
	case ArgObject:
		return "<" + objectName + ">"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "<unreadable>"
	}
	return auditScrub(v)
}

func auditScrub(v any) any {
	switch t := v.(type) {
	case string:
		if objectIDRe.MatchString(t) {
			if _, err := base64.StdEncoding.DecodeString(t); err == nil {
				return "<object>"
			}
		}
		return redact.URL(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = auditScrub(x)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[k] = auditScrub(x)
		}
		return out
	}
	return v
}

// AuditCommand renders a call as the dagger command line that makes it: constructor arguments, the
// function, its arguments, in name order, names in the CLI's kebab case.
func AuditCommand(constructor map[string]any, function string, args map[string]any) string {
	var b strings.Builder
	b.WriteString("dagger call")
	flags := func(m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(" --" + kebab(k) + "=" + shellWord(cliValue(m[k])))
		}
	}
	flags(constructor)
	b.WriteString(" " + kebab(function))
	flags(args)
	return b.String()
}

func cliValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = cliValue(x)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9._:/@,=+<>%-]+$`)

func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// kebab is the CLI's name for an API name (trivyDb -> trivy-db, buildAll -> build-all): the Dagger
// CLI's own function, strcase.ToKebab, so the logged command line reads as `dagger call --help` does.
func kebab(s string) string { return strcase.ToKebab(s) }
