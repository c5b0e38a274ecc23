package gobuild

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
			for _, s := range tt.keep {
				if !strings.Contains(got, s) {
					t.Errorf("trimmed file lost %q:\n%s", s, got)
				}
			}
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
