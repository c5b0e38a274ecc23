package ci

import (
	"os"
	"os/exec"
)

// runWithFakes runs a CI script the way its platform would, in dir, but with bin first on PATH so
// that the tools it calls (dagger, curl) are the test's fakes; env adds the platform's variables.
// It returns what the script printed, stdout and stderr interleaved.
func runWithFakes(dir, bin string, env []string, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
