package gobuild

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// trimVendored runs packer_plugins.awk the way the toolchain build does.
func trimVendored(t *testing.T, src string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "vendored_plugins.go")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("awk", "-f", "packer_plugins.awk", f, f).Output()
	if err != nil {
		t.Fatalf("awk: %v", err)
	}
	return string(out)
}

func TestPackerPluginsTrim(t *testing.T) {
	vendored, err := os.ReadFile("testdata/vendored_plugins.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	noPlugins := "package command\n\nimport \"fmt\"\n\nvar x = fmt.Sprint(\"amazon-ebs\")\n"
	tests := []struct {
		name       string
		src        string
		keep, drop []string
	}{
		{
			name: "Packer 1.9 vendored plugins",
			src:  string(vendored),
			keep: []string{
				`packersdk "github.com/hashicorp/packer-plugin-sdk/packer"`,
				`qemubuilder "github.com/hashicorp/packer-plugin-qemu/builder/qemu"`,
				`"qemu":       new(qemubuilder.Builder),`,
				`"packer-builder-amazon-ebs": false,`, // plain strings stay
				`func describe() string`,
			},
			drop: []string{"packer-plugin-amazon", "packer-plugin-ansible", "packer-plugin-vagrant",
				"amazonebsbuilder", "amazonamidatasource", "ansibleprovisioner", "vagrantpostprocessor"},
		},
		{name: "nothing vendored", src: noPlugins, keep: []string{`var x = fmt.Sprint("amazon-ebs")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trimVendored(t, tt.src)
			testcheck.ContainsAll(t, "trimmed file", got, tt.keep...)
			for _, s := range tt.drop {
				if strings.Contains(got, s) {
					t.Errorf("trimmed file still has %q:\n%s", s, got)
				}
			}
			if _, err := parser.ParseFile(token.NewFileSet(), "vendored_plugins.go", got, 0); err != nil {
				t.Errorf("trimmed file is not Go: %v\n%s", err, got)
			}
			if tt.drop == nil && got != tt.src {
				t.Errorf("a file with no vendored plugins changed:\n%s", got)
			}
		})
	}
}

// TestPackerTrimScript runs packer_trim.sh the way the pipeline does: from a directory holding it and
// the awk program, in a copy of the module source.
func TestPackerTrimScript(t *testing.T) {
	vendored, err := os.ReadFile("testdata/vendored_plugins.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	noQEMU := strings.ReplaceAll(strings.ReplaceAll(string(vendored),
		"\tqemubuilder \"github.com/hashicorp/packer-plugin-qemu/builder/qemu\"\n", ""),
		"\t\"qemu\":       new(qemubuilder.Builder),\n", "")
	tests := []struct {
		name     string
		src      *string // command/vendored_plugins.go; nil: the module has none
		wantErr  string
		wantQEMU bool
	}{
		{name: "Packer 1.9", src: ptr(string(vendored)), wantQEMU: true},
		{name: "no vendored plugins file", src: nil},
		{name: "QEMU builder not vendored", src: &noQEMU, wantErr: "no longer vendors the QEMU builder"},
	}
	tools := t.TempDir()
	for _, f := range []string{"packer_trim.sh", "packer_plugins.awk"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tools, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := t.TempDir()
			file := filepath.Join(mod, "command", "vendored_plugins.go")
			if tt.src != nil {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(*tt.src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("sh", "-eu", filepath.Join(tools, "packer_trim.sh"))
			cmd.Dir = mod
			out, err := cmd.CombinedOutput()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(string(out), tt.wantErr) {
					t.Fatalf("want failure %q, got err=%v, output %q", tt.wantErr, err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("packer_trim.sh: %v: %s", err, out)
			}
			got, err := os.ReadFile(file)
			if tt.src == nil {
				if !os.IsNotExist(err) {
					t.Fatalf("the script made %s (err=%v)", file, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(got), "packer-plugin-amazon") || strings.Contains(string(got), "qemubuilder") != tt.wantQEMU {
				t.Errorf("trimmed file:\n%s", got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
