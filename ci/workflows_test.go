package ci

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// actionlint (with ShellCheck on every run: block) passes on the GitHub workflows.
func TestActionlint(t *testing.T) {
	actionlint := tool(t, "CST_ACTIONLINT", "actionlint")
	shellcheck := tool(t, "CST_SHELLCHECK", "shellcheck")
	files, _ := filepath.Glob(filepath.Join(root, ".github/workflows/*.yml"))
	if len(files) == 0 {
		t.Fatal("no workflows under .github/workflows")
	}
	args := append([]string{"-no-color", "-shellcheck", shellcheck}, files...)
	out, err := exec.Command(actionlint, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("actionlint %v: %v\n%s", files, err, out)
	}
}

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
				if p, ok := job["permissions"]; ok && name != "release" {
					t.Errorf("job %s widens permissions to %v", name, p)
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
	if runsOn := build["runs-on"]; runsOn != "ubuntu-latest" {
		t.Errorf("build runs on %v, want ubuntu-latest (x86 with KVM)", runsOn)
	}
	matrix, _ := build["strategy"].(map[string]any)["matrix"].(map[string]any)
	if os, _ := matrix["os"].(string); !strings.Contains(os, "needs.prepare.outputs") {
		t.Errorf("build matrix %v does not come from the prepare job", matrix)
	}
	text := string(readFile(t, ".github/workflows/build-templates.yml"))
	for _, want := range []string{`KERNEL=="kvm", GROUP="kvm", MODE="0666"`, "ci/matrix.jq", "jq -er .engineVersion dagger.json", "retention-days"} {
		if !strings.Contains(text, want) {
			t.Errorf("build-templates.yml lacks %q", want)
		}
	}
	release := jobs["release"].(map[string]any)
	if p := release["permissions"]; !reflect.DeepEqual(p, map[string]any{"contents": "write"}) {
		t.Errorf("release permissions = %v, want {contents: write}", p)
	}
	if cond, _ := release["if"].(string); !strings.Contains(cond, "refs/heads/main") {
		t.Errorf("release runs when %q; want only on main", cond)
	}
}

// ci/matrix.jq picks exactly the catalogue's non-fixture OSes, by ID or alias, and refuses fixtures
// and unknown names instead of building nothing.
func TestMatrixFilter(t *testing.T) {
	jq := tool(t, "CST_JQ", "jq")
	catalogue, err := osdefs.CatalogueJSON()
	if err != nil {
		t.Fatal(err)
	}
	var buildable, fixtures []string
	var alias, aliasOf string
	for _, e := range osdefs.Entries() {
		if e.Fixture {
			fixtures = append(fixtures, e.ID)
			continue
		}
		buildable = append(buildable, e.ID)
		if alias == "" && len(e.Aliases) > 0 {
			alias, aliasOf = e.Aliases[0], e.ID
		}
	}
	if len(buildable) < 2 || len(fixtures) == 0 || alias == "" {
		t.Fatalf("catalogue too small for this test: buildable %v, fixtures %v", buildable, fixtures)
	}
	run := func(filter string) ([]string, error) {
		cmd := exec.Command(jq, "-c", "--arg", "filter", filter, "-f", filepath.Join(root, "ci/matrix.jq"))
		cmd.Stdin = strings.NewReader(catalogue)
		out, err := cmd.Output()
		if err != nil {
			return nil, err
		}
		var ids []string
		if err := json.Unmarshal(out, &ids); err != nil {
			return nil, err
		}
		return ids, nil
	}
	for _, tc := range []struct {
		filter string
		want   []string // nil: must fail
	}{
		{"all", buildable},
		{"", buildable},
		{buildable[1], []string{buildable[1]}},
		{alias, []string{aliasOf}},
		{buildable[1] + ", " + buildable[0], sortedCopy([]string{buildable[0], buildable[1]})}, // sorted, unique
		{buildable[0] + "," + buildable[0], []string{buildable[0]}},
		{fixtures[0], nil},
		{"no-such-os", nil},
		{buildable[0] + ",no-such-os", nil},
	} {
		t.Run("filter="+tc.filter, func(t *testing.T) {
			got, err := run(tc.filter)
			if tc.want == nil {
				if err == nil {
					t.Errorf("accepted, gave %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("jq: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}
