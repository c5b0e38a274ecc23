// Package scripts holds the scripts that run on the host (engine bring-up, fixtures, tools, the test
// and main jobs); this test lints them.
package scripts

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Every host script passes ShellCheck, following what it sources.
func TestHostScriptsShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck not found: run scripts/tools.sh (installs Debian's shellcheck)")
	}
	files, err := filepath.Glob("*.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"lib", "packerrun"} {
		more, _ := filepath.Glob(dir + "/*.sh")
		files = append(files, more...)
	}
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			if out, err := exec.Command(sc, "-x", f).CombinedOutput(); err != nil {
				t.Fatalf("shellcheck %s: %v\n%s", f, err, out)
			}
		})
	}
}
