package fetch

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
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
	return NewSourcePlan(d.ID, d.Source, mirror)
}

// NewSourcePlan is NewPlan for any source: an OS's installer, or a tool's release archive (id then
// names the tool, e.g. packer-1.9.4, and keys its cache entries).
func NewSourcePlan(id string, src osdefs.Source, mirror string) (Plan, error) {
	p := Plan{
		OS:           id,
		URL:          src.URL,
		ChecksumURL:  src.ChecksumURL,
		SignatureURL: src.SignatureURL,
		FileName:     src.FileName(),
		Algorithm:    src.Algorithm,
	}
	if mirror == "" {
		return p, nil
	}
	base, err := MirrorBase(mirror)
	if err != nil {
		return Plan{}, err
	}
	p.URL = base + path.Base(src.URL)
	p.ChecksumURL = base + path.Base(src.ChecksumURL)
	if p.SignatureURL != "" {
		p.SignatureURL = base + path.Base(src.SignatureURL)
	}
	return p, nil
}

// MirrorBase validates a mirror URL and returns it with a trailing slash.
func MirrorBase(mirror string) (string, error) {
	u, problem := ParseLocation(strings.TrimSpace(mirror))
	switch problem {
	case NotHTTP:
		return "", fmt.Errorf("mirror %q is not an http(s) URL like http://mirror.example:8080/isos", redact.URL(mirror))
	case HasQuery:
		// File names are appended to the mirror's path: a query (a pre-signed URL signs one object,
		// not a directory) or a fragment would end up in front of them.
		return "", fmt.Errorf("mirror %q must be a directory URL without a query or fragment, like http://mirror.example:8080/isos", redact.URL(mirror))
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// LocationProblem is what keeps a URL from being a plain http(s) location that file names can be
// appended to and that the engine may record.
type LocationProblem int

const (
	// PlainLocation: an http(s) URL with a host, no query and no fragment.
	PlainLocation LocationProblem = iota
	// NotHTTP: unparsable, another scheme, or no host.
	NotHTTP
	// HasQuery: a query (a pre-signed URL's signature lives there) or a fragment.
	HasQuery
	// HasCredentials: user information (user:password@) in an otherwise plain location.
	HasCredentials
)

// ParseLocation parses raw and says what, if anything, keeps it from being a plain location. Each
// caller words the error for its own flag; the rule is this one.
func ParseLocation(raw string) (*url.URL, LocationProblem) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, NotHTTP
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return u, HasQuery
	case u.User != nil:
		return u, HasCredentials
	}
	return u, PlainLocation
}

// WithAuth returns the plan with credentials, "user:password" or a user alone, on each of its URLs:
// the HTTP client then sends them as basic authentication (and drops them on a redirect to another
// host). The credentials come from a secret; errors about them never repeat them.
func (p Plan) WithAuth(userinfo string) (Plan, error) {
	userinfo = strings.TrimRight(userinfo, "\r\n")
	if userinfo == "" {
		return p, nil
	}
	if strings.ContainsAny(userinfo, "\r\n") {
		return Plan{}, fmt.Errorf("mirror credentials must be one line, user:password")
	}
	user, pass, hasPass := strings.Cut(userinfo, ":")
	if user == "" {
		return Plan{}, fmt.Errorf("mirror credentials have no user name: give them as user:password")
	}
	info := url.User(user)
	if hasPass {
		info = url.UserPassword(user, pass)
	}
	for _, s := range []*string{&p.URL, &p.ChecksumURL, &p.SignatureURL} {
		if *s == "" {
			continue
		}
		u, err := url.Parse(*s)
		if err != nil {
			return Plan{}, fmt.Errorf("URL %s: %w", redact.URL(*s), err)
		}
		u.User = info
		*s = u.String()
	}
	return p, nil
}

// Redacted returns the plan with the credentials of its URLs (userinfo, signed queries) masked: the
// form that may be printed, logged or handed to the pipeline as JSON.
func (p Plan) Redacted() Plan {
	p.URL = redact.URL(p.URL)
	p.ChecksumURL = redact.URL(p.ChecksumURL)
	if p.SignatureURL != "" {
		p.SignatureURL = redact.URL(p.SignatureURL)
	}
	return p
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
// in Digest and Verified. The digest is read only from the bytes the signature covers; URLs in its
// errors are redacted.
func (c *Client) Resolve(ctx context.Context, d osdefs.Definition, p Plan) (Plan, error) {
	return c.ResolveSource(ctx, Signer{ID: d.ID, Name: d.Name, File: d.File}, d.Source, p)
}

// Signer names whose checksum file a source's is, for errors: an OS of the catalogue, or a tool's
// vendor. File is where its pinned digest is written, if any; Key names the key that must sign it
// (default: Name's key).
type Signer struct{ ID, Name, File, Key string }

// ResolveSource is Resolve for any source (see NewSourcePlan).
func (c *Client) ResolveSource(ctx context.Context, who Signer, src osdefs.Source, p Plan) (Plan, error) {
	sumsURL := redact.URL(p.ChecksumURL)
	sums, err := c.Get(ctx, p.ChecksumURL, maxChecksumFile)
	if err != nil {
		return Plan{}, fmt.Errorf("checksum file for %s: %w", who.ID, err)
	}
	var sig []byte
	switch src.Signing {
	case osdefs.SigningDetached:
		if sig, err = c.Get(ctx, p.SignatureURL, maxChecksumFile); err != nil {
			return Plan{}, fmt.Errorf("signature for %s: %w", who.ID, err)
		}
	case osdefs.SigningSigstore:
		if c.VerifyBundle == nil {
			return Plan{}, fmt.Errorf("checksum file %s is authenticated by a Sigstore bundle, and this client has no Sigstore verifier (fetch.Client.VerifyBundle; cst-fetch sets it)", sumsURL)
		}
		if sig, err = c.Get(ctx, p.SignatureURL, maxChecksumFile); err != nil {
			return Plan{}, fmt.Errorf("Sigstore bundle for %s: %w", who.ID, err)
		}
	}
	signed, err := osdefs.SignedChecksumsWith(src, sums, sig, c.VerifyBundle)
	if err != nil {
		key := who.Key
		if key == "" {
			key = who.Name + "'s key"
		}
		return Plan{}, fmt.Errorf("checksum file %s is not signed by %s: %w", sumsURL, key, err)
	}
	p.Verified = "unsigned"
	if src.Signing != osdefs.SigningNone {
		p.Verified = "signature"
	}
	digest, err := checksum.Lookup(signed, p.Algorithm, p.FileName)
	if err != nil {
		return Plan{}, fmt.Errorf("checksum file %s: %w", sumsURL, err)
	}
	if pin := src.PinnedDigest; pin != "" {
		want, err := checksum.Normalize(p.Algorithm, pin)
		if err != nil {
			return Plan{}, fmt.Errorf("pinned digest of %s (%s): %w", who.ID, who.File, err)
		}
		if digest != want {
			return Plan{}, fmt.Errorf("checksum file %s lists %s for %s, but the catalogue pins %s: the vendor re-spun the ISO or the file was tampered with; update %s after checking",
				sumsURL, digest, p.FileName, want, who.File)
		}
		p.Verified = "pinned"
	}
	p.Digest = digest
	return p, nil
}
