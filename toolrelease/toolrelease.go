// Package toolrelease locates the build tools' official releases and how each vendor authenticates
// them, so an engine that can reach the vendor installs a signed binary instead of compiling it. The
// download and the signature check are the installer's (package fetch, osdefs.SignedChecksums): one
// trust path for every byte the build runs.
package toolrelease

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// HashiCorpReleases is where HashiCorp publishes releases: <base>/<product>/<version>/ holds
// <product>_<version>_<os>_<arch>.zip, <product>_<version>_SHA256SUMS and its detached signature
// <product>_<version>_SHA256SUMS.sig, made with HashiCorp's key (osdefs.KeyHashiCorp).
const HashiCorpReleases = "https://releases.hashicorp.com"

// Release is one release archive of a tool, for linux/amd64 (the engines this module runs on).
type Release struct {
	Tool    string
	Version string
	// Vendor names who signs it, for errors.
	Vendor string
	// Key names the signing key for errors when it is not the vendor's (a re-signed mirror).
	Key string
	// Source is the archive, its checksum file and signature, as an installer's would be.
	Source osdefs.Source
	// Binary is the executable at the archive's top level.
	Binary string
}

// ID names the release, e.g. packer-1.9.4: the download cache keys its entries by it.
func (r Release) ID() string { return r.Tool + "-" + r.Version }

var versionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// makers are the tools with a release path, by name.
var makers = map[string]func(version, base string) Release{
	"packer": hashiCorp("packer"),
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
	make, ok := makers[tool]
	if !ok {
		return Release{}, fmt.Errorf("no release path for tool %q: the tools with one are %s", tool, strings.Join(Tools(), ", "))
	}
	if !versionRe.MatchString(version) {
		return Release{}, fmt.Errorf("%s version %q is not a release version like 1.9.4", tool, version)
	}
	if base == "" {
		base = HashiCorpReleases
	} else if err := CheckMirror(base); err != nil {
		return Release{}, err
	}
	return make(version, base), nil
}

// CheckMirror refuses a tools mirror URL that is not a plain http(s) directory: credentials, a query
// or a fragment would be recorded by the engine or end up in front of the file names.
func CheckMirror(base string) error {
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("tools mirror %q is not an http(s) directory URL without credentials, query or fragment, like http://mirror.example/hashicorp", redact.URL(base))
	}
	return nil
}

// Extract writes the release's binary from its zip archive to dst, executable. Only a regular file
// of that exact name at the archive's top level is taken: an archive without it is an error, and no
// other member is ever written.
func (r Release) Extract(archive, dst string) error {
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
	return fmt.Errorf("%s archive %s has no %s at its top level", r.ID(), archive, r.Binary)
}

// Install resolves the release (its checksum file authenticated by the vendor's signature), downloads
// the archive into cache (verified against that checksum, reused by digest), and extracts the binary
// to dst. It returns the plan, URLs redacted.
func Install(ctx context.Context, c *fetch.Client, r Release, cache, dst string) (fetch.Plan, error) {
	p, err := fetch.NewSourcePlan(r.ID(), r.Source, "")
	if err != nil {
		return fetch.Plan{}, err
	}
	if p, err = c.ResolveSource(ctx, fetch.Signer{ID: r.ID(), Name: r.Vendor, Key: r.Key}, r.Source, p); err != nil {
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
