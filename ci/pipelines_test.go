package ci

import (
	"strings"
	"testing"
)

// .gitlab-ci.yml, its include and the child pipeline prepare generates have the structure GitLab
// needs: declared stages, every job with a script (or a trigger), stages that exist.
func TestGitLabStructure(t *testing.T) {
	parent := parseYAML(t, ".gitlab-ci.yml", readFile(t, ".gitlab-ci.yml"))
	templates := parseYAML(t, "ci/gitlab/dagger.yml", readFile(t, "ci/gitlab/dagger.yml"))
	child, err := generate(t, "ci/gitlab/child-pipeline.sh", `["ubuntu-22.04","rocky-9"]`)
	if err != nil {
		t.Fatal(err)
	}
	childDoc := parseYAML(t, "child pipeline", child)

	for _, tc := range []struct {
		name string
		doc  map[string]any
		jobs []string
	}{
		{".gitlab-ci.yml", parent, []string{"prepare", "build"}},
		{"child pipeline", childDoc, []string{"build", "publish", "release"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stages := map[string]bool{}
			for _, s := range asList(tc.doc["stages"]) {
				stages[s.(string)] = true
			}
			if len(stages) == 0 {
				t.Fatal("no stages")
			}
			for _, name := range tc.jobs {
				job, ok := tc.doc[name].(map[string]any)
				if !ok {
					t.Fatalf("no job %s", name)
				}
				job = resolveExtends(t, job, templates)
				if job["script"] == nil && job["trigger"] == nil {
					t.Errorf("job %s has neither script nor trigger", name)
				}
				if st, _ := job["stage"].(string); !stages[st] {
					t.Errorf("job %s: stage %q is not among %v", name, st, tc.doc["stages"])
				}
			}
		})
	}

	// The matrix is the prepare job's output, not a list kept in YAML.
	build := childDoc["build"].(map[string]any)
	matrix := asList(build["parallel"].(map[string]any)["matrix"])
	oses := asList(matrix[0].(map[string]any)["OS"])
	if len(oses) != 2 || oses[0] != "ubuntu-22.04" || oses[1] != "rocky-9" {
		t.Errorf("child matrix OS = %v", oses)
	}
	// Releases come from the child pipeline, where the templates are: publish (size check, generic
	// packages) then release (the `release:` keyword), both only on the default branch for a full
	// catalogue.
	for name, tpl := range map[string]string{"publish": ".cst-publish", "release": ".cst-release"} {
		job := resolveExtends(t, childDoc[name].(map[string]any), templates)
		if ext, _ := childDoc[name].(map[string]any)["extends"].(string); ext != tpl {
			t.Errorf("child job %s extends %v, want %s", name, childDoc[name].(map[string]any)["extends"], tpl)
		}
		rules := asList(job["rules"])
		if len(rules) != 1 || rules[0].(map[string]any)["if"] != `$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $OS_FILTER == "all"` {
			t.Errorf("%s rules = %v, want the default branch and OS_FILTER all only", name, rules)
		}
	}
	publish := resolveExtends(t, childDoc["publish"].(map[string]any), templates)
	if !strings.Contains(strings.Join(shellStrings(publish["script"]), "\n"), "sh ci/gitlab/publish.sh out") {
		t.Errorf("publish does not run ci/gitlab/publish.sh: %v", publish["script"])
	}
	release := resolveExtends(t, childDoc["release"].(map[string]any), templates)
	rel, _ := release["release"].(map[string]any)
	if rel["tag_name"] != "$RELEASE_TAG" || rel["ref"] != "$CI_COMMIT_SHA" {
		t.Errorf("release keyword = %v, want tag $RELEASE_TAG (publish's dotenv) on $CI_COMMIT_SHA", rel)
	}
	trigger := parent["build"].(map[string]any)["trigger"].(map[string]any)
	inc := asList(trigger["include"])[0].(map[string]any)
	if inc["artifact"] != "build-pipeline.yml" || inc["job"] != "prepare" {
		t.Errorf("build triggers %v, want prepare's build-pipeline.yml artifact", inc)
	}
	if !strings.Contains(string(readFile(t, ".gitlab-ci.yml")), "_EXPERIMENTAL_DAGGER_RUNNER_HOST") {
		t.Error(".gitlab-ci.yml does not document the remote engine variable")
	}
	for _, bad := range []string{`[]`, `{"a":1}`, `["a", 2]`} {
		if _, err := generate(t, "ci/gitlab/child-pipeline.sh", bad); err == nil {
			t.Errorf("child-pipeline.sh accepted matrix %s", bad)
		}
	}
}

// resolveExtends merges a job's `extends:` templates (from the same include) under it.
func resolveExtends(t *testing.T, job, templates map[string]any) map[string]any {
	t.Helper()
	ext, ok := job["extends"]
	if !ok {
		return job
	}
	merged := map[string]any{}
	names := asList(ext)
	if s, ok := ext.(string); ok {
		names = []any{s}
	}
	for _, n := range names {
		tpl, ok := templates[n.(string)].(map[string]any)
		if !ok {
			t.Fatalf("extends %s: no such template in ci/gitlab/dagger.yml", n)
		}
		for k, v := range resolveExtends(t, tpl, templates) {
			merged[k] = v
		}
	}
	for k, v := range job {
		merged[k] = v
	}
	return merged
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// ci/buildkite/pipeline.yml and the steps its prepare step uploads have Buildkite's structure: steps
// (or groups of steps) each with a command/commands; one build step per OS, its ID in the env.
func TestBuildkiteStructure(t *testing.T) {
	static := parseYAML(t, "ci/buildkite/pipeline.yml", readFile(t, "ci/buildkite/pipeline.yml"))
	out, err := generate(t, "ci/buildkite/build-steps.sh", `["ubuntu-22.04","rocky-9","fedora-41"]`)
	if err != nil {
		t.Fatal(err)
	}
	generated := parseYAML(t, "build-steps.sh output", out)

	countCommandSteps := func(t *testing.T, doc map[string]any) []map[string]any {
		var steps []map[string]any
		var walk func(list []any)
		walk = func(list []any) {
			for i, s := range list {
				step, ok := s.(map[string]any)
				if !ok {
					t.Errorf("step %d is not a mapping: %v", i, s)
					continue
				}
				if group, ok := step["steps"]; ok {
					walk(asList(group))
					continue
				}
				if step["command"] == nil && step["commands"] == nil {
					t.Errorf("step %v has neither command nor commands", step["label"])
				}
				steps = append(steps, step)
			}
		}
		list := asList(doc["steps"])
		if len(list) == 0 {
			t.Fatal("no steps")
		}
		walk(list)
		return steps
	}
	if n := len(countCommandSteps(t, static)); n != 1 {
		t.Errorf("pipeline.yml has %d command steps, want 1 (prepare)", n)
	}
	steps := countCommandSteps(t, generated)
	var ids []string
	keys := map[string]bool{}
	for _, s := range steps {
		env, _ := s["env"].(map[string]any)
		id, _ := env["OS_ID"].(string)
		ids = append(ids, id)
		k, _ := s["key"].(string)
		if keys[k] {
			t.Errorf("duplicate step key %q", k)
		}
		keys[k] = true
	}
	if strings.Join(ids, ",") != "ubuntu-22.04,rocky-9,fedora-41" {
		t.Errorf("build steps for %v", ids)
	}
	if !strings.Contains(string(readFile(t, "ci/buildkite/pipeline.yml")), "buildkite-agent pipeline upload --no-interpolation") {
		t.Error("prepare does not upload the generated steps verbatim (--no-interpolation)")
	}
	for _, bad := range []string{`[]`, `["a b"]`, `["ok","$(rm -rf /)"]`} {
		if _, err := generate(t, "ci/buildkite/build-steps.sh", bad); err == nil {
			t.Errorf("build-steps.sh accepted matrix %s", bad)
		}
	}
}
