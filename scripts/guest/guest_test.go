package guest

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestShellcheck lints every shell script under scripts/ with ShellCheck (Debian's package). The guest
// scripts and tools.sh must be clean at every severity; the other scripts (engine, testbed) at
// warning and above, so style notes in them are their owners' call.
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck not found: run scripts/tools.sh (installs Debian's shellcheck)")
	}
	var scripts []string
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".sh") {
			scripts = append(scripts, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cloudstack.sh", "cleanup.sh"} {
		if !contains(scripts, filepath.Join("..", "guest", want)) {
			t.Fatalf("walk of scripts/ missed guest/%s: %v", want, scripts)
		}
	}
	for _, s := range scripts {
		t.Run(strings.TrimPrefix(s, "../"), func(t *testing.T) {
			severity := "warning"
			if strings.HasPrefix(s, filepath.Join("..", "guest")) || s == filepath.Join("..", "tools.sh") {
				severity = "style"
			}
			out, err := exec.Command(sc, "--shell=bash", "--severity="+severity, s).CombinedOutput()
			if err != nil {
				t.Fatalf("shellcheck %s: %v\n%s", s, err, out)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEmbeddedScripts guards the pipeline's view: both provisioners embedded, executable-as-bash, strict.
func TestEmbeddedScripts(t *testing.T) {
	for _, name := range []string{"cloudstack.sh", "cleanup.sh"} {
		b, err := fs.ReadFile(Scripts, name)
		if err != nil {
			t.Fatalf("%s not embedded: %v", name, err)
		}
		if !bytes.HasPrefix(b, []byte("#!/bin/bash\n")) {
			t.Errorf("%s must start with #!/bin/bash", name)
		}
		if !bytes.Contains(b, []byte("\nset -euo pipefail\n")) {
			t.Errorf("%s must run with set -euo pipefail", name)
		}
	}
}

// The cloud-init config cloudstack.sh writes is the heredoc between <<'CLOUDCFG' and CLOUDCFG.
var cloudCfgHeredoc = regexp.MustCompile(`(?s)<<'CLOUDCFG'\n(.*?\n)CLOUDCFG\n`)

func TestCloudStackConfigIsWhatTheScriptWrites(t *testing.T) {
	script, err := fs.ReadFile(Scripts, "cloudstack.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := cloudCfgHeredoc.FindAllSubmatch(script, -1)
	if len(m) != 1 {
		t.Fatalf("cloudstack.sh must hold exactly one CLOUDCFG heredoc, found %d", len(m))
	}
	if !bytes.Equal(m[0][1], CloudStackConfig) {
		t.Fatal("the heredoc in cloudstack.sh differs from scripts/guest/99-cloudstack.cfg: keep them byte-identical")
	}
	if !bytes.Contains(script, []byte("cat >/etc/cloud/cloud.cfg.d/99-cloudstack.cfg <<'CLOUDCFG'")) {
		t.Fatal("cloudstack.sh must write the heredoc to /etc/cloud/cloud.cfg.d/99-cloudstack.cfg")
	}
}

func TestCloudStackConfigContent(t *testing.T) {
	cfg := string(CloudStackConfig)
	for _, want := range []string{
		"#cloud-config\n",
		"datasource_list: [ ConfigDrive, CloudStack, None ]\n",
		"ssh_pwauth: true\n",
		"disable_root: false\n",
		"resize_rootfs: true\n",
		"  mode: auto\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("99-cloudstack.cfg lacks %q", want)
		}
	}
	script, _ := fs.ReadFile(Scripts, "cloudstack.sh")
	for _, want := range []string{
		"/etc/cloud/cloud.cfg.d/99-testbed-build.cfg", // build-only config removed
		"[\\2, always]",                    // set_passwords and ssh on every boot
		"/etc/cloudstack-template-release", // release mark
		"CST_OS_ID=", "CST_OS_NAME=", "CST_OS_VERSION=", "CST_BUILD_INFO=",
		"cloud-guest-utils", "cloud-utils-growpart", "qemu-guest-agent",
	} {
		if !strings.Contains(string(script), want) {
			t.Errorf("cloudstack.sh lacks %q", want)
		}
	}
}

// TestCloudStackConfigSchema validates the exact bytes with Debian's `cloud-init schema`, and shows the
// check can fail by feeding it a broken variant.
func TestCloudStackConfigSchema(t *testing.T) {
	ci, err := exec.LookPath("cloud-init")
	if err != nil {
		t.Fatal("cloud-init not found: run scripts/tools.sh (installs Debian's cloud-init for `cloud-init schema`)")
	}
	tests := []struct {
		name    string
		cfg     []byte
		wantErr bool
	}{
		{"99-cloudstack.cfg", CloudStackConfig, false},
		{"broken growpart mode", bytes.Replace(CloudStackConfig, []byte("mode: auto"), []byte("mode: sometimes"), 1), true},
		{"broken resize_rootfs", bytes.Replace(CloudStackConfig, []byte("resize_rootfs: true"), []byte("resize_rootfs: maybe"), 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "99-cloudstack.cfg")
			if err := os.WriteFile(path, tc.cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(ci, "schema", "--config-file", path).CombinedOutput()
			if tc.wantErr != (err != nil) {
				t.Fatalf("cloud-init schema error = %v, want error %v\n%s", err, tc.wantErr, out)
			}
		})
	}
}

// TestCloudCfgEdit runs cloudstack.sh's cloud.cfg edit on the module lists of old (set-passwords) and
// new (set_passwords) cloud-init, proving the sed expression the script uses switches both to always.
func TestCloudCfgEdit(t *testing.T) {
	script, _ := fs.ReadFile(Scripts, "cloudstack.sh")
	expr := regexp.MustCompile(`sed -i -E '([^']+)' /etc/cloud/cloud.cfg`).FindSubmatch(script)
	if expr == nil {
		t.Fatal("cloudstack.sh no longer edits cloud.cfg with sed -i -E")
	}
	in := "cloud_config_modules:\n - set-passwords\n - ssh-import-id\n - ssh\n - set_passwords\n - [ssh, always]\n - sshd\n"
	want := "cloud_config_modules:\n - [set-passwords, always]\n - ssh-import-id\n - [ssh, always]\n - [set_passwords, always]\n - [ssh, always]\n - sshd\n"
	cmd := exec.Command("sed", "-E", string(expr[1]))
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Fatalf("edited cloud.cfg:\n%s\nwant:\n%s", out, want)
	}
}
