package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"
	"unicode"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/Khan/genqlient/graphql"
	"github.com/charmbracelet/log"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/monitor"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// The engine's audit log (monitor.AuditEntry, one line a build) lives in this cache volume.
const (
	auditVolume = "audit"
	auditLog    = "/audit/audit.jsonl"
)

// checkAuditIdentity refuses an --actor or --origin that would break the log's one-line entries or
// record a credential.
func checkAuditIdentity(actor, origin string) error {
	for _, f := range []struct{ flag, v string }{{"--actor", actor}, {"--origin", origin}} {
		if len(f.v) > 512 {
			return fmt.Errorf("%s is %d characters long: give at most 512", f.flag, len(f.v))
		}
		if strings.IndexFunc(f.v, unicode.IsControl) >= 0 {
			return fmt.Errorf("%s %q holds a control character: give one line of text", f.flag, redact.Text(f.v))
		}
	}
	if redact.HasCredentials(origin) {
		return fmt.Errorf("--origin %q carries credentials: give the CI run's URL without them", redact.URL(origin))
	}
	return nil
}

// auditObjectArgs are the functions' arguments that are engine objects, by name, with their type:
// the log records what they are, never their IDs. (An ID of an undeclared one is caught by its shape.)
var auditObjectArgs = map[string]string{"iso": "File"}

// auditEnumArgs are the audited functions' enum arguments. The engine hands over an enum by its member
// name ("High"); the log writes its value ("HIGH"), as the docs, the CLI and the code spell it.
var auditEnumArgs = map[string]func(json.RawMessage) json.RawMessage{"failOn": enumValue[Severity]}

// enumValue turns an enum member's name, as JSON, into its value; anything else is kept as it is.
func enumValue[T ~string, P interface {
	*T
	UnmarshalJSON([]byte) error
}](raw json.RawMessage) json.RawMessage {
	var v T
	if err := P(&v).UnmarshalJSON(raw); err != nil {
		return raw
	}
	b, err := json.Marshal(string(v))
	if err != nil {
		return raw
	}
	return b
}

// auditCall reads the call the engine is serving: its function and arguments, redacted. One query
// fetches them all; through the typed API each argument's name and value would be a round trip of
// its own.
func auditCall(ctx context.Context) (string, map[string]any, error) {
	var resp struct {
		CurrentFunctionCall struct {
			Name      string
			InputArgs []struct {
				Name  string
				Value string
			}
		}
	}
	err := dag.GraphQLClient().MakeRequest(ctx,
		&graphql.Request{Query: "{currentFunctionCall{name inputArgs{name value}}}"},
		&graphql.Response{Data: &resp})
	if err != nil {
		return "", nil, fmt.Errorf("read the current call: %w", err)
	}
	args := map[string]any{}
	for _, a := range resp.CurrentFunctionCall.InputArgs {
		kind, obj := monitor.ArgText, auditObjectArgs[a.Name]
		if obj != "" {
			kind = monitor.ArgObject
		}
		raw := json.RawMessage(a.Value)
		if toValue, ok := auditEnumArgs[a.Name]; ok {
			raw = toValue(raw)
		}
		args[a.Name] = monitor.AuditValue(raw, kind, obj)
	}
	return resp.CurrentFunctionCall.Name, args, nil
}

// auditConstructor is the constructor's arguments that were set, redacted like a call's.
func (m *CloudstackTemplates) auditConstructor() map[string]any {
	c := map[string]any{"tools": m.Tools, "qcow2Compression": m.Qcow2Compression, "accel": m.Accel,
		"packerVersion": m.PackerVersion, "sourceCommit": m.SourceCommit}
	set := func(name string, on bool, v any) {
		if on {
			c[name] = v
		}
	}
	set("qemuVersion", m.QemuVersion != "", m.QemuVersion)
	set("mirror", m.Mirror != "", redact.URL(m.Mirror))
	set("mirrorService", m.MirrorService != nil, "<Service>")
	set("trivyDb", m.TrivyDB != nil, "<Directory>")
	set("mirrorAuth", m.MirrorAuth != nil, "<secret>")
	set("toolsMirror", m.ToolsMirror != "", redact.URL(m.ToolsMirror))
	set("toolsMirrorService", m.ToolsMirrorService != nil, "<Service>")
	set("toolsKey", m.ToolsKey != nil, "<File>")
	set("metricsPush", m.MetricsPush != "", redact.URL(m.MetricsPush))
	set("metricsPushService", m.MetricsPushService != nil, "<Service>")
	set("actor", m.Actor != "", m.Actor)
	set("origin", m.Origin != "", redact.URL(m.Origin))
	set("debianMirror", m.DebianMirror != defaultDebianMirror, redact.URL(m.DebianMirror))
	return c
}

// auditInputs are a build's inputs for the log, from the same materials its provenance lists (the
// installer by the digest its signed checksum file gave, when the build got that far; the checksum
// file by location; the embedded install configuration, guest scripts and Packer template by digest),
// with the signature's location beside them.
func auditInputs(d osdefs.Definition, iso fetch.Plan) map[string]string {
	in := map[string]string{}
	mats, err := materials(d, iso)
	if err != nil {
		in["embedded"] = "unreadable: " + err.Error()
	}
	for _, m := range mats {
		for alg, sum := range m.Digest {
			if sum != "" {
				in[m.Name] = alg + ":" + sum
			}
		}
		if _, ok := in[m.Name]; !ok && m.URI != "" && iso.Digest != "" {
			in[m.Name] = m.URI
		}
	}
	if iso.Digest != "" && iso.SignatureURL != "" {
		in["signature:"+path.Base(iso.SignatureURL)] = redact.URL(iso.SignatureURL)
	}
	return in
}

// auditEntry is the log line of a finished build, failed or not.
func (m *CloudstackTemplates) auditEntry(ctx context.Context, d osdefs.Definition, rec monitor.Record, iso fetch.Plan,
	tools map[string]string, arts []artifacts.Artifact) (monitor.AuditEntry, error) {
	fn, args, err := auditCall(ctx)
	if err != nil {
		return monitor.AuditEntry{}, fmt.Errorf("read the call for the audit log: %w", err)
	}
	ctor := m.auditConstructor()
	e := monitor.AuditEntry{
		Time: time.Now().UTC(), Actor: orUnknown(m.Actor, "--actor"), Origin: orUnknown(m.Origin, "--origin"),
		Trace: os.Getenv("TRACEPARENT"), Call: monitor.AuditCommand(ctor, fn, args), Function: fn,
		Constructor: ctor, Arguments: args, OS: d.ID, Inputs: auditInputs(d, iso), Tools: map[string]string{"from": m.Tools},
		Outcome: rec.Outcome, FailedStage: rec.FailedStage, Error: rec.Error,
	}
	for k, v := range tools {
		if v != "" {
			e.Tools[k] = v
		}
	}
	if len(arts) > 0 {
		e.Artifacts = map[string]string{}
		for _, a := range arts {
			e.Artifacts[a.Name] = a.SHA256
		}
	}
	return e, nil
}

func orUnknown(v, flag string) string {
	if v == "" {
		return "unknown (no " + flag + " given)"
	}
	return v
}

// keepAudit appends the entry to the engine's audit log, under the log's lock.
func keepAudit(ctx context.Context, e monitor.AuditEntry) error {
	line, err := monitor.AuditLine(e)
	if err != nil {
		return err
	}
	_, err = dag.Container().From(debianImage).
		WithMountedCache("/audit", cacheVolume(auditVolume)).
		WithNewFile("/tmp/line.json", string(line)).
		// Every append runs, even of an identical line: the engine must not answer it from its cache.
		WithEnvVariable("CST_AUDIT_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec([]string{"sh", "-c", monitor.AuditAppendScript(), "append", "/tmp/line.json", auditLog}).
		Sync(ctx)
	if err != nil {
		return fmt.Errorf("audit log: %s", execMessage(err))
	}
	return nil
}

// afterBuild keeps what every build leaves behind, failed or not: its record, its metrics at the
// Pushgateway and its line in the audit log. It runs even when the build's context was cancelled,
// for at most two minutes. A record or metrics push that fails only warns; an audit line that cannot
// be written is an error, since a build the log does not show must not pass unnoticed.
func (m *CloudstackTemplates) afterBuild(ctx context.Context, log *log.Logger, d osdefs.Definition, rec monitor.Record,
	iso fetch.Plan, tools map[string]string, arts []artifacts.Artifact) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	keepRecord(ctx, log, rec)
	m.pushMetrics(ctx, log, rec)
	e, err := m.auditEntry(ctx, d, rec, iso, tools, arts)
	if err == nil {
		err = keepAudit(ctx, e)
	}
	if err != nil {
		log.Error("build not written to the audit log", "error", err)
	}
	return err
}

// The audit log of this engine's builds, audit.jsonl: one JSON line a build, failures included,
// with who started it and from where (the constructor's --actor and --origin), the exact call with
// secrets and engine objects left out, every input's digest, the tools, the outcome and the
// artifacts' digests (docs/monitoring.md). Each line holds the SHA-256 of the one before; the log is
// handed out only when that chain is whole. Keep it where the engine's owner cannot change it (CI
// artifacts). Never cached: each call reads the log as it is now.
// +cache="never"
func (m *CloudstackTemplates) Audit(ctx context.Context) (*dagger.File, error) {
	f := dag.Container().From(debianImage).
		WithMountedCache("/audit", cacheVolume(auditVolume)).
		// Read anew on every call: the volume changes under the same arguments.
		WithEnvVariable("CST_READ_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec([]string{"sh", "-c", `set -eu; mkdir -p /out; exec 9>>"$1.lock"; flock -s 9; touch "$1"; cp "$1" /out/audit.jsonl`, "copy", auditLog}).
		File("/out/audit.jsonl")
	body, err := f.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %s", execMessage(err))
	}
	entries, err := monitor.VerifyAudit(strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the engine's audit log does not verify, and is not handed out: %w", err)
	}
	oses := map[string]int{}
	for _, e := range entries {
		oses[e.OS]++
	}
	var parts []string
	for o, n := range oses {
		parts = append(parts, fmt.Sprintf("%s %d", o, n))
	}
	sort.Strings(parts)
	log.Info("audit log verified", "entries", len(entries), "per OS", strings.Join(parts, ", "))
	return f, nil
}
