//go:build e2e

package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The static checks are the module's Dagger checks: `dagger checks` lists them and runs them in
// containers on this tree, and each fails, naming the fault, on a tree with one planted.
func TestStaticChecks(t *testing.T) {
	t.Parallel()
	list := daggerCallRaw(t, 10*time.Minute, "checks", "-l").mustSucceed(t)
	for _, name := range []string{"lint-shell", "lint-workflows", "validate-cloud-configs", "validate-packer-templates"} {
		if !strings.Contains(list, name) {
			t.Errorf("dagger checks -l does not list %s:\n%s", name, list)
		}
	}

	t.Run("pass on this tree", func(t *testing.T) {
		// Run as `dagger checks` runs them, with the constructor's defaults; Packer's check compiles
		// Packer from source here (--tools source), since this engine reaches no HashiCorp release.
		daggerCallRaw(t, 40*time.Minute, "checks", "lint-shell", "lint-workflows", "validate-cloud-configs").mustSucceed(t)
		daggerCall(t, 40*time.Minute, "validate-packer-templates").mustSucceed(t)
	})

	t.Run("shellcheck finds a planted fault", func(t *testing.T) {
		tree := t.TempDir()
		writeTree(t, tree, map[string]string{
			"scripts/good.sh": "#!/usr/bin/env bash\nset -eu\necho \"$1\"\n",
			"scripts/bad.sh":  "#!/usr/bin/env bash\nfor f in $(ls *.txt); do rm $f; done\n",
		})
		daggerCall(t, 15*time.Minute, "lint-shell", "--repo", tree).
			mustFailWith(t, "ShellCheck fails on: scripts/bad.sh", "SC2045")
	})

	t.Run("actionlint finds a planted fault", func(t *testing.T) {
		tree := t.TempDir()
		writeTree(t, tree, map[string]string{
			".github/workflows/bad.yml": "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt.name }}\n",
		})
		daggerCall(t, 15*time.Minute, "lint-workflows", "--repo", tree).
			mustFailWith(t, "actionlint", "bad.yml", "evnt")
	})
}

// writeTree writes files (relative path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
