package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository root, seen from this package's directory (where go test runs).
const root = ".."

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return b
}

func parseYAML(t *testing.T, name string, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", name, err)
	}
	if len(doc) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return doc
}

// shellKeys are the keys whose values are shell in the three CI dialects.
var shellKeys = map[string]bool{
	"run": true, "script": true, "before_script": true, "after_script": true, "command": true, "commands": true,
}

// yamlCalls walks a parsed CI file and extracts the `dagger call`s from every shell value, and from
// dagger/dagger-for-github's `call:` / `args:` inputs (which are the words after `dagger call`).
func yamlCalls(source string, node any) []Call {
	var out []Call
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch v := n.(type) {
		case map[string]any:
			if uses, _ := v["uses"].(string); strings.HasPrefix(uses, "dagger/dagger-for-github@") {
				if with, ok := v["with"].(map[string]any); ok {
					verb, _ := with["verb"].(string)
					for _, k := range []string{"call", "args"} {
						if s, _ := with[k].(string); s != "" && (k == "call" || verb == "" || verb == "call") {
							out = append(out, ExtractCalls(source+" "+path+".with."+k, "dagger call "+s)...)
						}
					}
				}
			}
			for k, child := range v {
				if shellKeys[k] {
					for i, s := range shellStrings(child) {
						out = append(out, ExtractCalls(source+" "+path+"."+k+"["+strconv.Itoa(i)+"]", s)...)
					}
					continue
				}
				walk(path+"."+k, child)
			}
		case []any:
			for i, child := range v {
				walk(path+"["+strconv.Itoa(i)+"]", child)
			}
		}
	}
	walk("", node)
	return out
}

func shellStrings(n any) []string {
	switch v := n.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, shellStrings(e)...)
		}
		return out
	}
	return nil
}

var fenceRe = regexp.MustCompile("(?s)```[a-zA-Z]*\n(.*?)```")

// markdownCalls extracts the `dagger call`s from a Markdown file's fenced code blocks.
func markdownCalls(source string, b []byte) []Call {
	var out []Call
	for _, m := range fenceRe.FindAllSubmatch(b, -1) {
		out = append(out, ExtractCalls(source, string(m[1]))...)
	}
	return out
}

// tool finds a command: the env variable if set, else PATH, else the directory scripts/ci-tools.sh
// installs into ($CST_TOOLS_DIR/bin). A missing tool fails the test with the command that installs it.
func tool(t *testing.T, envVar, name string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", envVar, p, err)
		}
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join(toolsDir(), "bin", name); fileExists(p) {
		return p
	}
	t.Fatalf("%s not found (set %s or put it on PATH): run scripts/ci-tools.sh, which installs it", name, envVar)
	return ""
}

// toolsDir is where scripts/ci-tools.sh installs: $CST_TOOLS_DIR, as the script reads it.
func toolsDir() string {
	if d := os.Getenv("CST_TOOLS_DIR"); d != "" {
		return d
	}
	return "/var/lib/cloudstack-templates/tools"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// generate runs one of the pipeline generators (ci/gitlab/child-pipeline.sh,
// ci/buildkite/build-steps.sh) on a matrix file and returns what it prints.
func generate(t *testing.T, script string, matrixJSON string) ([]byte, error) {
	t.Helper()
	tool(t, "CST_JQ", "jq")
	f := filepath.Join(t.TempDir(), "matrix.json")
	if err := os.WriteFile(f, []byte(matrixJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", filepath.Join(root, script), f)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &genError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type genError struct {
	err    error
	stderr string
}

func (e *genError) Error() string { return e.err.Error() + ": " + e.stderr }
