package osdefs

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/checksum/checksumtest"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/guest"
)

// defaultToolsBin is where scripts/tools.sh caches the tools it builds.
const defaultToolsBin = "/var/lib/cloudstack-templates/tools/bin"

// packerBinary finds Packer: $CST_PACKER, then PATH, then scripts/tools.sh's cache. A missing Packer
// fails the test: skipping would report a check that never ran as passed.
func packerBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CST_PACKER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("packer"); err == nil {
		return p
	}
	if p := filepath.Join(defaultToolsBin, "packer"); isExecutable(p) {
		return p
	}
	t.Fatal("packer not found (CST_PACKER, PATH, " + defaultToolsBin + "): run scripts/tools.sh, which builds Packer v1.9.4 from the Go module proxy")
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// writeBuildDir lays out what the pipeline hands Packer: the template, the install configs under
// http/ and the guest scripts under scripts/.
func writeBuildDir(t *testing.T, d Definition) string {
	t.Helper()
	dir := t.TempDir()
	hcl, err := RenderPacker(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TemplateFile), hcl, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "http"), 0o755); err != nil {
		t.Fatal(err)
	}
	if d.HTTPDir != "" {
		files, err := HTTPFiles(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(filepath.Join(dir, "http"), files); err != nil {
			t.Fatal(err)
		}
	}
	scripts, err := fs.Sub(guest.Scripts, ".")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, ScriptsDir), scripts); err != nil {
		t.Fatal(err)
	}
	return dir
}

func packerValidate(t *testing.T, packer, dir string, vars ...string) (string, error) {
	args := []string{"validate"}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	cmd := exec.Command(packer, append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_CONFIG_DIR="+t.TempDir(), "PACKER_PLUGIN_PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPackerValidate(t *testing.T) {
	packer := packerBinary(t)
	out, err := exec.Command(packer, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Packer v1.9.4") {
		t.Fatalf("%s is not Packer v1.9.4 (%v): %s; run scripts/tools.sh", packer, err, out)
	}
	for _, d := range All() {
		t.Run(d.ID, func(t *testing.T) {
			dir := writeBuildDir(t, d)
			digest := d.Source.PinnedDigest
			if digest == "" {
				digest = checksumtest.Synth256(d.ID)
			}
			vars := []string{
				"accelerator=tcg",
				"iso_url=" + d.Source.URL,
				"iso_checksum=" + d.Source.Algorithm + ":" + digest,
			}
			if out, err := packerValidate(t, packer, dir, vars...); err != nil {
				t.Fatalf("packer validate: %v\n%s", err, out)
			}
			// The same template must be refused with an accelerator the validation block rejects:
			// proof that validate really evaluated it.
			bad := append([]string{"accelerator=hvf"}, vars[1:]...)
			if out, err := packerValidate(t, packer, dir, bad...); err == nil {
				t.Fatalf("packer validate accepted accelerator=hvf:\n%s", out)
			}
		})
	}
}
