// Builds Apache CloudStack OS templates (Ubuntu 22.04, AlmaLinux 9, Rocky Linux 9, CentOS Stream 9,
// Fedora 41 Server) with Packer and QEMU, then validates, scans, converts and describes them.
//
// Every stage is a function of its own; build and build-all compose them. Run them from any machine
// against an x86_64 engine (KVM is used when it can really run guests, TCG otherwise):
//
//	dagger call build --os fedora export --path ./out
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// CloudstackTemplates builds CloudStack templates from vendor installers.
type CloudstackTemplates struct {
	// The project's own source: the fetch tool, OS catalogue and guest scripts are built from it.
	// +private
	Source *dagger.Directory
	// +private
	MirrorAuth *dagger.Secret
	// +private
	Qcow2Compression string
	// +private
	Tools string
	// +private
	ToolsMirror string
	// +private
	ToolsMirrorService *dagger.Service
	// +private
	ToolsKey *dagger.File
	// +private
	MetricsPush string
	// +private
	MetricsPushService *dagger.Service
	// +private
	ToolsSigstoreRoot *dagger.File
	// +private
	ToolsSigstoreIdentity string
	// +private
	ToolsSigstoreIssuer string
	// +private
	Actor string
	// +private
	Origin string
	// +private
	Accel string
	// +private
	PackerVersion string
	// +private
	QemuVersion string
	// +private
	Mirror string
	// +private
	MirrorService *dagger.Service
	// +private
	TrivyDB *dagger.Directory
	// +private
	SourceCommit string
	// +private
	DebianMirror string
}

// New creates the module. The defaults fit almost every use.
func New(
	// The cloudstack-templates source tree (defaults to this module's repository).
	// +defaultPath="/"
	// +ignore=["*", "!go.mod", "!go.sum", "!osdefs/", "!checksum/", "!fetch/", "!artifacts/", "!cloudstack/", "!cmd/", "!redact/", "!inspect/", "!zone/", "!toolrelease/", "!monitor/", "!provenance/", "!scripts/guest/", "!scripts/testbed.sh", "!scripts/replicas.sh", "!scripts/lib/", "!replicas/", "!installer/"]
	source *dagger.Directory,
	// Credentials for a --mirror that asks for them, as user:password (e.g. env:MIRROR_AUTH). A secret,
	// so that it never shows in the engine's records of the call, logs or errors; a --mirror URL with
	// credentials in it is refused for that reason.
	// +optional
	mirrorAuth *dagger.Secret,
	// How the qcow2 template is compressed: zlib, which every KVM host's QEMU reads, or zstd (smaller
	// and faster to decompress, but an incompatible qcow2 feature: QEMU 5.1 or later built with zstd,
	// e.g. Ubuntu 22.04/24.04 or EL9 hosts; Ubuntu 20.04's QEMU 4.2 rejects the image).
	// +default="zlib"
	qcow2Compression Qcow2Compression,
	// Where Packer and Trivy come from: release (the vendors' official releases: Packer's SHA256SUMS
	// signed by HashiCorp's key, which the module embeds; Trivy's checksums authenticated by their
	// Sigstore bundle, signed by Aqua Security's release workflow; the engine must reach
	// releases.hashicorp.com and github.com, or --tools-mirror) or source (both compiled from the Go
	// module proxy, for engines that reach only that).
	// +default="release"
	tools ToolsSource,
	// A mirror of the tools' releases for --tools release, laid out like the vendors' sites below one
	// URL: <mirror>/packer/<version>/packer_<version>_... as releases.hashicorp.com, and
	// <mirror>/aquasecurity/trivy/releases/download/v<version>/trivy_<version>_... as github.com.
	// +optional
	toolsMirror string,
	// A service answering for the tools mirror's host name, e.g. tcp://localhost:8384 from the CLI.
	// +optional
	toolsMirrorService *dagger.Service,
	// An armored OpenPGP public key that signs the tools mirror's SHA256SUMS instead of HashiCorp's,
	// for a mirror your organisation re-signs.
	// +optional
	toolsKey *dagger.File,
	// A Sigstore trusted root (trusted_root.json) for the tools mirror's Trivy bundles, when they are
	// not signed through Sigstore's public-good instance (or to give a newer public-good root).
	// +optional
	toolsSigstoreRoot *dagger.File,
	// The certificate identity (exact subject alternative name) that signs the tools mirror's Trivy
	// bundles instead of Aqua Security's release workflow, with --tools-sigstore-issuer.
	// +optional
	toolsSigstoreIdentity string,
	// The OIDC issuer of --tools-sigstore-identity, e.g. https://token.actions.githubusercontent.com.
	// +optional
	toolsSigstoreIssuer string,
	// A Prometheus Pushgateway (e.g. http://pushgateway:9091) that receives each build's metrics,
	// failures included, under job cloudstack_templates and the OS as grouping key.
	// +optional
	metricsPush string,
	// A service answering for the Pushgateway's host name, e.g. tcp://localhost:9091 from the CLI.
	// +optional
	metricsPushService *dagger.Service,
	// Who starts the builds, for the audit log: CI passes its user ($GITHUB_ACTOR, $GITLAB_USER_LOGIN,
	// $BUILDKITE_BUILD_CREATOR); on a laptop, your login. The engine cannot see it for itself.
	// +optional
	actor string,
	// Where the builds are started from, for the audit log: the CI run's URL, or the host's name.
	// +optional
	origin string,
	// QEMU accelerator for every build and boot test: auto (KVM only where a test guest boots under
	// it, else TCG), kvm or tcg.
	// +default="auto"
	accel Accelerator,
	// Packer version to build and run; 1.9.x is the last MPL-licensed line and bundles the QEMU
	// builder. CI passes $PACKER_VERSION.
	// +default="1.9.4"
	packerVersion string,
	// Debian package version of QEMU to pin (e.g. 1:7.2+dfsg-7+deb12u18); empty takes the current one.
	// CI passes $QEMU_VERSION.
	// +optional
	qemuVersion string,
	// Flat mirror that replaces the vendor locations: each installer, its checksum file and signature
	// side by side under this URL (for air-gapped networks).
	// +optional
	mirror string,
	// A service that answers for the mirror's host name, e.g. tcp://localhost:8383 from the CLI, for
	// a mirror that only the calling machine can reach.
	// +optional
	mirrorService *dagger.Service,
	// A Trivy vulnerability DB directory (holding db/trivy.db and db/metadata.json) for air-gapped
	// engines; by default the DB is downloaded into a cache volume.
	// +optional
	trivyDb *dagger.Directory,
	// Source revision recorded in each build's metadata and provenance: CI passes the commit SHA.
	// +optional
	sourceCommit string,
	// The Debian archive the offline fixtures (testbed, replicas) are built from in the engine: a mirror
	// or proxy of deb.debian.org.
	// +default="http://deb.debian.org/debian"
	debianMirror string,
) (*CloudstackTemplates, error) {
	if err := checkMirror(mirror, mirrorService, mirrorAuth); err != nil {
		return nil, err
	}
	if sourceCommit == "" {
		sourceCommit = "unknown"
	}
	if err := checkSourceCommit(sourceCommit); err != nil {
		return nil, err
	}
	if err := checkTools(string(tools), toolsMirrorConfig{toolsMirror, toolsMirrorService, toolsKey, toolsSigstoreRoot,
		toolsSigstoreIdentity, toolsSigstoreIssuer}); err != nil {
		return nil, err
	}
	if err := checkMetricsPush(metricsPush, metricsPushService); err != nil {
		return nil, err
	}
	if err := checkAuditIdentity(actor, origin); err != nil {
		return nil, err
	}
	if err := checkDebianMirror(debianMirror); err != nil {
		return nil, err
	}
	return &CloudstackTemplates{Actor: actor, Origin: origin, Source: source, MirrorAuth: mirrorAuth, Qcow2Compression: string(qcow2Compression),
		Tools: string(tools), ToolsMirror: toolsMirror, ToolsMirrorService: toolsMirrorService, ToolsKey: toolsKey,
		ToolsSigstoreRoot: toolsSigstoreRoot, ToolsSigstoreIdentity: toolsSigstoreIdentity, ToolsSigstoreIssuer: toolsSigstoreIssuer,
		MetricsPush: metricsPush, MetricsPushService: metricsPushService,
		Accel: string(accel), PackerVersion: packerVersion, QemuVersion: qemuVersion, Mirror: mirror, MirrorService: mirrorService,
		TrivyDB: trivyDb, SourceCommit: sourceCommit, DebianMirror: debianMirror}, nil
}

// checkSourceCommit accepts a git commit ID (SHA-1 or SHA-256 object names) or "unknown".
func checkSourceCommit(c string) error {
	if c != "unknown" && !checksum.IsLowerHex(c, 40) && !checksum.IsLowerHex(c, 64) {
		return fmt.Errorf("--source-commit %q is not a git commit ID (40 or 64 lower-case hex digits)", c)
	}
	return nil
}

// List the operating systems this module builds: IDs and aliases for --os, versions, installer URLs,
// how each installer is verified, and the output formats.
func (m *CloudstackTemplates) List(
	// Output format: table (for people) or json (for machines, e.g. CI matrices).
	// +default="table"
	format OutputFormat,
) (string, error) {
	if format == OutputFormatJson {
		return osdefs.CatalogueJSON()
	}
	return osdefs.CatalogueTable(), nil
}

// Fetch an OS installer ISO (or, for the testbed, its disk image), verified against the vendor's
// checksum file and signing key, through a cache volume keyed by digest: a second fetch of the same
// file, from any mirror, downloads nothing. A failed or corrupt download leaves nothing in the cache.
func (m *CloudstackTemplates) FetchIso(
	ctx context.Context,
	// OS to fetch (an ID or alias, see the list function).
	os string,
	// Abort a download that receives nothing for this long (Go duration); it is then retried.
	// +default="60s"
	stallTimeout string,
) (*dagger.File, error) {
	d, err := osdefs.Lookup(os)
	if err != nil {
		return nil, err
	}
	if v, err := time.ParseDuration(stallTimeout); err != nil || v <= 0 {
		return nil, fmt.Errorf("--stall-timeout %q is not a positive duration like 30s", stallTimeout)
	}
	iso, _, err := m.fetch(ctx, d, stallTimeout)
	return iso, err
}

// Resolve an OS installer without downloading it: read and authenticate the vendor's checksum file
// (or take the catalogue's pinned digest) and print, as JSON, the installer's file name, algorithm and
// digest, with URLs redacted. CI keys its installer cache on the digest and hands the cached file to
// build --iso, which verifies it again. Never cached: a vendor may re-spin an installer under the same
// name, and this is how CI notices.
// +cache="never"
func (m *CloudstackTemplates) ResolveIso(
	ctx context.Context,
	// OS to resolve (an ID or alias, see the list function).
	os string,
) (string, error) {
	d, err := osdefs.Lookup(os)
	if err != nil {
		return "", err
	}
	p, err := m.resolveISO(ctx, d)
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(p.Redacted(), "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// One build tool's binary, exactly the file builds run: packer or trivy, from its vendor's signed
// release or compiled from source as --tools says. For inspection, or to run the same binary
// elsewhere.
func (m *CloudstackTemplates) Tool(
	// The tool: packer (at --packer-version) or trivy (the module's version).
	name ToolName,
) *dagger.File {
	if name == ToolNameTrivy {
		return m.trivyBinary()
	}
	return m.packerBinary()
}

// A container with everything a template build runs: Packer (HashiCorp's release, or built from
// source with its QEMU builder, the cloud plugins 1.9 vendors left out as in Packer 1.10+; see
// --tools), QEMU and qemu-img from Debian, OpenSSH and ISO tools, at --packer-version and
// --qemu-version.
func (m *CloudstackTemplates) Toolchain() *dagger.Container {
	return m.toolchain()
}

// Decide the QEMU accelerator the way build does: boot a test kernel under KVM and use KVM only if
// it really runs guests (or take what --accel asks for). Prints the decision and why.
func (m *CloudstackTemplates) Accelerator(ctx context.Context) (string, error) {
	d, probe, err := chooseAccel(ctx, m.Accel)
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("accelerator: %s\nkvm device: %v, boots a guest: %v (%.1fs)\n", d.Accel, probe.Device, probe.Boots, probe.Seconds)
	if d.Warning != "" {
		out += "warning: " + d.Warning + "\n"
	}
	return out, nil
}

// Run Packer for one OS: boot the installer (or disk image) under QEMU, let the unattended install
// and the CloudStack provisioning scripts run, and return Packer's output directory: the qcow2
// image, Packer's log and the guest's serial console log.
func (m *CloudstackTemplates) PackerBuild(
	ctx context.Context,
	// OS to build (an ID or alias, see the list function).
	os string,
	// Installer to use instead of fetching it (it is still checked against the checksum file).
	// +optional
	iso *dagger.File,
	// How long to wait for the installed system to answer SSH (Go duration); empty takes the OS's default.
	// +optional
	sshTimeout string,
) (*dagger.Directory, error) {
	d, err := osdefs.Lookup(os)
	if err != nil {
		return nil, err
	}
	r, err := m.packerBuild(ctx, buildRequest{def: d, iso: iso, sshTimeout: sshTimeout})
	if err != nil {
		return nil, err
	}
	return r.output, nil
}
