package ci

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// The CI files go through their platforms' own parsers here: Buildkite's go-pipeline (what
// `buildkite-agent pipeline upload` runs) and gitlab-ci-local (GitLab CI's keywords, includes,
// extends and GitLab's JSON schema, offline). The GitHub workflows go through actionlint
// (workflows_test.go). The hand-written structure checks in pipelines_test.go stay as well.

// catalogueMatrix is the build matrix the prepare jobs get for OS_FILTER=all from the real catalogue:
// the "os" of `dagger call matrix` (osdefs.CIMatrix), as the compact JSON array `jq -c .os` writes.
func catalogueMatrix(t *testing.T) (ids []string, matrixJSON string) {
	t.Helper()
	ids, full, err := osdefs.CIMatrix("all")
	if err != nil || !full || len(ids) < 2 {
		t.Fatalf(`osdefs.CIMatrix("all") = %v, full %t, %v; want at least two OS IDs, the full catalogue`, ids, full, err)
	}
	b, err := json.Marshal(ids)
	if err != nil {
		t.Fatal(err)
	}
	return ids, string(b)
}

// --- Buildkite ---------------------------------------------------------------------------------

// bkStep is one step as ci/bkparse prints it: its go-pipeline type, and for a command step
// go-pipeline's JSON of it.
type bkStep struct {
	Type  string   `json:"type"`
	Key   string   `json:"key"`
	Group *string  `json:"group"`
	Steps []bkStep `json:"steps"`
	Step  struct {
		Key      string            `json:"key"`
		Label    string            `json:"label"`
		Command  string            `json:"command"`
		Timeout  int               `json:"timeout_in_minutes"`
		Artifact []string          `json:"artifact_paths"`
		Env      map[string]string `json:"env"`
		Agents   map[string]any    `json:"agents"`
	} `json:"step"`
}

type bkPipeline struct {
	Env   map[string]string `json:"env"`
	Steps []bkStep          `json:"steps"`
}

// buildBKParse compiles ci/bkparse, a module of its own around github.com/buildkite/go-pipeline,
// offline: scripts/ci-tools.sh puts its modules in the module cache.
func buildBKParse(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "bkparse")
	cmd := exec.Command(goCmd, "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(root, "ci", "bkparse")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly -buildvcs=false", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building ci/bkparse (Buildkite's parser, github.com/buildkite/go-pipeline) offline: %v\n%s\n"+
			"run scripts/ci-tools.sh, which downloads its modules", err, out)
	}
	return bin
}

// bkParse runs ci/bkparse on a pipeline; args are its flags and the NAME=VALUE environment.
func bkParse(t *testing.T, bin string, src []byte, args ...string) (bkPipeline, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(string(src))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return bkPipeline{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	var p bkPipeline
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("bkparse printed %s: %v", out, err)
	}
	return p, nil
}

// yamlCommands returns a step's `commands:` items from the YAML as written, failing on any item that
// is not a string.
func yamlCommands(t *testing.T, name string, step map[string]any) []string {
	t.Helper()
	var cmds []string
	for i, c := range asList(step["commands"]) {
		s, ok := c.(string)
		if !ok {
			t.Fatalf("%s: commands[%d] is a %T, not a string: %v", name, i, c, c)
		}
		cmds = append(cmds, s)
	}
	if len(cmds) == 0 {
		t.Fatalf("%s: no commands", name)
	}
	return cmds
}

// ci/buildkite/pipeline.yml, parsed and interpolated as `buildkite-agent pipeline upload` does, and the
// steps build-steps.sh prints for the real catalogue, parsed as `pipeline upload --no-interpolation`
// does. go-pipeline's warnings count as failures: Buildkite refuses such an upload.
func TestBuildkiteParser(t *testing.T) {
	bin := buildBKParse(t)
	staticSrc := readFile(t, "ci/buildkite/pipeline.yml")

	t.Run("pipeline.yml", func(t *testing.T) {
		// The agent's environment at upload: none of the overridable variables set ...
		p, err := bkParse(t, bin, staticSrc, "-interpolate", "BUILDKITE_COMMIT=0123abc")
		if err != nil {
			t.Fatalf("Buildkite's parser refuses ci/buildkite/pipeline.yml: %v", err)
		}
		raw := parseYAML(t, "ci/buildkite/pipeline.yml", staticSrc)
		rawStep, _ := asList(raw["steps"])[0].(map[string]any)
		written := yamlCommands(t, "pipeline.yml prepare", rawStep)
		if len(p.Steps) != 1 || p.Steps[0].Type != "command" {
			t.Fatalf("steps = %+v, want one command step", p.Steps)
		}
		s := p.Steps[0].Step
		if s.Key != "prepare" || s.Timeout != 30 || s.Agents["queue"] != "x86-kvm" {
			t.Errorf("prepare step key %q, timeout %d, agents %v", s.Key, s.Timeout, s.Agents)
		}
		// Buildkite runs the commands joined by newlines, each `$$` turned into the shell's `$`.
		want := strings.ReplaceAll(strings.Join(written, "\n"), "$$", "$")
		if s.Command != want {
			t.Errorf("Buildkite would run\n%s\nwant\n%s", s.Command, want)
		}
		lines := strings.Split(s.Command, "\n")
		if len(lines) != len(written) || !strings.HasPrefix(lines[0], `test "$(dagger version`) ||
			lines[len(lines)-1] != "buildkite-agent pipeline upload --no-interpolation build-steps.yml" {
			t.Errorf("prepare commands = %q", lines)
		}
		if strings.Contains(s.Command, "$$") {
			t.Errorf("an escaped $$ survived interpolation: %q", s.Command)
		}
		for k, v := range map[string]string{"OS_FILTER": "all", "PACKER_VERSION": "1.9.4", "PACKER_FORMAT": "all", "SKIP_VALIDATION": "false", "QEMU_VERSION": ""} {
			if got, ok := p.Env[k]; !ok || got != v {
				t.Errorf("env %s = %q (set %v), want %q", k, got, ok, v)
			}
		}

		// ... and with them set on the pipeline (Buildkite's "New build" environment).
		p, err = bkParse(t, bin, staticSrc, "-interpolate", "OS_FILTER=rocky-9", "PACKER_FORMAT=qcow2", "CST_BUILDKITE_QUEUE=kvm-big")
		if err != nil {
			t.Fatal(err)
		}
		if p.Env["OS_FILTER"] != "rocky-9" || p.Env["PACKER_FORMAT"] != "qcow2" || p.Steps[0].Step.Agents["queue"] != "kvm-big" {
			t.Errorf("overrides not applied: env %v, agents %v", p.Env, p.Steps[0].Step.Agents)
		}
	})

	t.Run("build-steps.sh", func(t *testing.T) {
		ids, matrix := catalogueMatrix(t)
		out, err := generate(t, "ci/buildkite/build-steps.sh", matrix)
		if err != nil {
			t.Fatal(err)
		}
		p, err := bkParse(t, bin, out) // uploaded with --no-interpolation
		if err != nil {
			t.Fatalf("Buildkite's parser refuses build-steps.sh's output for %v: %v\n%s", ids, err, out)
		}
		if len(p.Steps) != 1 || p.Steps[0].Type != "group" || p.Steps[0].Key != "templates" {
			t.Fatalf("top-level steps = %+v, want the one group \"templates\"", p.Steps)
		}
		group := p.Steps[0].Steps
		if len(group) != len(ids) {
			t.Fatalf("%d steps in the group, want one per OS of the catalogue (%d: %v)", len(group), len(ids), ids)
		}
		keys := map[string]bool{}
		for i, st := range group {
			s := st.Step
			if st.Type != "command" {
				t.Errorf("step %d is a %s step", i, st.Type)
				continue
			}
			if s.Env["OS_ID"] != ids[i] || s.Label != ":packer: "+ids[i] {
				t.Errorf("step %d: OS_ID %q, label %q, want %s", i, s.Env["OS_ID"], s.Label, ids[i])
			}
			if keys[s.Key] || !regexp.MustCompile(`^build-[A-Za-z0-9_-]+$`).MatchString(s.Key) {
				t.Errorf("step %d: key %q is repeated or not a valid step key", i, s.Key)
			}
			keys[s.Key] = true
			lines := strings.Split(s.Command, "\n")
			if lines[0] != "rm -rf out" || lines[len(lines)-1] != "ls -lR out" ||
				!strings.Contains(s.Command, "dagger call --actor \"$BUILDKITE_BUILD_CREATOR\" --origin \"$BUILDKITE_BUILD_URL\" \\\n") ||
				!strings.Contains(s.Command, "--source-commit \"$BUILDKITE_COMMIT\" \\\n  build --os \"$OS_ID\"") ||
				!strings.Contains(s.Command, `export --path "out/$OS_ID"`) || strings.Contains(s.Command, ids[i]) {
				t.Errorf("step %d runs %q, want the fixed build command with $OS_ID", i, s.Command)
			}
			if !strings.Contains(s.Command, `dagger call records --os "$OS_ID" export --path "records/$OS_ID"`) ||
				!strings.Contains(s.Command, `dagger call report --records "records/$OS_ID"`) || !strings.Contains(s.Command, `exit "$status"`) ||
				!strings.Contains(s.Command, `dagger call audit export --path "records/$OS_ID/audit.jsonl"`) {
				t.Errorf("step %d does not keep the build's record and report whatever the outcome: %q", i, s.Command)
			}
			if s.Agents["queue"] != "x86-kvm" || s.Timeout != 180 || strings.Join(s.Artifact, " ") != "out/**/* records/**/* report/**/*" {
				t.Errorf("step %d: agents %v, timeout %d, artifacts %v", i, s.Agents, s.Timeout, s.Artifact)
			}
		}
	})

	// The parser is live: the upload Buildkite refused before (a `commands` item that YAML reads as a
	// map) fails here too.
	t.Run("refuses a map in commands", func(t *testing.T) {
		bad := strings.Replace(string(staticSrc), "      - dagger call matrix", "      - echo warning: x\n      - dagger call matrix", 1)
		if bad == string(staticSrc) {
			t.Fatal("pipeline.yml has no `- dagger call matrix` item to put the bad one before")
		}
		if _, err := bkParse(t, bin, []byte(bad), "-interpolate"); err == nil || !strings.Contains(err.Error(), "CommandStep") {
			t.Errorf("bkparse accepted a map item in commands (err %v)", err)
		}
	})
}

// --- GitLab ------------------------------------------------------------------------------------

// glRepo is a throwaway git repository holding the GitLab files, as gitlab-ci-local wants one.
func glRepo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git not found: run scripts/ci-tools.sh, which installs it")
	}
	dir := t.TempDir()
	for rel, b := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", "https://gitlab.example.com/cloudstack-templates/cloudstack-templates.git"},
		{"symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"},
		{"config", "user.name", "ci"}, // gitlab-ci-local reads them for GITLAB_USER_*
		{"config", "user.email", "ci@example.com"},
		{"add", "-A"},
		{"commit", "-q", "-m", "ci files"},
	} {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// glBenign are the only lines gitlab-ci-local may print on stderr; anything else (a warning) fails.
var glBenign = regexp.MustCompile(`^(parsing and downloads finished|json schema validated) in \d+(\.\d+)? m?s\.?$`)

// gitlabCILocal runs gitlab-ci-local in dir and returns its stdout.
func gitlabCILocal(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--home", home, "--color=false"}, args...)...)
	cmd.Dir = dir // its --cwd takes only relative paths
	cmd.Env = append(os.Environ(), "HOME="+home, "NO_COLOR=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("gitlab-ci-local %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l = strings.TrimSpace(l); l != "" && !glBenign.MatchString(l) {
			return stdout.String(), fmt.Errorf("gitlab-ci-local %v warns:\n%s", args, stderr.String())
		}
	}
	return stdout.String(), nil
}

type glJob struct {
	Name  string `json:"name"`
	Stage string `json:"stage"`
	When  string `json:"when"`
	Needs []struct {
		Job       string `json:"job"`
		Artifacts bool   `json:"artifacts"`
	} `json:"needs"`
}

func glList(t *testing.T, bin, dir string, args ...string) []glJob {
	t.Helper()
	out, err := gitlabCILocal(t, bin, dir, append(args, "--list-json")...)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []glJob
	if err := json.Unmarshal([]byte(out), &jobs); err != nil {
		t.Fatalf("--list-json printed %q: %v", out, err)
	}
	return jobs
}

// .gitlab-ci.yml with its include ci/gitlab/dagger.yml, and the child pipeline prepare generates for
// the real catalogue, go through gitlab-ci-local: GitLab's JSON schema for .gitlab-ci.yml, then its
// own checks (includes found, extends resolved, every job with a script or trigger, stages and needs
// that exist, script items that are strings). Its --preview is the configuration GitLab would run.
func TestGitLabCILocal(t *testing.T) {
	bin := tool(t, "CST_GITLAB_CI_LOCAL", "gitlab-ci-local")
	ids, matrix := catalogueMatrix(t)
	child, err := generate(t, "ci/gitlab/child-pipeline.sh", matrix)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		".gitlab-ci.yml":              readFile(t, ".gitlab-ci.yml"),
		"ci/gitlab/dagger.yml":        readFile(t, "ci/gitlab/dagger.yml"),
		"ci/gitlab/child-pipeline.sh": readFile(t, "ci/gitlab/child-pipeline.sh"),
		"ci/gitlab/publish.sh":        readFile(t, "ci/gitlab/publish.sh"),
		"dagger.json":                 readFile(t, "dagger.json"),
		"build-pipeline.yml":          child, // prepare's artifact
	}
	dir := glRepo(t, files)

	t.Run("parent", func(t *testing.T) {
		jobs := glList(t, bin, dir)
		if len(jobs) != 2 || jobs[0].Name != "prepare" || jobs[0].Stage != "prepare" ||
			jobs[1].Name != "build" || jobs[1].Stage != "build" ||
			len(jobs[1].Needs) != 1 || jobs[1].Needs[0].Job != "prepare" || !jobs[1].Needs[0].Artifacts {
			t.Errorf("jobs on a push to main = %+v, want prepare, then build needing it", jobs)
		}
		out, err := gitlabCILocal(t, bin, dir, "--preview")
		if err != nil {
			t.Fatal(err)
		}
		doc := parseYAML(t, "gitlab-ci-local --preview", []byte(out))
		prepare, _ := doc["prepare"].(map[string]any)
		if img, _ := prepare["image"].(map[string]any); img["name"] != "docker:27" {
			t.Errorf("prepare image %v, want docker:27 from .cst-dagger", prepare["image"])
		}
		before := shellStrings(prepare["before_script"])
		if len(before) == 0 || before[len(before)-1] != "dagger version" {
			t.Errorf("prepare before_script %q, want .cst-dagger's install ending in `dagger version`", before)
		}
		script := shellStrings(prepare["script"])
		if len(script) != 5 || script[0] != `dagger call matrix --os-filter "$OS_FILTER" > ci-matrix.json` ||
			script[1] != "jq -c .os ci-matrix.json > matrix.json" ||
			script[3] != "sh ci/gitlab/child-pipeline.sh matrix.json > build-pipeline.yml" {
			t.Errorf("prepare script %q", script)
		}
		trigger, _ := doc["build"].(map[string]any)["trigger"].(map[string]any)
		inc, _ := asList(trigger["include"])[0].(map[string]any)
		if inc["artifact"] != "build-pipeline.yml" || inc["job"] != "prepare" || trigger["strategy"] != "depend" {
			t.Errorf("build trigger %v", trigger)
		}
	})

	t.Run("child pipeline", func(t *testing.T) {
		// OS_FILTER comes from the parent (trigger: forward:); the rules of publish and release read it.
		jobs := glList(t, bin, dir, "--file", "build-pipeline.yml", "--variable", "OS_FILTER=all")
		if len(jobs) != len(ids)+2 {
			t.Fatalf("child pipeline has %d jobs %+v, want one per OS of the catalogue (%v), publish and release", len(jobs), jobs, ids)
		}
		for i, j := range jobs[:len(ids)] {
			if want := "build: [" + ids[i] + "]"; j.Name != want || j.Stage != "build" || j.When != "on_success" {
				t.Errorf("child job %d = %+v, want %q in stage build", i, j, want)
			}
		}
		publish, release := jobs[len(ids)], jobs[len(ids)+1]
		if publish.Name != "publish" || publish.Stage != "release" || publish.When != "on_success" ||
			len(publish.Needs) != 1 || publish.Needs[0].Job != "build" || !publish.Needs[0].Artifacts {
			t.Errorf("publish = %+v, want stage release after every build job, with their artifacts", publish)
		}
		if release.Name != "release" || release.Stage != "release" || release.When != "on_success" ||
			len(release.Needs) != 1 || release.Needs[0].Job != "publish" || !release.Needs[0].Artifacts {
			t.Errorf("release = %+v, want stage release after publish (its dotenv)", release)
		}
		// No release from a filtered run, without the parent's OS_FILTER, or on another branch.
		develop := glRepo(t, files)
		cmd := exec.Command("git", "checkout", "-q", "-b", "develop")
		cmd.Dir = develop
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git checkout -b develop: %v\n%s", err, out)
		}
		for _, tc := range []struct {
			dir  string
			vars []string
		}{
			{dir, []string{"--variable", "OS_FILTER=" + ids[0]}},
			{dir, nil},
			{develop, []string{"--variable", "OS_FILTER=all"}},
		} {
			for _, j := range glList(t, bin, tc.dir, append([]string{"--file", "build-pipeline.yml"}, tc.vars...)...) {
				if (j.Name == "publish" || j.Name == "release") && j.When != "never" {
					t.Errorf("with %v in %s, %s runs (%s)", tc.vars, tc.dir, j.Name, j.When)
				}
			}
		}
		out, err := gitlabCILocal(t, bin, dir, "--file", "build-pipeline.yml", "--preview")
		if err != nil {
			t.Fatal(err)
		}
		build, _ := parseYAML(t, "child --preview", []byte(out))["build"].(map[string]any)
		script := strings.Join(shellStrings(build["script"]), "\n")
		if !strings.Contains(script, `dagger call --actor "$GITLAB_USER_LOGIN" --origin "$CI_JOB_URL" --packer-version "$PACKER_VERSION"`) ||
			!strings.Contains(script, `--source-commit "$CI_COMMIT_SHA" build --os "$OS"`) || build["stage"] != "build" || build["timeout"] != "3h" ||
			!strings.Contains(strings.Join(shellStrings(build["after_script"]), "\n"), `dagger call audit export --path "records/$OS/audit.jsonl"`) {
			t.Errorf("child build job (after extends .cst-build) = %v", build)
		}
		var preview struct {
			Build struct {
				Parallel struct {
					Matrix []map[string][]string `yaml:"matrix"`
				} `yaml:"parallel"`
			} `yaml:"build"`
		}
		if err := yaml.Unmarshal([]byte(out), &preview); err != nil || len(preview.Build.Parallel.Matrix) != 1 ||
			strings.Join(preview.Build.Parallel.Matrix[0]["OS"], ",") != strings.Join(ids, ",") {
			t.Errorf("child matrix = %+v (%v), want OS: %v", preview.Build.Parallel.Matrix, err, ids)
		}
	})

	// The linter is live: an unknown keyword and a job without script both fail, for that reason.
	t.Run("refuses broken files", func(t *testing.T) {
		for _, tc := range []struct {
			name, want string
			edit       func(string) string
		}{
			{"unknown keyword", "'retries' property is not expected to be here at prepare", func(s string) string {
				return strings.Replace(s, "  timeout: 30m\n", "  timeout: 30m\n  retries: 2\n", 1)
			}},
			{"job without script", "prepare must have script specified", func(s string) string {
				return regexp.MustCompile(`(?s)\n  script:\n.*?\n  artifacts:`).ReplaceAllString(s, "\n  artifacts:")
			}},
		} {
			name, edit := tc.name, tc.edit
			bad := map[string][]byte{}
			for k, v := range files {
				bad[k] = v
			}
			src := edit(string(files[".gitlab-ci.yml"]))
			if src == string(files[".gitlab-ci.yml"]) {
				t.Fatalf("%s: the edit did not apply to .gitlab-ci.yml", name)
			}
			bad[".gitlab-ci.yml"] = []byte(src)
			if _, err := gitlabCILocal(t, bin, glRepo(t, bad), "--list-json"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("gitlab-ci-local on .gitlab-ci.yml with a %s: %v, want an error saying %q", name, err, tc.want)
			}
		}
	})
}

// pathRe matches a repository path named in a CI file's text (comments included).
var pathRe = regexp.MustCompile(`(?:^|[\s("'` + "`" + `])((?:ci|scripts|docs|\.github)/[A-Za-z0-9_./-]+\.(?:yml|yaml|sh|jq|md|json|go))`)

// Every file a CI file names (in a comment too) exists: the GitLab header once pointed at a
// ci/gitlab/build.yml that never did.
func TestCIFilesNameExistingFiles(t *testing.T) {
	files := []string{".gitlab-ci.yml", "ci/gitlab/dagger.yml", "ci/gitlab/child-pipeline.sh",
		"ci/buildkite/pipeline.yml", "ci/buildkite/build-steps.sh", "scripts/ci-tools.sh"}
	wf, _ := filepath.Glob(filepath.Join(root, ".github/workflows/*.yml"))
	for _, f := range wf {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	named := 0
	for _, f := range files {
		for _, m := range pathRe.FindAllStringSubmatch(string(readFile(t, f)), -1) {
			named++
			if p := m[1]; !fileExists(filepath.Join(root, p)) {
				t.Errorf("%s names %s, which does not exist", f, p)
			}
		}
	}
	if named < 5 {
		t.Errorf("only %d file names found in the CI files: the scan is broken", named)
	}
}
