package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// defaultDebianMirror is --debian-mirror's default, written again only in New's +default pragma
// (which must be a literal).
const defaultDebianMirror = "http://deb.debian.org/debian"

// checkDebianMirror refuses, when the module is created, a --debian-mirror that is not an http(s) URL
// or that carries credentials the engine would record with the call.
func checkDebianMirror(mirror string) error {
	switch _, p := fetch.ParseLocation(mirror); p {
	case fetch.NotHTTP:
		return fmt.Errorf("--debian-mirror %q is not an http(s) URL like %s", mirror, defaultDebianMirror)
	case fetch.HasQuery, fetch.HasCredentials:
		return fmt.Errorf("--debian-mirror %q carries credentials (user:password@ or a query), which the engine would record with the call: use a mirror or proxy that needs none", redact.URL(mirror))
	}
	return nil
}

// Testbed builds the testbed fixture OS in the engine: a small Debian 12 disk image
// (testbed-bookworm.qcow2) and its SHA256SUMS, made from Debian's packages by scripts/testbed.sh
// (debootstrap, mke2fs -d, extlinux) in a privileged container. `build --os testbed` without --mirror
// fetches it from this function, through the same checksum-verified download as a vendor installer;
// export it to serve it yourself. Its packages come from --debian-mirror.
func (m *CloudstackTemplates) Testbed(ctx context.Context) (*dagger.Directory, error) {
	c, err := m.testbedBuilt(ctx)
	if err != nil {
		return nil, err
	}
	return c.Directory("/testbed/mirror"), nil
}

// Replicas builds the installer replicas in the engine: one small ISO per vendor OS with the vendor's
// BIOS boot loader, menu, volume label and kernel/initrd paths, whose kernel boots cst-installer to
// install the testbed (scripts/replicas.sh, replicas/SOURCES.md), and their SHA256SUMS. Serve the
// directory as <mirror>/replicas to build the <vendor>-fixture OSes; without --mirror, their builds
// fetch it from this function.
func (m *CloudstackTemplates) Replicas(ctx context.Context) (*dagger.Directory, error) {
	c, err := m.testbedBuilt(ctx)
	if err != nil {
		return nil, err
	}
	recipe, err := byContent(ctx, m.Source,
		"go.mod", "go.sum", "scripts/replicas.sh", "replicas/**", "installer/**", "cmd/cst-installer/**")
	if err != nil {
		return nil, err
	}
	return c.WithDirectory("/src", recipe).
		WithExec([]string{"bash", "/src/scripts/replicas.sh", "build"}).
		Directory("/testbed/mirror/replicas"), nil
}

// testbedBuilt is the container after the testbed recipe, with the testbed (image, root file system)
// under /testbed. Go is there for the replicas' cst-installer; the exec sees only the recipe, so that
// a change to the replicas, or to anything else, does not rebuild the testbed (whose new digest would
// make every later testbed build cold).
func (m *CloudstackTemplates) testbedBuilt(ctx context.Context) (*dagger.Container, error) {
	recipe, err := byContent(ctx, m.Source, "scripts/testbed.sh", "scripts/lib/**")
	if err != nil {
		return nil, err
	}
	return goBuilder().
		WithDirectory("/src", recipe).
		WithEnvVariable("CST_TESTBED_DIR", "/testbed").
		WithEnvVariable("CST_DEBIAN_MIRROR", m.DebianMirror).
		// debootstrap, a chroot with /proc, and a loop mount to install extlinux: root's powers.
		WithExec([]string{"bash", "/src/scripts/testbed.sh", "build"}, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}), nil
}

// byContent copies the regular files of dir that match patterns into a directory made from their
// bytes. An exec that mounts it is keyed by those bytes alone: a directory filtered from the module's
// source keeps the whole source in its key, and every change to the module would rebuild the fixtures.
// Go test files are left out: `go build` never reads them, and a test edit must not rebuild a fixture
// (a new fixture digest makes every later build from it cold).
func byContent(ctx context.Context, dir *dagger.Directory, patterns ...string) (*dagger.Directory, error) {
	out := dag.Directory()
	for _, pattern := range patterns {
		paths, err := dir.Glob(ctx, pattern)
		if err != nil {
			return nil, fmt.Errorf("the module source's %s: %w", pattern, err)
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("the module source has no %s: is it in dagger.json's include and New's +ignore exceptions?", pattern)
		}
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			regular, err := dir.Exists(ctx, p, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
			if err != nil {
				return nil, err
			}
			if !regular {
				continue
			}
			body, err := dir.File(p).Contents(ctx)
			if err != nil {
				return nil, err
			}
			out = out.WithNewFile(p, body)
		}
	}
	return out, nil
}

// testbedMirrorHost and testbedMirrorPort are the host name and port osdefs.TestbedMirror names.
func testbedMirrorHost() string {
	u, _ := url.Parse(osdefs.TestbedMirror)
	return u.Hostname()
}

func testbedMirrorPort() int {
	u, _ := url.Parse(osdefs.TestbedMirror)
	p, _ := strconv.Atoi(u.Port())
	return p
}

// fixtureMirror serves dir under osdefs.TestbedMirror: what a fixture's build fetches when given no
// mirror. Which fixtures it holds is fixtureFiles's choice.
func fixtureMirror(dir *dagger.Directory) *dagger.Service {
	port := testbedMirrorPort()
	return aptInstall(dag.Container().From(debianImage), "busybox").
		WithDirectory("/srv", dir).
		WithExposedPort(port).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{"busybox", "httpd", "-f", "-p", strconv.Itoa(port), "-h", "/srv"}})
}

// fixtureFiles is what the module serves for d when no mirror is given, laid out as osdefs names it:
// the installer replicas under replicas/ for the <vendor>-fixture OSes, the testbed image for the
// testbeds; ok is false for any OS the module does not build (osdefs' BuiltByModule), which needs its
// vendor or a mirror.
func (m *CloudstackTemplates) fixtureFiles(ctx context.Context, d osdefs.Definition) (dir *dagger.Directory, ok bool, err error) {
	if !d.BuiltByModule() {
		return nil, false, nil
	}
	if d.IsReplica() {
		replicas, err := m.Replicas(ctx)
		if err != nil {
			return nil, true, err
		}
		return dag.Directory().WithDirectory(strings.TrimPrefix(osdefs.ReplicaMirror, osdefs.TestbedMirror+"/"), replicas), true, nil
	}
	dir, err = m.Testbed(ctx)
	return dir, true, err
}
