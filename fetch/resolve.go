package fetch

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// Plan is what to download for one OS and how to check it.
type Plan struct {
	OS           string `json:"os"`
	URL          string `json:"url"`
	ChecksumURL  string `json:"checksumUrl"`
	SignatureURL string `json:"signatureUrl,omitempty"`
	FileName     string `json:"fileName"`
	Algorithm    string `json:"algorithm"`
	// Digest is the expected hex digest, known once the checksum file has been read and verified.
	Digest string `json:"digest,omitempty"`
	// Verified says how the digest was authenticated: "signature", "pinned" or "unsigned".
	Verified string `json:"verified,omitempty"`
}

// NewPlan computes the URLs for d. A non-empty mirror replaces the vendor location: the installer,
// its checksum file and signature are expected side by side directly under the mirror URL (the
// layout of a flat air-gapped mirror; `wget` the three files into one directory).
func NewPlan(d osdefs.Definition, mirror string) (Plan, error) {
	p := Plan{
		OS:           d.ID,
		URL:          d.Source.URL,
		ChecksumURL:  d.Source.ChecksumURL,
		SignatureURL: d.Source.SignatureURL,
		FileName:     d.Source.FileName(),
		Algorithm:    d.Source.Algorithm,
	}
	if mirror == "" {
		return p, nil
	}
	base, err := MirrorBase(mirror)
	if err != nil {
		return Plan{}, err
	}
	p.URL = base + path.Base(d.Source.URL)
	p.ChecksumURL = base + path.Base(d.Source.ChecksumURL)
	if p.SignatureURL != "" {
		p.SignatureURL = base + path.Base(d.Source.SignatureURL)
	}
	return p, nil
}

// MirrorBase validates a mirror URL and returns it with a trailing slash.
func MirrorBase(mirror string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(mirror))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("mirror %q is not an http(s) URL like http://mirror.example:8080/isos", mirror)
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// CacheKey names the cache entry of a verified download by what it is, not where it came from: the
// same file from any mirror is one entry, and a vendor re-spin under the same URL is a new one.
func (p Plan) CacheKey() string {
	return fmt.Sprintf("%s/%s-%s", p.OS, p.Algorithm, p.Digest)
}

// CachePath is where the verified file lives below the cache root.
func (p Plan) CachePath(root string) string {
	return path.Join(root, p.CacheKey(), p.FileName)
}

// maxChecksumFile bounds what is read as a checksum file or signature.
const maxChecksumFile = 4 << 20

// Resolve reads the checksum file (and signature), authenticates it as the definition says, and fills
// in Digest and Verified.
func (c *Client) Resolve(ctx context.Context, d osdefs.Definition, p Plan) (Plan, error) {
	sums, err := c.Get(ctx, p.ChecksumURL, maxChecksumFile)
	if err != nil {
		return Plan{}, fmt.Errorf("checksum file for %s: %w", d.ID, err)
	}
	switch d.Source.Signing {
	case osdefs.SigningClearsigned:
		if _, err := osdefs.VerifyClearsigned(sums, d.Source.SigningKey); err != nil {
			return Plan{}, fmt.Errorf("checksum file %s is not signed by %s's key: %w", p.ChecksumURL, d.Name, err)
		}
		p.Verified = "signature"
	case osdefs.SigningDetached:
		sig, err := c.Get(ctx, p.SignatureURL, maxChecksumFile)
		if err != nil {
			return Plan{}, fmt.Errorf("signature for %s: %w", d.ID, err)
		}
		if err := osdefs.VerifyDetached(sums, sig, d.Source.SigningKey); err != nil {
			return Plan{}, fmt.Errorf("checksum file %s is not signed by %s's key: %w", p.ChecksumURL, d.Name, err)
		}
		p.Verified = "signature"
	default:
		p.Verified = "unsigned"
	}
	digest, err := osdefs.LookupChecksum(sums, p.Algorithm, p.FileName)
	if err != nil {
		return Plan{}, fmt.Errorf("checksum file %s: %w", p.ChecksumURL, err)
	}
	if pin := d.Source.PinnedDigest; pin != "" {
		want, err := osdefs.NormalizeDigest(p.Algorithm, pin)
		if err != nil {
			return Plan{}, fmt.Errorf("pinned digest of %s: %w", d.ID, err)
		}
		if digest != want {
			return Plan{}, fmt.Errorf("checksum file %s lists %s for %s, but the catalogue pins %s: the vendor re-spun the ISO or the file was tampered with; update osdefs/%s.go after checking",
				p.ChecksumURL, digest, p.FileName, want, d.ID)
		}
		p.Verified = "pinned"
	}
	p.Digest = digest
	return p, nil
}
