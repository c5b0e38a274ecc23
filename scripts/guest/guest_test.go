package guest

import (
	"bytes"
	"io/fs"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

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
