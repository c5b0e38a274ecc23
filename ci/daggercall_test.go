package ci

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func loadModule(t *testing.T) *Module {
	t.Helper()
	m, err := LoadModule(filepath.Join(root, "pipeline"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKebab(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"osFilter", "os-filter"},
		{"trivyDb", "trivy-db"},
		{"trivyDB", "trivy-db"},
		{"packerVersion", "packer-version"},
		{"skipValidation", "skip-validation"},
		{"os", "os"},
		{"FetchIso", "fetch-iso"},
		{"BuildAll", "build-all"},
		{"PackerBuild", "packer-build"},
		{"ISOUrl", "iso-url"},
		{"sshTimeout", "ssh-timeout"},
		{"qemu2Img", "qemu-2-img"},
		{"qcow2Compression", "qcow-2-compression"},
		{"qcow2-compression", "qcow-2-compression"},
		{"json", "json"},
	} {
		if got := Kebab(tc.in); got != tc.want {
			t.Errorf("Kebab(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The module as pipeline/ declares it: a few facts the CI files rely on, so that a rename shows up
// here as well as in the call checks.
func TestModuleFunctions(t *testing.T) {
	m := loadModule(t)
	if _, ok := m.Functions["new"]; ok {
		t.Error("New is the constructor, not a function")
	}
	// What every build shares is the module's configuration, given once before the function.
	for _, f := range []string{"source", "accel", "packer-version", "qemu-version", "mirror", "mirror-service", "trivy-db", "source-commit"} {
		if _, ok := m.Constructor[f]; !ok {
			t.Errorf("New has no --%s argument: constructor flags %s", f, keys(m.Constructor))
		}
	}
	for _, tc := range []struct {
		fn    string
		flags []string
		bools []string
	}{
		{"list", []string{"format"}, nil},
		{"build", []string{"os", "formats", "skip-validation", "fail-on", "iso"}, []string{"skip-validation"}},
		{"build-all", []string{"os-filter", "parallel"}, []string{"skip-validation", "skip-scan"}},
	} {
		fn, ok := m.Functions[tc.fn]
		if !ok {
			t.Errorf("no function %s (have %s)", tc.fn, functionNames(m))
			continue
		}
		if _, ok := fn.Params["ctx"]; ok {
			t.Errorf("%s: ctx context.Context must not be a flag", tc.fn)
		}
		for _, f := range tc.flags {
			if _, ok := fn.Params[f]; !ok {
				t.Errorf("%s has no --%s (has %s)", tc.fn, f, keys(fn.Params))
			}
		}
		for _, f := range tc.bools {
			if !fn.Params[f].Bool {
				t.Errorf("%s --%s should be a bool flag", tc.fn, f)
			}
		}
	}
}

func TestExtractCalls(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // each call's words, space-joined
	}{
		{"simple", "dagger call list --format json > catalogue.json", []string{"list --format json"}},
		{"continuations", "dagger call build --os \"$OS_ID\" \\\n  --formats \"$PACKER_FORMAT\" \\\n  export --path \"out/$OS_ID\"",
			[]string{"build --os $OS_ID --formats $PACKER_FORMAT export --path out/$OS_ID"}},
		{"global flags", "dagger --progress plain call -m . list", []string{"-m . list"}},
		{"pipe and and", "x=1 && dagger call list --format json | jq . ; dagger call build --os a", []string{"list --format json", "build --os a"}},
		{"comment", "# dagger call nope\necho hi # dagger call nope", nil},
		{"quoted is text", `echo "dagger call nope"`, nil},
		{"substitution", `ids=$(dagger call list --format json)`, []string{"list --format json"}},
		{"not call", "dagger version; dagger functions", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := ExtractCalls("t", tc.text)
			var got []string
			for _, c := range calls {
				got = append(got, strings.Join(c.Args, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The checker itself: it must reject what a rename or a typo would leave behind.
func TestCheckCallRejects(t *testing.T) {
	m := loadModule(t)
	for _, tc := range []struct {
		name, cmd string
		errHas    string // "" = the call is valid
	}{
		{"valid build", `dagger call --source-commit abc build --os x --skip-validation="$SKIP_VALIDATION" export --path out/x`, ""},
		{"module flag after the function", `dagger call build --os x --source-commit abc`, "no flag --source-commit"},
		{"valid bool without value", `dagger call build --os x --skip-scan --formats qcow2 export --path out`, ""},
		{"valid list", `dagger call list --format json`, ""},
		{"valid constructor flag", `dagger call --source=. --trivy-db ./db build-all --os-filter all export --path out`, ""},
		{"valid chained core call", `dagger call --packer-version 1.9.4 toolchain with-exec --args packer,version stdout`, ""},
		{"renamed function", `dagger call bild --os x`, `no function "bild"`},
		{"unknown flag", `dagger call build --no-such-flag`, "no flag --no-such-flag"},
		{"flag of another function", `dagger call build --os-filter all`, "no flag --os-filter"},
		{"camelCase flag, which the CLI normalizes", `dagger call --packerVersion 1.9.4 build --skipScan`, ""},
		{"digits kept in the word, which the CLI normalizes", `dagger call --qcow2-compression zstd build --os x`, ""},
		{"unknown camelCase flag", `dagger call build --skipScans`, "no flag --skip-scans"},
		{"unknown flag before the function", `dagger call --sauce . build --os x`, "--sauce"},
		{"missing value", `dagger call build --os`, "needs a value"},
		{"no function", `dagger call --source .`, "no function named"},
		{"stray word", `dagger call build --os x bogus`, `"bogus"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := ExtractCalls("t", tc.cmd)
			if len(calls) != 1 {
				t.Fatalf("want 1 call in %q, got %d", tc.cmd, len(calls))
			}
			testcheck.Err(t, m.CheckCall(calls[0]), tc.errHas)
		})
	}
}

// Every `dagger call` in every CI file, in the pipelines the generators print, in the README and in
// docs/*.md names a function the module has, with flags that function takes.
func TestEveryDaggerCallMatchesTheModule(t *testing.T) {
	m := loadModule(t)
	type source struct {
		name  string
		calls []Call
		min   int // the file is expected to hold at least this many calls
	}
	var sources []source
	yamlFiles := []struct {
		rel string
		min int
	}{
		{".github/workflows/build-templates.yml", 2},
		{".github/workflows/test.yml", 0},
		{".gitlab-ci.yml", 1},
		{"ci/gitlab/dagger.yml", 1},
		{"ci/buildkite/pipeline.yml", 1},
	}
	for _, f := range yamlFiles {
		sources = append(sources, source{f.rel, yamlCalls(f.rel, parseYAML(t, f.rel, readFile(t, f.rel))), f.min})
	}
	if more, _ := filepath.Glob(filepath.Join(root, ".github/workflows/*.y*ml")); len(more) != 2 {
		t.Errorf("workflows %v: add new ones to this test's list", more)
	}
	matrix := `["ubuntu-22.04","rocky-9"]`
	for _, g := range []string{"ci/gitlab/child-pipeline.sh", "ci/buildkite/build-steps.sh"} {
		out, err := generate(t, g, matrix)
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		min := 0
		if strings.Contains(g, "buildkite") {
			min = 2 // one build step per OS
		}
		sources = append(sources, source{g + " output", yamlCalls(g+" output", parseYAML(t, g, out)), min})
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if fileExists(filepath.Join(root, "README.md")) {
		docs = append(docs, filepath.Join(root, "README.md"))
	}
	docsCalls := 0
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		calls := markdownCalls(rel, readFile(t, rel))
		docsCalls += len(calls)
		sources = append(sources, source{rel, calls, 0})
	}
	if docsCalls == 0 {
		t.Error("no `dagger call` in any fenced block of README.md or docs/*.md: the doc scan is broken")
	}
	total := 0
	for _, s := range sources {
		if len(s.calls) < s.min {
			t.Errorf("%s: %d dagger calls found, want at least %d (did the extraction break?)", s.name, len(s.calls), s.min)
		}
		for _, c := range s.calls {
			total++
			if err := m.CheckCall(c); err != nil {
				t.Error(err)
			}
		}
	}
	t.Logf("checked %d dagger calls in %d files", total, len(sources))
}
