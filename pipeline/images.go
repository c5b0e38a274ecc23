package main

import (
	"fmt"
	"strings"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/gobuild"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease"
)

// Base images by their ordinary names: online they come from Docker Hub, air-gapped from the local
// mirror that scripts/engine.sh seeds with images it builds itself.
const (
	debianImage = "debian:bookworm-slim"
	golangImage = "golang:1.25.4-bookworm"
)

// Cache volumes are namespaced so they never collide with another module's on a shared engine.
const cachePrefix = "cloudstack-templates-"

func cacheVolume(name string) *dagger.CacheVolume { return dag.CacheVolume(cachePrefix + name) }

// aptInstall runs one apt-get transaction. A pinned package is written name=version.
func aptInstall(c *dagger.Container, packages ...string) *dagger.Container {
	return c.WithEnvVariable("DEBIAN_FRONTEND", "noninteractive").
		WithExec([]string{"sh", "-c", "apt-get update -q && apt-get install -y -q --no-install-recommends " +
			strings.Join(packages, " ") + " && rm -rf /var/lib/apt/lists/*"}).
		WithoutEnvVariable("DEBIAN_FRONTEND")
}

// goBuilder is a Go toolchain container with the module and build caches mounted.
func goBuilder() *dagger.Container {
	return dag.Container().From(golangImage).
		WithMountedCache("/go/pkg/mod", cacheVolume("go-mod")).
		WithMountedCache("/root/.cache/go-build", cacheVolume("go-build")).
		WithEnvVariable("CGO_ENABLED", "0").
		WithEnvVariable("GOFLAGS", "-buildvcs=false -modcacherw")
}

// goModuleBinary builds a command from a published Go module at an exact version. `go install m@v`
// needs the proxy's version list, which some proxies refuse; building inside the downloaded module
// directory honours its go.sum and replace directives and needs only the exact version.
func goModuleBinary(module, version, pkg, name, ldflags string) *dagger.File {
	return goModuleBuild(goBuilder(), module, version, pkg, name, ldflags, "")
}

// goModuleBuild is goModuleBinary with an edit: a shell step run in a writable copy of the module
// source (the module cache itself is never changed) before the build.
func goModuleBuild(builder *dagger.Container, module, version, pkg, name, ldflags, edit string) *dagger.File {
	script := fmt.Sprintf(`set -eu
dir=$(cd /tmp && go mod download -json %[1]s@%[2]s | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "the Go module proxy did not serve %[1]s@%[2]s" >&2; exit 1; }
if [ -f /cst/edit.sh ]; then
  cp -r "$dir" /tmp/src && chmod -R u+w /tmp/src && dir=/tmp/src
  (cd "$dir" && sh -eu /cst/edit.sh)
fi
cd "$dir" && go build -trimpath -ldflags %[5]q -o /out/%[4]s %[3]s`, module, version, pkg, name, ldflags)
	if edit != "" {
		builder = builder.WithNewFile("/cst/edit.sh", edit)
	}
	return builder.WithExec([]string{"sh", "-c", script}).File("/out/" + name)
}

// Where the build tools come from (the constructor's --tools).
const (
	toolsRelease = string(ToolsSourceRelease)
	toolsSource  = string(ToolsSourceSource)
)

// toolsMirrorConfig is what the constructor's --tools-* arguments say about a tools mirror.
type toolsMirrorConfig struct {
	mirror                   string
	svc                      *dagger.Service
	key, sigstoreRoot        *dagger.File
	sigstoreID, sigstoreIssr string
}

func (c toolsMirrorConfig) anySigner() bool {
	return c.key != nil || c.sigstoreRoot != nil || c.sigstoreID != "" || c.sigstoreIssr != ""
}

// checkTools refuses --tools-* arguments that do not go together (the enum has checked --tools).
func checkTools(tools string, c toolsMirrorConfig) error {
	if tools == toolsSource {
		if c.mirror != "" || c.svc != nil || c.anySigner() {
			return fmt.Errorf("--tools-mirror, --tools-mirror-service and --tools-key are for --tools release (as are the --tools-sigstore-* arguments); --tools source compiles Packer and Trivy instead")
		}
		return nil
	}
	if c.mirror == "" && (c.svc != nil || c.anySigner()) {
		return fmt.Errorf("--tools-mirror-service, --tools-key and the --tools-sigstore-* arguments need --tools-mirror")
	}
	if (c.sigstoreID == "") != (c.sigstoreIssr == "") {
		return fmt.Errorf("--tools-sigstore-identity and --tools-sigstore-issuer go together: the certificate identity that signs the mirror's Trivy bundles and its OIDC issuer, e.g. https://github.com/acme/mirror/.github/workflows/sign.yml@refs/heads/main and https://token.actions.githubusercontent.com")
	}
	if c.mirror != "" {
		if err := toolrelease.CheckMirror(c.mirror); err != nil {
			return err
		}
	}
	return nil
}

// packerBinary is Packer as --tools says: HashiCorp's signed release, or compiled from source.
func (m *CloudstackTemplates) packerBinary() *dagger.File {
	if m.Tools == toolsSource {
		return packerFromSource(m.PackerVersion)
	}
	return m.toolRelease("packer", m.PackerVersion)
}

// toolRelease installs a tool's official release with cst-fetch: the vendor's checksum file
// authenticated (HashiCorp's OpenPGP signature for Packer, Aqua Security's Sigstore bundle for
// Trivy), the archive checked against it (and cached by digest), the binary taken out.
func (m *CloudstackTemplates) toolRelease(tool, version string) *dagger.File {
	c := m.fetchBase().WithMountedCache("/cache", cacheVolume("tools"))
	args := []string{"cst-fetch", "tool", "--tool", tool + "@" + strings.TrimPrefix(version, "v"), "--cache", "/cache", "--out", "/out"}
	if m.ToolsMirror != "" {
		args = append(args, "--mirror", m.ToolsMirror)
		c = bindServiceFor(c, m.ToolsMirror, m.ToolsMirrorService)
		// The mirror's own signer, if it re-signs: an OpenPGP key for Packer, a Sigstore trusted
		// root and identity for Trivy.
		key := m.ToolsKey
		if tool == "trivy" {
			key = m.ToolsSigstoreRoot
			if m.ToolsSigstoreIdentity != "" {
				args = append(args, "--identity", m.ToolsSigstoreIdentity, "--issuer", m.ToolsSigstoreIssuer)
			}
		}
		if key != nil {
			c = c.WithMountedFile("/cst/tools-key", key)
			args = append(args, "--key", "/cst/tools-key")
		}
	}
	// Resolved anew on every call, as an installer is: a mirror whose files changed is checked again
	// (the archive itself comes from the cache volume when its digest is unchanged, and an identical
	// binary leaves the later layers cached).
	return c.WithEnvVariable("CST_RESOLVED_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(args).File("/out/" + tool)
}

// packerFromSource is Packer built from source with the QEMU builder, the one plugin templates here
// use (gobuild/packer_plugins.awk says why the others are left out).
func packerFromSource(version string) *dagger.File {
	v := "v" + strings.TrimPrefix(version, "v")
	// goModuleBuild runs the edit as /cst/edit.sh, which reads the awk program beside it.
	builder := goBuilder().WithNewFile("/cst/packer_plugins.awk", gobuild.PackerPluginsAwk)
	return goModuleBuild(builder, "github.com/hashicorp/packer", v, ".", "packer", "-s -w", gobuild.PackerTrim)
}

// qemuBase is Debian with QEMU (optionally pinned to a Debian package version) and disk tools.
func qemuBase(qemuVersion string) *dagger.Container {
	qemu := []string{"qemu-system-x86", "qemu-utils"}
	if qemuVersion != "" {
		for i := range qemu {
			qemu[i] += "=" + qemuVersion
		}
	}
	pkgs := append(qemu, "openssh-client", "ca-certificates", "xorriso", "zstd", "procps")
	return aptInstall(dag.Container().From(debianImage), pkgs...)
}

// toolchain is the container Packer runs in, at the module's Packer and QEMU versions.
func (m *CloudstackTemplates) toolchain() *dagger.Container {
	return qemuBase(m.QemuVersion).
		WithFile("/usr/local/bin/packer", m.packerBinary()).
		// Packer otherwise phones HashiCorp's checkpoint service on every run.
		WithEnvVariable("CHECKPOINT_DISABLE", "1").
		WithEnvVariable("PACKER_NO_COLOR", "1")
}

// repoCommand is one of this repository's commands (cmd/<name>), built from the module's source.
func (m *CloudstackTemplates) repoCommand(name string) *dagger.File {
	return goBuilder().
		WithDirectory("/src", m.Source).
		WithWorkdir("/src").
		WithExec([]string{"go", "build", "-trimpath", "-ldflags", "-s -w", "-o", "/out/" + name, "./cmd/" + name}).
		File("/out/" + name)
}

// fetchTool is cst-fetch: installer and tool downloads, verified.
func (m *CloudstackTemplates) fetchTool() *dagger.File { return m.repoCommand("cst-fetch") }

// defaultPackerVersion is the newest Packer that builds from the Go module proxy under the MPL (1.10+
// is BUSL and no longer bundles the QEMU builder). Keep New's --packer-version +default in step with it.
const defaultPackerVersion = "1.9.4"
