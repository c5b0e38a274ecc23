// Package toolrelease locates the build tools' official releases and how each vendor authenticates
// them, so an engine that can reach the vendor installs a signed binary instead of compiling it. The
// download and the signature check are the installer's (package fetch, osdefs.SignedChecksums): one
// trust path for every byte the build runs. A release signed with Sigstore (Trivy's) needs a client
// whose VerifyBundle is set (toolrelease/sigstoreverify.Verify, as cst-fetch does): this package does
// not import it, so the pipeline module that imports this one links no Sigstore client.
package toolrelease

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// HashiCorpReleases is where HashiCorp publishes releases: <base>/<product>/<version>/ holds
// <product>_<version>_<os>_<arch>.zip, <product>_<version>_SHA256SUMS and its detached signature
// <product>_<version>_SHA256SUMS.sig, made with HashiCorp's key (osdefs.KeyHashiCorp).
const HashiCorpReleases = "https://releases.hashicorp.com"

// GitHubReleases is where GitHub serves release assets: <base>/<owner>/<repo>/releases/download/<tag>/.
const GitHubReleases = "https://github.com"

// Trivy's releases, as its GoReleaser configuration (goreleaser.yml at the v0.68.1 and v0.68.2 tags of
// github.com/aquasecurity/trivy) makes them: archives "trivy_<version>_Linux-64bit.tar.gz" (the
// binary "trivy" at the top level, beside README.md, LICENSE and contrib/*.tpl), GoReleaser's default
// checksum file "trivy_<version>_checksums.txt", and `signs: cmd: cosign, signature:
// "${artifact}.sigstore.json", args: sign-blob --bundle=${signature} ${artifact}, artifacts: all`,
// which in GoReleaser's terms includes the checksum file: "trivy_<version>_checksums.txt.sigstore.json"
// is published beside every "<asset>.sigstore.json" (cosign v3 from sigstore/cosign-installer v4.0.0
// in .github/workflows/reusable-release.yaml; the switch from .sig/.pem is aquasecurity/trivy#9863,
// commit c7accc85c6). Trivy's signature-verification guide
// (https://trivy.dev/docs/latest/getting-started/signature-verification) has shipped since v0.68.1
// "a corresponding .sigstore.json bundle file" for "every release asset", verified keyless with the
// issuer and the identity below. So the checksum file is what is authenticated, and the archive is
// checked against it, as for HashiCorp's releases.
const (
	// trivyIssuer is the OIDC issuer of the GitHub Actions workflow that signs Trivy's releases.
	trivyIssuer = "https://token.actions.githubusercontent.com"
	// trivyIdentity is the certificate identity of that workflow at the release's tag (%s: the version).
	trivyIdentity = "https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v%s"
	// trivyFirstBundled is the first Trivy release with Sigstore bundles. Earlier ones carry a bare
	// cosign signature and certificate (.sig, .pem) whose Rekor entry can only be looked up online.
	trivyFirstBundled = "0.68.1"
)

// Release is one release archive of a tool, for linux/amd64 (the engines this module runs on).
type Release struct {
	Tool    string
	Version string
	// Vendor names who signs it, for errors.
	Vendor string
	// Key names the signing key (or Sigstore identity) for errors when it is not the vendor's (a
	// re-signed mirror).
	Key string
	// Source is the archive, its checksum file and signature, as an installer's would be.
	Source osdefs.Source
	// Binary is the executable at the archive's top level.
	Binary string
}

// ID names the release, e.g. packer-1.9.4: the download cache keys its entries by it.
func (r Release) ID() string { return r.Tool + "-" + r.Version }

var versionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// vendorRelease is how one tool's releases are found.
type vendorRelease struct {
	// site is the vendor's base URL, which a mirror replaces.
	site string
	// since, when set, is the first version with a release path; why says why earlier ones have none.
	since, why string
	make       func(version, base string) Release
}

// makers are the tools with a release path, by name.
var makers = map[string]vendorRelease{
	"packer": {site: HashiCorpReleases, make: hashiCorp("packer")},
	"trivy": {site: GitHubReleases, make: trivy, since: trivyFirstBundled,
		why: "Trivy publishes Sigstore bundles (<asset>.sigstore.json), which verify offline, since v" + trivyFirstBundled +
			"; earlier releases carry only a cosign .sig and .pem, whose transparency-log entry can only be checked online"},
}

// Tools lists the tools Lookup knows.
func Tools() []string {
	var names []string
	for n := range makers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// trivy is Aqua Security's release of Trivy on GitHub (see trivyIdentity for what signs it).
func trivy(version, base string) Release {
	dir := fmt.Sprintf("%s/aquasecurity/trivy/releases/download/v%s/", strings.TrimRight(base, "/"), version)
	sums := fmt.Sprintf("trivy_%s_checksums.txt", version)
	return Release{
		Tool: "trivy", Version: version, Vendor: "Aqua Security", Binary: "trivy",
		Source: osdefs.Source{
			URL:              dir + fmt.Sprintf("trivy_%s_Linux-64bit.tar.gz", version),
			ChecksumURL:      dir + sums,
			SignatureURL:     dir + sums + ".sigstore.json",
			Algorithm:        "sha256",
			Signing:          osdefs.SigningSigstore,
			SigningKey:       osdefs.TrustedRootPublicGood,
			SigstoreIdentity: fmt.Sprintf(trivyIdentity, version),
			SigstoreIssuer:   trivyIssuer,
		},
	}
}

// versionLess compares release versions that match versionRe.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range as {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return false
}

func hashiCorp(product string) func(version, base string) Release {
	return func(version, base string) Release {
		dir := fmt.Sprintf("%s/%s/%s/", strings.TrimRight(base, "/"), product, version)
		sums := fmt.Sprintf("%s_%s_SHA256SUMS", product, version)
		return Release{
			Tool: product, Version: version, Vendor: "HashiCorp", Binary: product,
			Source: osdefs.Source{
				URL:          dir + fmt.Sprintf("%s_%s_linux_amd64.zip", product, version),
				ChecksumURL:  dir + sums,
				SignatureURL: dir + sums + ".sig",
				Algorithm:    "sha256",
				Signing:      osdefs.SigningDetached,
				SigningKey:   osdefs.KeyHashiCorp,
			},
		}
	}
}

// Lookup returns the release of tool at version from base: the vendor's site when base is empty, or
// a mirror laid out like it (the same paths below base).
func Lookup(tool, version, base string) (Release, error) {
	v, ok := makers[tool]
	if !ok {
		return Release{}, fmt.Errorf("no release path for tool %q: the tools with one are %s", tool, strings.Join(Tools(), ", "))
	}
	if !versionRe.MatchString(version) {
		return Release{}, fmt.Errorf("%s version %q is not a release version like 1.9.4", tool, version)
	}
	if v.since != "" && versionLess(version, v.since) {
		return Release{}, fmt.Errorf("no verifiable release of %s %s: %s; use %s or later, or build it from source", tool, version, v.why, v.since)
	}
	if base == "" {
		base = v.site
	} else if err := CheckMirror(base); err != nil {
		return Release{}, err
	}
	return v.make(version, base), nil
}

// CheckMirror refuses a tools mirror URL that is not a plain http(s) directory: credentials, a query
// or a fragment would be recorded by the engine or end up in front of the file names.
func CheckMirror(base string) error {
	if _, problem := fetch.ParseLocation(base); problem != fetch.PlainLocation {
		return fmt.Errorf("tools mirror %q is not an http(s) directory URL without credentials, query or fragment, like http://mirror.example/hashicorp", redact.URL(base))
	}
	return nil
}

// Extract writes the release's binary from its archive (zip or tar.gz, by the file name the vendor
// gives it) to dst, executable. Only a regular file of that exact name at the archive's top level is
// taken: an archive without it is an error, no other member is ever written, and a failed extract
// leaves nothing at dst.
func (r Release) Extract(archive, dst string) error {
	switch name := r.Source.FileName(); {
	case strings.HasSuffix(name, ".zip"):
		return r.extractZip(archive, dst)
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return r.extractTarGz(archive, dst)
	default:
		return fmt.Errorf("%s archive %s: no extractor for %s (zip or tar.gz)", r.ID(), archive, name)
	}
}

func (r Release) extractZip(archive, dst string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("%s archive %s: %w", r.ID(), archive, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != r.Binary {
			continue
		}
		if !f.Mode().IsRegular() {
			return fmt.Errorf("%s archive: %s is not a regular file", r.ID(), f.Name)
		}
		in, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s archive: %w", r.ID(), err)
		}
		defer in.Close()
		return r.writeBinary(in, dst)
	}
	return fmt.Errorf("%s archive %s has no %s at its top level", r.ID(), archive, r.Binary)
}

func (r Release) extractTarGz(archive, dst string) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("%s archive %s: %w", r.ID(), archive, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s archive %s: %w", r.ID(), archive, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s archive %s has no %s at its top level", r.ID(), archive, r.Binary)
		}
		if err != nil {
			return fmt.Errorf("%s archive %s: %w", r.ID(), archive, err)
		}
		if h.Name != r.Binary {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s archive: %s is not a regular file", r.ID(), h.Name)
		}
		return r.writeBinary(tr, dst)
	}
}

// writeBinary copies in to dst, executable, through a temporary file renamed only once complete.
func (r Release) writeBinary(in io.Reader, dst string) error {
	tmp := dst + ".partial"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s archive: %w", r.ID(), err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// Install resolves the release (its checksum file authenticated by the vendor's signature), downloads
// the archive into cache (verified against that checksum, reused by digest), and extracts the binary
// to dst. It returns the plan, URLs redacted.
func Install(ctx context.Context, c *fetch.Client, r Release, cache, dst string) (fetch.Plan, error) {
	p, err := fetch.NewSourcePlan(r.ID(), r.Source, "")
	if err != nil {
		return fetch.Plan{}, err
	}
	if p, err = c.ResolveSource(ctx, fetch.Signer{ID: r.ID(), Name: r.Vendor, Key: r.signer()}, r.Source, p); err != nil {
		return fetch.Plan{}, err
	}
	want := fetch.Want{Algorithm: p.Algorithm, Digest: p.Digest, From: "the signed checksum file " + redact.URL(p.ChecksumURL)}
	res, err := c.Download(ctx, p.URL, p.CachePath(cache), want)
	if err != nil {
		return fetch.Plan{}, err
	}
	if err := r.Extract(res.Path, dst); err != nil {
		return fetch.Plan{}, err
	}
	return p.Redacted(), nil
}

// signer names what must sign the release's checksum file, for errors: Key when set, else for a
// Sigstore release the certificate identity (the verifier's error names the trusted root), else
// (empty) the vendor's key.
func (r Release) signer() string {
	if r.Key != "" || r.Source.Signing != osdefs.SigningSigstore {
		return r.Key
	}
	return fmt.Sprintf("%s's release identity %s (issuer %s)", r.Vendor, r.Source.SigstoreIdentity, r.Source.SigstoreIssuer)
}
