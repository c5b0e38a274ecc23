package ci

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
)

const modulePath = "github.com/cloudstack-templates/cloudstack-templates/"

// rootPackages lists the repository's own packages that the packages given import, relative to the
// repository (e.g. "fetch", "scripts/guest"), as `go list -deps` reports them.
func rootPackages(t *testing.T, dir string, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v in %s: %v", pkgs, dir, err)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), modulePath); ok {
			set[rest] = true
		}
	}
	var top []string
	for p := range set {
		top = append(top, p)
	}
	sort.Strings(top)
	return top
}

// The engine sees only what dagger.json includes, and the commands the module compiles in the engine
// see only what New's source argument lets through: a package missing from either list builds on
// a laptop and fails in the engine, so both are checked against what the code imports.
func TestModuleSourcesCoverImports(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Include []string `json:"include"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	// covered reports whether one of the directory patterns ("dir/**" or "!dir/") holds pkg.
	covered := func(pkg string, patterns []string, prefix, suffix string) bool {
		for _, p := range patterns {
			if dir, ok := strings.CutSuffix(strings.TrimPrefix(p, prefix), suffix); ok && strings.HasPrefix(p, prefix) &&
				(pkg == dir || strings.HasPrefix(pkg, dir+"/")) {
				return true
			}
		}
		return false
	}
	included := func(pkg string) bool { return covered(pkg, cfg.Include, "", "/**") }
	for _, pkg := range rootPackages(t, filepath.Join(root, "pipeline"), ".") {
		if !included(pkg) {
			t.Errorf("the module imports %s/, which dagger.json's include leaves out", pkg)
		}
	}

	main, err := os.ReadFile(filepath.Join(root, "pipeline", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	ignore := regexp.MustCompile(`(?m)^\s*// \+ignore=(\[.*\])$`).FindSubmatch(main)
	if ignore == nil {
		t.Fatal("pipeline/main.go: New's source argument has no +ignore list")
	}
	var patterns []string
	if err := json.Unmarshal(ignore[1], &patterns); err != nil {
		t.Fatalf("New's +ignore is not a JSON list: %v", err)
	}
	// The commands the module compiles from its source: repoCommand("<name>") builds ./cmd/<name>.
	var cmds []string
	srcs, _ := filepath.Glob(filepath.Join(root, "pipeline", "*.go"))
	for _, f := range srcs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`repoCommand\("([a-z0-9-]+)"\)`).FindAllSubmatch(b, -1) {
			cmds = append(cmds, "./cmd/"+string(m[1]))
		}
	}
	if len(cmds) == 0 {
		t.Fatal("no repoCommand(...) call found in pipeline/: the check would check nothing")
	}
	slices.Sort(cmds)
	cmds = slices.Compact(cmds)
	for _, pkg := range rootPackages(t, root, cmds...) {
		if !covered(pkg, patterns, "!", "/") {
			t.Errorf("%v import %s/, which New's source +ignore does not let through (add \"!%s/\")", cmds, pkg, pkg)
		}
		if !included(pkg) {
			t.Errorf("%v import %s/, which dagger.json's include leaves out", cmds, pkg)
		}
	}
}

// enumValues reads the values of the module's Dagger enum typ from pipeline/choices.go.
func enumValues(t *testing.T, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "pipeline", "choices.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			id, ok := vs.Type.(*ast.Ident)
			if !ok || id.Name != typ {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: a value that is not a string literal", typ)
				}
				s, _ := strconv.Unquote(lit.Value)
				vals = append(vals, s)
			}
		}
	}
	if len(vals) == 0 {
		t.Fatalf("pipeline/choices.go declares no %s values", typ)
	}
	return vals
}

// The module's enums and the packages that act on their values list the same choices.
func TestModuleEnums(t *testing.T) {
	t.Run("Accelerator", func(t *testing.T) {
		got := enumValues(t, "Accelerator")
		want := []string{accelerator.AccelAuto, accelerator.AccelKVM, accelerator.AccelTCG}
		if !slices.Equal(got, want) {
			t.Errorf("Accelerator enum %v, accelerator package %v", got, want)
		}
		for _, v := range got {
			if err := accelerator.Check(v); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("Severity", func(t *testing.T) {
		got := enumValues(t, "Severity")
		var want []string
		for s := artifacts.SeverityUnknown; s <= artifacts.SeverityNone; s++ {
			want = append(want, s.String())
		}
		a, b := slices.Clone(got), slices.Clone(want)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("Severity enum %v, artifacts severities %v", got, want)
		}
		for _, v := range got {
			if _, err := artifacts.ParseSeverity(v); err != nil {
				t.Error(err)
			}
		}
	})
}
