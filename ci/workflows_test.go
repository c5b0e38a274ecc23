package ci

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

var shaPin = regexp.MustCompile(`^[^@\s]+@[0-9a-f]{40}$`)

// Every action is pinned by full commit SHA, the permissions are least-privilege and the build
// workflow has the shape the issue asks for.
func TestWorkflowPolicy(t *testing.T) {
	for _, rel := range []string{".github/workflows/build-templates.yml", ".github/workflows/test.yml"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			wf := parseYAML(t, rel, readFile(t, rel))
			perms, _ := wf["permissions"].(map[string]any)
			if !reflect.DeepEqual(perms, map[string]any{"contents": "read"}) {
				t.Errorf("top-level permissions = %v, want {contents: read}", wf["permissions"])
			}
			if _, ok := wf["concurrency"]; !ok {
				t.Error("no concurrency group")
			}
			jobs, _ := wf["jobs"].(map[string]any)
			if len(jobs) == 0 {
				t.Fatal("no jobs")
			}
			for name, j := range jobs {
				job := j.(map[string]any)
				if p, ok := job["permissions"]; ok {
					if want, allowed := jobPermissions[rel+" "+name]; !allowed || !reflect.DeepEqual(p, want) {
						t.Errorf("job %s widens permissions to %v (allowed: %v)", name, p, want)
					}
				}
				steps, _ := job["steps"].([]any)
				for i, s := range steps {
					uses, _ := s.(map[string]any)["uses"].(string)
					if uses != "" && !shaPin.MatchString(uses) {
						t.Errorf("job %s step %d: %q is not pinned by a full commit SHA", name, i, uses)
					}
				}
			}
		})
	}

	wf := parseYAML(t, "build-templates.yml", readFile(t, ".github/workflows/build-templates.yml"))
	on := wf["on"].(map[string]any)
	dispatch, _ := on["workflow_dispatch"].(map[string]any)
	if inputs, _ := dispatch["inputs"].(map[string]any); inputs["os_filter"] == nil {
		t.Error("workflow_dispatch has no os_filter input")
	}
	jobs := wf["jobs"].(map[string]any)
	build := jobs["build"].(map[string]any)
	// The runner switch: one repository variable picks hosted or self-hosted runners for the jobs
	// that run the engine.
	for _, name := range []string{"prepare", "build"} {
		if runsOn := jobs[name].(map[string]any)["runs-on"]; runsOn != runnerSwitch {
			t.Errorf("%s runs on %v, want the runner switch %s", name, runsOn, runnerSwitch)
		}
	}
	testcheck.ContainsAll(t, "runner switch", runnerSwitch, `vars.CST_RUNNER == 'self-hosted'`, `"self-hosted","linux","x64","kvm"`, `'ubuntu-latest'`)
	matrix, _ := build["strategy"].(map[string]any)["matrix"].(map[string]any)
	if os, _ := matrix["os"].(string); !strings.Contains(os, "needs.prepare.outputs") {
		t.Errorf("build matrix %v does not come from the prepare job", matrix)
	}
	text := string(readFile(t, ".github/workflows/build-templates.yml"))
	testcheck.ContainsAll(t, "build-templates.yml", text, `KERNEL=="kvm", GROUP="kvm", MODE="0666"`, `dagger call matrix --os-filter "$OS_FILTER"`, "jq -er .engineVersion dagger.json", "retention-days")
	release := jobs["release"].(map[string]any)
	if p := release["permissions"]; !reflect.DeepEqual(p, releasePermissions) {
		t.Errorf("release permissions = %v, want %v", p, releasePermissions)
	}
	attested := false
	for _, st := range jobSteps(t, jobs, "release") {
		if uses, _ := st["uses"].(string); strings.HasPrefix(uses, "actions/attest-build-provenance@") {
			with, _ := st["with"].(map[string]any)
			attested = with["subject-path"] == "assets/*"
		}
	}
	if !attested {
		t.Error("the release job does not attest assets/* with actions/attest-build-provenance")
	}
	cond, _ := release["if"].(string)
	testcheck.ContainsAll(t, "release condition (main only, full-catalogue runs only)", cond, "github.ref == 'refs/heads/main'", "needs.prepare.outputs.full-catalogue == 'true'")
	if !strings.Contains(cond, "(github.event_name == 'push' || github.event_name == 'workflow_dispatch')") {
		t.Errorf("release condition %q must admit only pushes and manual runs (no pull requests)", cond)
	}
	if needs := strings.Join(asStrings(release["needs"]), ","); needs != "prepare,build" {
		t.Errorf("release needs %s, want prepare,build (prepare's full-catalogue output)", needs)
	}
	prepare := jobs["prepare"].(map[string]any)
	if out, _ := prepare["outputs"].(map[string]any)["full-catalogue"].(string); out != "${{ steps.matrix.outputs.full-catalogue }}" {
		t.Errorf("prepare's full-catalogue output = %q, want the matrix step's", out)
	}
	// The size check runs before the release is created, and names the file.
	steps := jobSteps(t, jobs, "release")
	check, checkStep := findStep(t, steps, "Check the asset sizes")
	create, _ := findStep(t, steps, "Create the release")
	if check > create {
		t.Errorf("the asset size check (step %d) runs after the release is created (step %d)", check, create)
	}
	if run, _ := checkStep["run"].(string); !strings.Contains(run, "limit=2147483648") || !strings.Contains(run, "${f#assets/}") {
		t.Errorf("the asset size check does not compare with 2 GiB or does not name the file:\n%s", run)
	}

	// Disk: on hosted runners the clean-up runs before the engine starts, then doctor's disk finding
	// gates the build.
	steps = jobSteps(t, jobs, "build")
	free, freeStep := findStep(t, steps, "Free disk space")
	install, _ := findStep(t, steps, "Install Dagger")
	doctor, doctorStep := findStep(t, steps, "Check the engine (doctor)")
	buildStep, _ := findStep(t, steps, "Build ")
	if !(free < install && install < doctor && doctor < buildStep) {
		t.Errorf("build steps in the order free disk %d, install %d, doctor %d, build %d; want them in that order", free, install, doctor, buildStep)
	}
	if cond, _ := freeStep["if"].(string); cond != "runner.environment == 'github-hosted'" {
		t.Errorf("the disk clean-up runs if %q, want only on hosted runners", cond)
	}
	freeRun, _ := freeStep["run"].(string)
	testcheck.ContainsAll(t, "the disk clean-up", freeRun, "/usr/share/dotnet", "/usr/local/lib/android", "/opt/ghc", "/opt/hostedtoolcache/CodeQL", "docker image prune --all --force")
	if run, _ := doctorStep["run"].(string); !strings.Contains(run, `dagger call doctor --os "$OS_ID" --format json`) || !strings.Contains(run, `"engine disk"`) {
		t.Errorf("the doctor step does not check doctor's engine disk finding for the OS:\n%s", run)
	}

	// Code scanning: its own job, the only one with security-events: write; the upload waits for a
	// SARIF file and is pinned (checked above with every action).
	for name, j := range jobs {
		p, _ := j.(map[string]any)["permissions"].(map[string]any)
		if _, ok := p["security-events"]; ok && name != "code-scanning" {
			t.Errorf("job %s may write security events; only code-scanning may", name)
		}
	}
	steps = jobSteps(t, jobs, "code-scanning")
	_, upload := findStep(t, steps, "Upload SARIF")
	if uses, _ := upload["uses"].(string); !strings.HasPrefix(uses, "github/codeql-action/upload-sarif@") {
		t.Errorf("the SARIF step uses %q", uses)
	}
	if cond, _ := upload["if"].(string); cond != "hashFiles(format('out/{0}/scan/scan.sarif', matrix.os)) != ''" {
		t.Errorf("the SARIF upload runs if %q; want it guarded by the file's presence", cond)
	}
	if with, _ := upload["with"].(map[string]any); with["sarif_file"] != "out/${{ matrix.os }}/scan/scan.sarif" || with["category"] != "trivy-${{ matrix.os }}" {
		t.Errorf("the SARIF upload has inputs %v", upload["with"])
	}
	_, scanUpload := findStep(t, jobSteps(t, jobs, "build"), "Upload the scan of")
	if with, _ := scanUpload["with"].(map[string]any); with["name"] != "scan-${{ matrix.os }}" || with["path"] != "out/${{ matrix.os }}/scan/" {
		t.Errorf("build uploads the scan as %v", scanUpload["with"])
	}

	// The job summary comes from metadata.json.
	_, summary := findStep(t, jobSteps(t, jobs, "build"), "Job summary")
	if run, _ := summary["run"].(string); !strings.Contains(run, "GITHUB_STEP_SUMMARY") || !strings.Contains(run, "metadata.json") {
		t.Errorf("the job summary step does not write metadata.json to $GITHUB_STEP_SUMMARY")
	}
}

// runnerSwitch is the runs-on expression of prepare and build: repository variable CST_RUNNER unset
// or "hosted" gives GitHub's ubuntu-latest, "self-hosted" the labels of an x86 KVM runner, a JSON
// array those labels.
const runnerSwitch = `${{ vars.CST_RUNNER == 'self-hosted' && fromJSON('["self-hosted","linux","x64","kvm"]') || startsWith(vars.CST_RUNNER, '[') && fromJSON(vars.CST_RUNNER) || 'ubuntu-latest' }}`

// releasePermissions: write the release, and the OIDC token and attestation rights GitHub's
// build-provenance attestation needs (actions/attest-build-provenance's README).
var releasePermissions = map[string]any{"contents": "write", "id-token": "write", "attestations": "write"}

// jobPermissions are the only jobs that may widen the workflow's contents: read, and to what.
var jobPermissions = map[string]any{
	".github/workflows/build-templates.yml release":       releasePermissions,
	".github/workflows/build-templates.yml code-scanning": map[string]any{"contents": "read", "actions": "read", "security-events": "write"},
}

func jobSteps(t *testing.T, jobs map[string]any, name string) []map[string]any {
	t.Helper()
	job, ok := jobs[name].(map[string]any)
	if !ok {
		t.Fatalf("no job %s", name)
	}
	var steps []map[string]any
	for _, s := range asList(job["steps"]) {
		steps = append(steps, s.(map[string]any))
	}
	return steps
}

// findStep returns the index and the first step whose name starts with prefix.
func findStep(t *testing.T, steps []map[string]any, prefix string) (int, map[string]any) {
	t.Helper()
	for i, s := range steps {
		if name, _ := s["name"].(string); strings.HasPrefix(name, prefix) {
			return i, s
		}
	}
	t.Fatalf("no step named %q...", prefix)
	return -1, nil
}

func asStrings(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, e := range asList(v) {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
