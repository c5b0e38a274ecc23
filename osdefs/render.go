package osdefs

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

//go:embed packer/qemu.pkr.hcl.tmpl
var packerFS embed.FS

var packerTemplate = template.Must(template.New("qemu.pkr.hcl.tmpl").
	Delims("[[", "]]").
	Funcs(template.FuncMap{"hcl": hclString, "hclList": hclList}).
	ParseFS(packerFS, "packer/qemu.pkr.hcl.tmpl"))

// TemplateFile is the name the rendered Packer template is written under.
const TemplateFile = "template.pkr.hcl"

// ScriptsDir is where, relative to the template, the guest provisioning scripts are placed.
const ScriptsDir = "scripts"

// VMName is the file name of the image Packer leaves in its output directory.
func (d Definition) VMName() string { return d.ID + ".qcow2" }

// RenderPacker renders d's Packer HCL2 template. Values that differ per build (accelerator, ISO path
// and digest, directories) are Packer variables, so the same text is validated in tests and built in
// the pipeline.
func RenderPacker(d Definition) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var scripts []string
	for _, s := range d.Provisioners {
		scripts = append(scripts, "${var.scripts_dir}/"+s)
	}
	bootWait := d.BootWait
	if bootWait == "" {
		bootWait = "5s"
	}
	data := struct {
		Def             Definition
		VMName          string
		BootWait        string
		Scripts         []string
		ExecuteCommand  string
		ShutdownCommand string
	}{d, d.VMName(), bootWait, scripts, d.executeCommand(), d.shutdownCommand()}
	var b bytes.Buffer
	if err := packerTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render packer template for %s: %w", d.ID, err)
	}
	return b.Bytes(), nil
}

// executeCommand runs provisioners as root: directly when building as root, otherwise through sudo
// with the build password (the account is removed or locked by the cleanup script).
func (d Definition) executeCommand() string {
	if d.SSHUsername == "root" {
		return "chmod +x {{ .Path }}; {{ .Vars }} bash '{{ .Path }}'"
	}
	return fmt.Sprintf("echo '%s' | {{ .Vars }} sudo -S -E bash '{{ .Path }}'", d.SSHPassword)
}

func (d Definition) shutdownCommand() string {
	if d.SSHUsername == "root" {
		return d.ShutdownCommand
	}
	return fmt.Sprintf("echo '%s' | sudo -S %s", d.SSHPassword, d.ShutdownCommand)
}

// hclString quotes s as an HCL string literal. HCL's escapes are JSON's plus template sequences:
// "${" and "%{" start interpolations, so literal ones are doubled.
func hclString(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, "${", "$${")
	q = strings.ReplaceAll(q, "%{", "%%{")
	return q
}

func hclList(items []string) string {
	if len(items) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[\n")
	for _, s := range items {
		if strings.HasPrefix(s, "${var.") {
			b.WriteString("    " + strconv.Quote(s) + ",\n") // an intended interpolation
			continue
		}
		b.WriteString("    " + hclString(s) + ",\n")
	}
	b.WriteString("  ]")
	return b.String()
}
