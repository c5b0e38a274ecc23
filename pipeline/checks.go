package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/guest"
)

// The repository's static checks, as Dagger checks (`dagger checks`): each runs its linter in a
// container, so a machine needs only the engine to run them. Each takes the repository from the
// module's context by default; another tree can be given to check it instead.

// actionlintVersion is the actionlint release the workflows are linted with.
const actionlintVersion = "v1.7.12"

// shellcheckImage is Debian with ShellCheck.
func shellcheckImage() *dagger.Container {
	return aptInstall(dag.Container().From(debianImage), "shellcheck")
}

// checkRun runs a check's script over the tree at /repo and turns a failure into the linter's words.
func checkRun(ctx context.Context, what string, c *dagger.Container, repo *dagger.Directory, script string) error {
	_, err := c.WithDirectory("/repo", repo).WithWorkdir("/repo").
		WithExec([]string{"bash", "-c", "set -euo pipefail\n" + script}).Sync(ctx)
	if err != nil {
		return fmt.Errorf("%s: %s", what, execMessage(err))
	}
	return nil
}

// Lint every shell script of the repository (scripts/, ci/, gobuild/) with ShellCheck, following what
// each sources, in the shell its #! line names (bash for a sourced library without one): the guest
// provisioning scripts, tools.sh and the Packer trim at every severity, the other host scripts at
// warning and above.
// +check
func (m *CloudstackTemplates) LintShell(
	ctx context.Context,
	// The tree to check (defaults to this module's repository).
	// +defaultPath="/"
	// +ignore=["*", "!scripts/", "!ci/", "!gobuild/"]
	repo *dagger.Directory,
) error {
	return checkRun(ctx, "shellcheck", shellcheckImage(), repo, `
mapfile -t scripts < <(find scripts ci gobuild -name '*.sh' -type f 2>/dev/null | sort)
[ "${#scripts[@]}" -gt 0 ] || { echo "no shell script under scripts/, ci/ or gobuild/" >&2; exit 1; }
failed=()
for f in "${scripts[@]}"; do
  opts=(-x "--severity=warning")
  case "$f" in scripts/guest/*|scripts/tools.sh|gobuild/*) opts=(-x "--severity=style") ;; esac
  head -n1 "$f" | grep -q '^#!' || opts+=(--shell=bash)
  (cd "$(dirname "$f")" && shellcheck "${opts[@]}" "$(basename "$f")") >&2 || failed+=("$f")
done
[ "${#failed[@]}" -eq 0 ] || { echo "ShellCheck fails on: ${failed[*]}" >&2; exit 1; }
echo "${#scripts[@]} scripts pass ShellCheck"`)
}

// Lint the GitHub workflows with actionlint, which also runs ShellCheck on every run: block.
// +check
func (m *CloudstackTemplates) LintWorkflows(
	ctx context.Context,
	// The tree to check (defaults to this module's repository).
	// +defaultPath="/"
	// +ignore=["*", "!.github/"]
	repo *dagger.Directory,
) error {
	actionlint := goModuleBinary("github.com/rhysd/actionlint", actionlintVersion, "./cmd/actionlint", "actionlint", "-s -w")
	return checkRun(ctx, "actionlint", shellcheckImage().WithFile("/usr/local/bin/actionlint", actionlint), repo, `
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[ "${#files[@]}" -gt 0 ] || { echo "no workflow under .github/workflows" >&2; exit 1; }
actionlint -no-color -shellcheck "$(command -v shellcheck)" "${files[@]}"`)
}

// packerWorkDir is what Packer runs in for one OS: the rendered template, the install configuration
// served over Packer's HTTP server under http/, and the guest scripts under scripts/.
func packerWorkDir(d osdefs.Definition) (*dagger.Directory, error) {
	hcl, err := osdefs.RenderPacker(d)
	if err != nil {
		return nil, err
	}
	scripts, err := dirFromFS(guest.Scripts)
	if err != nil {
		return nil, err
	}
	httpDir := dag.Directory()
	if d.HTTPDir != "" {
		files, err := osdefs.HTTPFiles(d)
		if err != nil {
			return nil, err
		}
		if httpDir, err = dirFromFS(files); err != nil {
			return nil, err
		}
	}
	return dag.Directory().
		WithNewFile(osdefs.TemplateFile, string(hcl)).
		WithDirectory("http", httpDir).
		WithDirectory("scripts", scripts), nil
}

// Validate every OS's rendered Packer template with `packer validate` (the module's --packer-version),
// and show the validation really ran: the same template with an accelerator its variable block refuses
// must fail.
// +check
func (m *CloudstackTemplates) ValidatePackerTemplates(ctx context.Context) error {
	tc := m.toolchain().WithEnvVariable("PACKER_PLUGIN_PATH", "/tmp/plugins")
	var problems []string
	for _, d := range osdefs.All() {
		dir, err := packerWorkDir(d)
		if err != nil {
			return fmt.Errorf("%s: %w", d.ID, err)
		}
		digest := d.Source.PinnedDigest
		if digest == "" {
			// A fixture's digest comes from its mirror at build time; any well-formed one validates.
			s := sha256.Sum256([]byte(d.ID))
			digest = hex.EncodeToString(s[:])
		}
		validate := func(accel string) *dagger.Container {
			return tc.WithDirectory("/work", dir).WithWorkdir("/work").
				WithExec([]string{"packer", "validate", "-var", "accelerator=" + accel, "-var", "iso_url=" + d.Source.URL,
					"-var", "iso_checksum=" + d.Source.Algorithm + ":" + digest, "."}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		}
		good := validate("tcg")
		if code, err := good.ExitCode(ctx); err != nil {
			return fmt.Errorf("packer validate %s: %s", d.ID, execMessage(err))
		} else if code != 0 {
			out, _ := good.CombinedOutput(ctx)
			problems = append(problems, fmt.Sprintf("%s: packer validate exits %d:\n%s", d.ID, code, strings.TrimSpace(out)))
		}
		if code, err := validate("hvf").ExitCode(ctx); err != nil {
			return fmt.Errorf("packer validate %s: %s", d.ID, execMessage(err))
		} else if code == 0 {
			problems = append(problems, d.ID+": packer validate accepts accelerator=hvf, so it did not evaluate the template's variable validation")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("Packer templates:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

// Validate the cloud-config the project ships with cloud-init's own schema (Debian's cloud-init): the
// CloudStack configuration every template carries, and each OS's autoinstall user-data, which
// cloud-init reads first. A copy of the CloudStack configuration with a value its schema refuses must
// fail, which shows the check is live.
// +check
func (m *CloudstackTemplates) ValidateCloudConfigs(ctx context.Context) error {
	cfg := dag.Directory().WithNewFile("99-cloudstack.cfg", string(guest.CloudStackConfig))
	n := 1
	for _, d := range osdefs.All() {
		if d.HTTPDir == "" {
			continue
		}
		files, err := osdefs.HTTPFiles(d)
		if err != nil {
			return fmt.Errorf("%s: %w", d.ID, err)
		}
		b, err := fs.ReadFile(files, "user-data")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("%s: %w", d.ID, err)
		}
		cfg = cfg.WithNewFile(d.ID+".user-data", string(b))
		n++
	}
	if n < 2 {
		return fmt.Errorf("no OS ships an autoinstall user-data: the check would check only the CloudStack configuration")
	}
	broken := bytes.Replace(guest.CloudStackConfig, []byte("mode: auto"), []byte("mode: sometimes"), 1)
	if bytes.Equal(broken, guest.CloudStackConfig) {
		return fmt.Errorf("99-cloudstack.cfg no longer sets growpart's mode: the negative control needs another value to break")
	}
	c := aptInstall(dag.Container().From(debianImage), "cloud-init").
		WithDirectory("/cfg", cfg).
		WithNewFile("/broken/99-cloudstack.cfg", string(broken))
	return checkRun(ctx, "cloud-init schema", c, dag.Directory(), `
failed=()
for f in /cfg/*; do
  cloud-init schema --config-file "$f" >&2 || failed+=("$(basename "$f")")
done
[ "${#failed[@]}" -eq 0 ] || { echo "cloud-init schema refuses: ${failed[*]}" >&2; exit 1; }
if cloud-init schema --config-file /broken/99-cloudstack.cfg >/dev/null 2>&1; then
  echo "cloud-init schema accepted growpart mode: sometimes, so it checks nothing" >&2; exit 1
fi`)
}
