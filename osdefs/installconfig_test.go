package osdefs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// --- Ubuntu autoinstall ---------------------------------------------------------------------------

func ubuntuUserData(t *testing.T) []byte {
	t.Helper()
	d, err := Lookup("ubuntu-22.04")
	if err != nil {
		t.Fatal(err)
	}
	return httpFile(t, d, "user-data")
}

// httpFile reads one of the install files d's installer fetches over HTTP, as the build serves it.
func httpFile(t *testing.T, d Definition, name string) []byte {
	t.Helper()
	fsys, err := HTTPFiles(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// autoinstallSection decodes the "autoinstall:" key of a cloud-config with gopkg.in/yaml.v3 and
// round-trips it through JSON so the schema validator sees JSON types.
func autoinstallSection(t *testing.T, userData []byte) any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(userData, &doc); err != nil {
		t.Fatalf("user-data is not YAML: %v", err)
	}
	section, ok := doc["autoinstall"]
	if !ok {
		t.Fatal("user-data has no autoinstall key")
	}
	raw, err := json.Marshal(section)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// autoinstallSchema compiles subiquity's published schema (testdata/SOURCES.md) with
// github.com/santhosh-tekuri/jsonschema/v6.
func autoinstallSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "autoinstall-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("autoinstall-schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("autoinstall-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUbuntuAutoinstallSchema(t *testing.T) {
	schema := autoinstallSchema(t)
	good := ubuntuUserData(t)
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"shipped user-data", good, false},
		// The validator must be able to fail: the schema requires version 1 and a complete identity.
		{"version 2", bytes.Replace(good, []byte("version: 1"), []byte("version: 2"), 1), true},
		{"identity without password", regexp.MustCompile(`(?m)^    password: .*\n`).ReplaceAll(good, nil), true},
		{"unknown timezone", bytes.Replace(good, []byte("timezone: UTC"), []byte("timezone: Mars/Olympus"), 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := schema.Validate(autoinstallSection(t, tc.data))
			if tc.wantErr != (err != nil) {
				t.Fatalf("schema validation error = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// TestUbuntuAutoinstallContent checks what the schema cannot: the choices the templates depend on.
func TestUbuntuAutoinstallContent(t *testing.T) {
	var doc struct {
		Autoinstall struct {
			EarlyCommands []string `yaml:"early-commands"`
			LateCommands  []string `yaml:"late-commands"`
			Packages      []string `yaml:"packages"`
			Storage       struct {
				Layout struct {
					Name string `yaml:"name"`
				} `yaml:"layout"`
			} `yaml:"storage"`
			Identity struct {
				Username string `yaml:"username"`
				Password string `yaml:"password"`
			} `yaml:"identity"`
			SSH struct {
				InstallServer bool `yaml:"install-server"`
				AllowPW       bool `yaml:"allow-pw"`
			} `yaml:"ssh"`
		} `yaml:"autoinstall"`
	}
	if err := yaml.Unmarshal(ubuntuUserData(t), &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Autoinstall
	d, _ := Lookup("ubuntu-22.04")
	if a.Storage.Layout.Name != "direct" {
		t.Errorf("storage layout %q, want direct (no LVM)", a.Storage.Layout.Name)
	}
	if !contains(a.EarlyCommands, "systemctl stop ssh") {
		t.Error("early-commands must stop the installer's sshd so Packer waits for the installed system")
	}
	if a.Identity.Username != d.SSHUsername {
		t.Errorf("identity.username %q, definition builds as %q", a.Identity.Username, d.SSHUsername)
	}
	if !strings.HasPrefix(a.Identity.Password, "$6$") {
		t.Error("identity.password must be a SHA-512 crypt hash")
	}
	if !a.SSH.InstallServer || !a.SSH.AllowPW {
		t.Error("ssh: install-server and allow-pw are needed for Packer's password login")
	}
	for _, p := range []string{"cloud-init", "cloud-guest-utils", "qemu-guest-agent", "wget"} {
		if !contains(a.Packages, p) {
			t.Errorf("packages lack %s", p)
		}
	}
	late := strings.Join(a.LateCommands, "\n")
	testcheck.ContainsAll(t, "late-commands", late, "NOPASSWD", "console=ttyS0", "update-grub", "MODULES=most", "update-initramfs")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// --- kickstarts -----------------------------------------------------------------------------------
// Debian 12 ships no pykickstart (no python3-pykickstart / ksvalidator package), so the kickstarts are
// checked here for the directives the templates depend on, and for well-formed sections.

type kickstart struct {
	commands map[string][]string // command -> argument lines
	sections map[string][]string // "%packages" / "%post" -> body lines
}

func parseKickstart(data []byte) (kickstart, error) {
	ks := kickstart{commands: map[string][]string{}, sections: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	section := ""
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case section != "" && line == "%end":
			section = ""
		case section != "":
			if strings.HasPrefix(line, "%") && !strings.HasPrefix(line, "%end") {
				return ks, fmt.Errorf("line %d: section %s opened before %s was closed with %%end", n, line, section)
			}
			ks.sections[section] = append(ks.sections[section], line)
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "%"):
			section = strings.Fields(line)[0]
			if _, dup := ks.sections[section]; dup && section == "%packages" {
				return ks, fmt.Errorf("line %d: second %%packages section", n)
			}
			ks.sections[section] = append(ks.sections[section], "#header "+line)
		default:
			f := strings.Fields(line)
			ks.commands[f[0]] = append(ks.commands[f[0]], strings.Join(f[1:], " "))
		}
	}
	if section != "" {
		return ks, fmt.Errorf("section %s is not closed with %%end", section)
	}
	return ks, sc.Err()
}

func TestKickstarts(t *testing.T) {
	for _, id := range []string{"almalinux-9", "rocky-9", "centos-stream-9", "fedora-41"} {
		t.Run(id, func(t *testing.T) {
			d, _ := Lookup(id)
			ks, err := parseKickstart(httpFile(t, d, "ks.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			one := func(cmd string) string {
				if len(ks.commands[cmd]) != 1 {
					t.Errorf("want exactly one %s command, got %d", cmd, len(ks.commands[cmd]))
					return ""
				}
				return ks.commands[cmd][0]
			}
			for _, cmd := range []string{"text", "lang", "keyboard", "timezone", "network", "zerombr", "clearpart", "reboot"} {
				one(cmd)
			}
			if _, lvm := ks.commands["logvol"]; lvm {
				t.Error("no LVM: logvol is not allowed")
			}
			if _, lvm := ks.commands["volgroup"]; lvm {
				t.Error("no LVM: volgroup is not allowed")
			}
			if ap, ok := ks.commands["autopart"]; ok && !strings.Contains(ap[0], "--nolvm") {
				t.Error("autopart must use --nolvm")
			}
			rootPart := false
			for _, p := range ks.commands["part"] {
				rootPart = rootPart || regexp.MustCompile(`^/ .*--fstype=(xfs|ext4)`).MatchString(p)
			}
			if !rootPart && len(ks.commands["autopart"]) == 0 {
				t.Error("want a plain xfs/ext4 root partition (part / --fstype=...)")
			}
			if b := one("bootloader"); !strings.Contains(b, `--append="console=tty0 console=ttyS0,115200n8"`) {
				t.Errorf("bootloader must put the console on ttyS0: %q", b)
			}
			if s := one("services"); !strings.Contains(s, "sshd") {
				t.Errorf("services must enable sshd: %q", s)
			}
			// Packer logs in with the definition's credentials.
			if d.SSHUsername != "root" {
				t.Fatalf("kickstart builds log in as root, definition uses %q", d.SSHUsername)
			}
			if r := one("rootpw"); r != "--plaintext "+d.SSHPassword {
				t.Errorf("rootpw %q does not match the definition's password", r)
			}
			pkgs := strings.Join(ks.sections["%packages"], "\n")
			for _, p := range []string{"cloud-init", "cloud-utils-growpart", "qemu-guest-agent", "openssh-server", "wget"} {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p) + `$`).MatchString(pkgs) {
					t.Errorf("the packages section lacks %s", p)
				}
			}
			post := strings.Join(ks.sections["%post"], "\n")
			if !strings.Contains(post, "dracut -f --no-hostonly --regenerate-all") || !strings.Contains(post, `hostonly="no"`) {
				t.Error("the post section must rebuild every initramfs without host-only mode")
			}
			if !strings.Contains(post, "PermitRootLogin yes") {
				t.Error("the post section must allow root password login for Packer")
			}
		})
	}
}

// The checker must reject what it is there to catch.
func TestParseKickstartRejectsBrokenSections(t *testing.T) {
	for name, ks := range map[string]string{
		"unclosed":        "text\n%packages\ncloud-init\n",
		"nested":          "%packages\n%post\n%end\n",
		"second packages": "%packages\n%end\n%packages\n%end\n",
	} {
		if _, err := parseKickstart([]byte(ks)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
