// Package redact removes credentials from anything cloudstack-templates prints, logs or records: the
// userinfo of a URL (https://user:pass@mirror/…), its query (pre-signed download URLs carry their
// signature and key there) and secrets the caller names (API keys). Every URL that reaches an error,
// a log line, metadata or the fetch plan goes through URL or Text, so there is one place to get right.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask stands in for whatever was removed.
const Mask = "REDACTED"

// URL returns raw with its userinfo and query replaced by Mask. A URL without either is returned
// unchanged; text that does not parse as a URL is scrubbed with Text, so a malformed URL quoted in an
// error does not leak what it carries either.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return Text(raw)
	}
	return redactParsed(u)
}

func redactParsed(u *url.URL) string {
	if u.User == nil && u.RawQuery == "" && !u.ForceQuery {
		return u.String()
	}
	c := *u
	c.User = nil
	s := c.String()
	if u.User != nil {
		s = strings.Replace(s, "://", "://"+Mask+"@", 1)
	}
	if u.RawQuery != "" {
		// String() put the query back; cut it off before the fragment.
		if i := strings.IndexByte(s, '?'); i >= 0 {
			rest := ""
			if j := strings.IndexByte(s[i:], '#'); j >= 0 {
				rest = s[i+j:]
			}
			s = s[:i] + "?" + Mask + rest
		}
	}
	return s
}

// urlRe finds URLs inside free text (error messages, server status text): a scheme, "://", then
// everything up to white space or a quote.
var urlRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// credentialParamRe finds credential parameters of signed requests outside a URL (CloudStack's
// apiKey and signature, S3's and GCS's X-Amz-/X-Goog- signatures and credentials, Azure SAS "sig").
var credentialParamRe = regexp.MustCompile(`(?i)\b(apikey|signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|token|access_token|password|passwd)=[^&\s"']*`)

// Text returns s with every URL in it redacted as URL does, credential parameters outside URLs
// masked, and each of secrets (and its URL-encoded form) replaced by Mask. Empty secrets are ignored.
func Text(s string, secrets ...string) string {
	s = urlRe.ReplaceAllStringFunc(s, func(m string) string {
		// Trailing punctuation of a sentence is not part of the URL.
		trail := ""
		for len(m) > 0 && strings.ContainsRune(".,;:)]}", rune(m[len(m)-1])) {
			trail = m[len(m)-1:] + trail
			m = m[:len(m)-1]
		}
		u, err := url.Parse(m)
		if err != nil {
			return schemeOnly(m) + trail
		}
		return redactParsed(u) + trail
	})
	s = credentialParamRe.ReplaceAllString(s, "$1="+Mask)
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		s = strings.ReplaceAll(s, secret, Mask)
		if q := url.QueryEscape(secret); q != secret {
			s = strings.ReplaceAll(s, q, Mask)
		}
		if p := url.PathEscape(secret); p != secret {
			s = strings.ReplaceAll(s, p, Mask)
		}
	}
	return s
}

// schemeOnly keeps the scheme and host of an unparsable URL-like string and masks the rest when it
// could hold credentials.
func schemeOnly(m string) string {
	i := strings.Index(m, "://")
	rest := m[i+3:]
	if at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@'); at >= 0 {
		rest = Mask + "@" + rest[at+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q] + "?" + Mask
	}
	return m[:i+3] + rest
}

// HasCredentials reports whether raw is a URL that carries userinfo or a query, i.e. whether it must
// travel as a secret rather than as a plain argument that the engine records.
func HasCredentials(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.Contains(raw, "@") || strings.Contains(raw, "?")
	}
	return u.User != nil || u.RawQuery != "" || u.ForceQuery
}
