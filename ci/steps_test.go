package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/doctor"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// The run: blocks of build-templates.yml that decide something (runner switch, matrix and
// full-catalogue flag, doctor's disk gate, job summary, release asset sizes) run here under bash as
// GitHub runs them (bash --noprofile --norc -eo pipefail), with a fake `dagger` that prints what the
// real module prints: the matrix from osdefs.CIMatrixJSON and doctor reports built with package doctor.
// So a field renamed in either breaks these tests, not a build on a runner.

// stepRun is the run: block of the named step of a job in build-templates.yml.
func stepRun(t *testing.T, job, step string) string {
	t.Helper()
	wf := parseYAML(t, "build-templates.yml", readFile(t, ".github/workflows/build-templates.yml"))
	_, s := findStep(t, jobSteps(t, wf["jobs"].(map[string]any), job), step)
	run, _ := s["run"].(string)
	if run == "" {
		t.Fatalf("step %q of job %s has no run: block", step, job)
	}
	if strings.Contains(run, "${{") {
		t.Fatalf("step %q of job %s puts an expression in its script; pass it through env:", step, job)
	}
	return run
}

type stepResult struct {
	stdout  string
	outputs map[string]string // what the step wrote to $GITHUB_OUTPUT
	summary string            // what the step wrote to $GITHUB_STEP_SUMMARY
	dagger  string            // the fake dagger's command lines
	err     error
}

// runStep runs a step's script in dir with the fake dagger first on PATH. The fake prints $FAKE_MATRIX
// for `call matrix` (or, when $FAKE_MATRIX_ERROR is set, prints that and fails as the module does) and
// $FAKE_DOCTOR for `call doctor`, and logs its arguments.
func runStep(t *testing.T, script, dir string, env ...string) stepResult {
	t.Helper()
	tool(t, "CST_JQ", "jq")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fake := `#!/bin/sh
echo "$*" >> "$FAKE_DAGGER_LOG"
case "$*" in
  "call matrix "*)
    if [ -n "${FAKE_MATRIX_ERROR:-}" ]; then echo "Error: $FAKE_MATRIX_ERROR" >&2; exit 1; fi
    cat "$FAKE_MATRIX" ;;
  "call doctor "*) cat "$FAKE_DOCTOR" ;;
  *) echo "fake dagger: unexpected $*" >&2; exit 2 ;;
esac
`
	files := map[string]string{filepath.Join(bin, "dagger"): fake, filepath.Join(tmp, "step.sh"): script,
		filepath.Join(tmp, "output"): "", filepath.Join(tmp, "summary"): "", filepath.Join(tmp, "dagger.log"): ""}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runWithFakes(dir, bin, append([]string{"GITHUB_OUTPUT=" + filepath.Join(tmp, "output"),
		"GITHUB_STEP_SUMMARY=" + filepath.Join(tmp, "summary"), "FAKE_DAGGER_LOG=" + filepath.Join(tmp, "dagger.log")}, env...),
		"bash", "--noprofile", "--norc", "-eo", "pipefail", filepath.Join(tmp, "step.sh"))
	r := stepResult{stdout: out, err: err, outputs: map[string]string{}}
	b, _ := os.ReadFile(filepath.Join(tmp, "output"))
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			r.outputs[k] = v
		}
	}
	b, _ = os.ReadFile(filepath.Join(tmp, "summary"))
	r.summary = string(b)
	b, _ = os.ReadFile(filepath.Join(tmp, "dagger.log"))
	r.dagger = string(b)
	return r
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A misspelt CST_RUNNER fails prepare with a message instead of silently running on hosted runners.
func TestRunnerSwitchStep(t *testing.T) {
	script := stepRun(t, "prepare", "Check the runner switch")
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"", true}, {"hosted", true}, {"self-hosted", true}, {`["self-hosted","linux","x64","kvm","big-disk"]`, true},
		{`["ubuntu-latest-16-cores"]`, true},
		{"selfhosted", false}, {"Self-Hosted", false}, {"ubuntu-latest", false}, {`[]`, false}, {`[1]`, false}, {`["a"`, false},
	} {
		r := runStep(t, script, t.TempDir(), "CST_RUNNER="+tc.value, "RUNNER_KIND=github-hosted")
		if tc.ok != (r.err == nil) {
			t.Errorf("CST_RUNNER=%q: err %v, want ok=%t\n%s", tc.value, r.err, tc.ok, r.stdout)
		}
		if !tc.ok && !strings.Contains(r.stdout, "::error title=CST_RUNNER::") {
			t.Errorf("CST_RUNNER=%q: no error annotation:\n%s", tc.value, r.stdout)
		}
	}
}

// prepare's matrix and full-catalogue flag, from what the module's matrix function prints for the
// filter (osdefs.CIMatrixJSON): only a run that builds every OS may release, and a filter the module
// refuses fails the step instead of building nothing.
func TestMatrixStepFullCatalogue(t *testing.T) {
	script := stepRun(t, "prepare", "Compute the matrix")
	ids, matrix := catalogueMatrix(t)
	reversed := make([]string, len(ids))
	for i, id := range ids {
		reversed[len(ids)-1-i] = id
	}
	var fixture string
	for _, d := range osdefs.All() {
		if d.Fixture && fixture == "" {
			fixture = d.ID
		}
	}
	for _, tc := range []struct {
		filter, full, os string // os "": the module refuses the filter
	}{
		{"all", "true", matrix},
		{strings.Join(reversed, ", "), "true", matrix}, // every OS named: still the full catalogue
		{ids[0], "false", `["` + ids[0] + `"]`},
		{ids[1] + "," + ids[0], "false", `["` + ids[0] + `","` + ids[1] + `"]`},
		{fixture, "", ""},
		{"no-such-os", "", ""},
	} {
		env := []string{"OS_FILTER=" + tc.filter}
		if out, err := osdefs.CIMatrixJSON(tc.filter); err != nil {
			env = append(env, "FAKE_MATRIX_ERROR="+err.Error())
		} else {
			env = append(env, "FAKE_MATRIX="+writeTemp(t, "matrix.json", out))
		}
		r := runStep(t, script, t.TempDir(), env...)
		if r.dagger != "call matrix --os-filter "+tc.filter+"\n" {
			t.Errorf("filter %q: dagger called as %q", tc.filter, r.dagger)
		}
		if tc.os == "" {
			if r.err == nil || len(r.outputs) != 0 {
				t.Errorf("filter %q: the step passed (outputs %v), want it to fail with the module\n%s", tc.filter, r.outputs, r.stdout)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("filter %q: %v\n%s", tc.filter, r.err, r.stdout)
		}
		if r.outputs["full-catalogue"] != tc.full || r.outputs["os"] != tc.os {
			t.Errorf("filter %q: outputs %v, want os=%s full-catalogue=%s", tc.filter, r.outputs, tc.os, tc.full)
		}
	}

	// A matrix without its fields (a renamed key) fails the step rather than building nothing or
	// releasing by mistake.
	for _, bad := range []string{`{"os":[],"fullCatalogue":true}`, `{"os":["rocky-9"]}`, `{"oses":["rocky-9"],"fullCatalogue":false}`, `{"os":["rocky-9"],"fullCatalogue":"yes"}`} {
		r := runStep(t, script, t.TempDir(), "OS_FILTER=all", "FAKE_MATRIX="+writeTemp(t, "matrix.json", bad+"\n"))
		if r.err == nil {
			t.Errorf("matrix %s: the step passed with outputs %v", bad, r.outputs)
		}
	}
}

// The doctor step fails the job, with the numbers, when the engine's disk is below doctor's estimate
// for the OS, and lets it through otherwise.
func TestDoctorDiskGateStep(t *testing.T) {
	script := stepRun(t, "build", "Check the engine (doctor)")
	d, err := osdefs.Lookup("rocky-9")
	if err != nil {
		t.Fatal(err)
	}
	need, err := doctor.BuildNeed(d)
	if err != nil {
		t.Fatal(err)
	}
	kvmOK := doctor.KVMFinding(accelerator.KVMProbe{Arch: "x86_64", Device: true, Boots: true, Seconds: 2})
	noKVM := doctor.KVMFinding(accelerator.KVMProbe{Arch: "x86_64", Detail: "no /dev/kvm"})
	report := func(findings ...doctor.Finding) string {
		j, err := doctor.NewReport("kvm", findings).JSON()
		if err != nil {
			t.Fatal(err)
		}
		return writeTemp(t, "doctor.json", j)
	}
	for _, tc := range []struct {
		name   string
		doctor string
		ok     bool
		want   []string
	}{
		{"too little", report(doctor.PlatformFinding("x86_64"), kvmOK, doctor.DiskFinding(14<<30, need)), false,
			[]string{"::error title=Not enough disk for rocky-9::engine disk: 14.0 GiB free, builds need about 33.0 GiB.", "docs/ci.md"}},
		{"tight but enough", report(kvmOK, doctor.DiskFinding(need+1<<30, need)), true, []string{"WARN\tengine disk"}},
		{"plenty, no KVM", report(noKVM, doctor.DiskFinding(100<<30, need)), true, []string{"::warning title=No KVM::"}},
		{"no disk finding", report(kvmOK), false, []string{`no "engine disk" finding`}},
	} {
		r := runStep(t, script, t.TempDir(), "OS_ID=rocky-9", "FAKE_DOCTOR="+tc.doctor)
		if tc.ok != (r.err == nil) {
			t.Errorf("%s: err %v, want ok=%t\n%s", tc.name, r.err, tc.ok, r.stdout)
		}
		testcheck.ContainsAll(t, tc.name+": output", r.stdout, tc.want...)
		if r.dagger != "call doctor --os rocky-9 --format json\n" {
			t.Errorf("%s: dagger called as %q", tc.name, r.dagger)
		}
	}
}

// The job summary renders a real metadata.json: stage times, artifact sizes, scan counts.
func TestJobSummaryStep(t *testing.T) {
	script := stepRun(t, "build", "Job summary")
	hex := func(n int) string { return strings.Repeat("a", n) }
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	m := artifacts.Metadata{
		SchemaVersion: artifacts.MetadataSchemaVersion,
		Template:      "rocky-9-x86_64",
		OS:            artifacts.MetadataOS{ID: "rocky-9", Name: "Rocky Linux 9", Version: "9", Family: "el"},
		Build: artifacts.Build{StartedAt: start, FinishedAt: start.Add(time.Hour), SourceCommit: hex(40), Accelerator: "kvm",
			Tools:  map[string]string{"packer": "1.9.4"},
			Stages: []artifacts.Stage{{Name: "fetch", Seconds: 42.4}, {Name: "packer", Seconds: 1234}}},
		Artifacts: []artifacts.Artifact{
			{Name: "rocky-9-x86_64.qcow2", Format: "qcow2", SizeBytes: 3 << 29, VirtualSizeBytes: 10 << 30, SHA256: hex(64), SHA512: hex(128)},
			{Name: "rocky-9-x86_64.vhd", Format: "vhd", SizeBytes: 5 << 30, VirtualSizeBytes: 10 << 30, SHA256: hex(64), SHA512: hex(128)},
		},
		Scan: &artifacts.ScanSummary{Scanner: "trivy", Version: "0.58.1",
			Counts:          map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0},
			Vulnerabilities: []artifacts.Finding{{ID: "CVE-2024-0001", Package: "openssl", Installed: "3.0", Severity: "HIGH"}},
			FailOn:          "CRITICAL", Passed: true},
	}
	data, err := artifacts.EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "out", "rocky-9"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out", "rocky-9", "metadata.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runStep(t, script, dir, "OS_ID=rocky-9")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	testcheck.ContainsAll(t, "summary", r.summary,
		"### rocky-9-x86_64 (Rocky Linux 9)", "total 21m 16s",
		"| fetch | 42s |", "| packer | 20m 34s |",
		"| rocky-9-x86_64.qcow2 | qcow2 | 1.5 GiB | 10 GiB |",
		"| rocky-9-x86_64.vhd | vhd | 5 GiB ⚠ over the 2 GiB release-asset limit | 10 GiB |",
		"gate CRITICAL: passed): critical 0, high 1, medium 0, low 0, unknown 0, secrets 0.",
	)
	if !strings.Contains(r.stdout, "::warning title=Artifact too big for a release::rocky-9-x86_64.vhd") {
		t.Errorf("no warning for the 5 GiB artifact:\n%s", r.stdout)
	}

	// No scan, and no metadata at all: still a summary, never a failure.
	m.Scan = nil
	data, _ = artifacts.EncodeMetadata(m)
	_ = os.WriteFile(filepath.Join(dir, "out", "rocky-9", "metadata.json"), data, 0o644)
	if r := runStep(t, script, dir, "OS_ID=rocky-9"); r.err != nil || !strings.Contains(r.summary, "Scan: skipped.") {
		t.Errorf("without a scan: %v, summary:\n%s", r.err, r.summary)
	}
	if r := runStep(t, script, t.TempDir(), "OS_ID=rocky-9"); r.err != nil || !strings.Contains(r.summary, "no metadata.json") {
		t.Errorf("without metadata: %v, summary:\n%s", r.err, r.summary)
	}
}

// The release's size check refuses any asset of 2 GiB or more, naming each, and passes one byte less.
func TestReleaseAssetSizeStep(t *testing.T) {
	script := stepRun(t, "release", "Check the asset sizes")
	sized := func(sizes map[string]int64) string {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, size := range sizes {
			f, err := os.Create(filepath.Join(dir, "assets", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(size); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
			f.Close()
		}
		return dir
	}
	r := runStep(t, script, sized(map[string]int64{"a.qcow2": 1 << 30, "b.vhd": 2 << 30, "c.ova": 3 << 30, "a.metadata.json": 100}))
	if r.err == nil {
		t.Fatalf("accepted a 2 GiB asset:\n%s", r.stdout)
	}
	testcheck.ContainsAll(t, "output", r.stdout, "::error title=Release asset too big::b.vhd is 2147483648 bytes", "::error title=Release asset too big::c.ova is 3221225472 bytes", "under 2 GiB")
	if strings.Contains(r.stdout, "a.qcow2 is") {
		t.Errorf("flagged the 1 GiB asset:\n%s", r.stdout)
	}
	if r := runStep(t, script, sized(map[string]int64{"a.qcow2": 2<<30 - 1, "a.metadata.json": 100})); r.err != nil {
		t.Errorf("refused assets under 2 GiB: %v\n%s", r.err, r.stdout)
	}
}

// ci/gitlab/publish.sh (GitLab's publish job) under sh with a fake curl: every asset goes to the
// generic package registry with the job token, release.env names the tag and the package, and a file
// over the size limit fails the job before anything is uploaded, named.
func TestGitLabPublishScript(t *testing.T) {
	tool(t, "CST_JQ", "jq")
	setup := func(big int64) string {
		dir := t.TempDir()
		files := map[string]int64{
			"out/rocky-9/rocky-9-x86_64.qcow2":         1 << 30,
			"out/rocky-9/rocky-9-x86_64.qcow2.sha256":  100,
			"out/rocky-9/metadata.json":                10,
			"out/rocky-9/scan/sbom.cdx.json":           10,
			"out/rocky-9/scan/scan.json":               10,
			"out/ubuntu-22.04/ubuntu-22.04-x86_64.vhd": big,
			"out/ubuntu-22.04/metadata.json":           10,
			"out/ubuntu-22.04/ubuntu-22.04-x86_64.ova": 1 << 20,
		}
		for rel, size := range files {
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(size); err != nil { // sparse
				t.Fatal(err)
			}
			f.Close()
		}
		return dir
	}
	run := func(dir string, env ...string) (string, string, error) {
		bin := filepath.Join(t.TempDir(), "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(bin, "curl.log")
		fake := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + log + "\necho '{\"id\":1,\"package_id\":99,\"file_name\":\"x\"}'\n"
		if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		script, err := filepath.Abs(filepath.Join(root, "ci/gitlab/publish.sh"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := runWithFakes(dir, bin, append([]string{"CI_API_V4_URL=https://gitlab.example.com/api/v4", "CI_PROJECT_ID=7",
			"CI_PROJECT_URL=https://gitlab.example.com/g/p", "CI_JOB_TOKEN=job-token", "CI_PIPELINE_IID=12",
			"CI_COMMIT_SHA=" + strings.Repeat("a", 40)}, env...), "sh", script, "out")
		calls, _ := os.ReadFile(log)
		return out, string(calls), err
	}

	version := time.Now().UTC().Format("2006.01.02") + ".12"
	dir := setup(2 << 30)
	out, calls, err := run(dir)
	if err != nil {
		t.Fatalf("publish.sh: %v\n%s", err, out)
	}
	assets := []string{"rocky-9-x86_64.qcow2", "rocky-9-x86_64.qcow2.sha256", "rocky-9.metadata.json", "rocky-9.sbom.cdx.json",
		"ubuntu-22.04-x86_64.ova", "ubuntu-22.04-x86_64.vhd", "ubuntu-22.04.metadata.json"}
	lines := strings.Split(strings.TrimSpace(calls), "\n")
	if len(lines) != len(assets) {
		t.Fatalf("curl called %d times, want once per asset %v:\n%s", len(lines), assets, calls)
	}
	for i, a := range assets {
		want := "--upload-file assets/" + a + " https://gitlab.example.com/api/v4/projects/7/packages/generic/cloudstack-templates/" + version + "/" + a + "?select=package_file"
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "--header JOB-TOKEN: job-token") {
			t.Errorf("upload %d: curl %s\nwant %s with the job token", i, lines[i], want)
		}
	}
	env, err := os.ReadFile(filepath.Join(dir, "release.env"))
	if err != nil || string(env) != "RELEASE_TAG=v"+version+"\nRELEASE_PACKAGE_URL=https://gitlab.example.com/g/p/-/packages/99\n" {
		t.Errorf("release.env = %q (%v)", env, err)
	}

	// Over the limit (GitLab's default 5 GiB, or CST_ASSET_MAX_BYTES): named, and nothing uploaded.
	for _, tc := range []struct {
		big  int64
		env  []string
		want string
	}{
		{6 << 30, nil, "ERROR: release asset ubuntu-22.04-x86_64.vhd is 6442450944 bytes, over the limit of 5368709120 bytes"},
		{2 << 30, []string{"CST_ASSET_MAX_BYTES=2000000000"}, "ERROR: release asset ubuntu-22.04-x86_64.vhd is 2147483648 bytes, over the limit of 2000000000 bytes"},
	} {
		out, calls, err := run(setup(tc.big), tc.env...)
		if err == nil || !strings.Contains(out, tc.want) || calls != "" {
			t.Errorf("asset of %d bytes (%v): err %v, curl calls %q, output:\n%s\nwant %q", tc.big, tc.env, err, calls, out, tc.want)
		}
		if strings.Contains(out, "rocky-9-x86_64.qcow2 is") {
			t.Errorf("flagged the 1 GiB asset:\n%s", out)
		}
	}
	if out, _, err := run(t.TempDir()); err == nil || !strings.Contains(out, "artifacts are missing") {
		t.Errorf("no build output: err %v\n%s", err, out)
	}
}
