// Package sigstoreverify authenticates a file by its Sigstore bundle, offline: it is the
// osdefs.BundleVerifier that cst-fetch sets on its fetch.Client for osdefs.SigningSigstore sources
// (Trivy's releases). It is a package of its own, imported by cst-fetch only, so that osdefs, fetch
// and toolrelease, and the pipeline module that imports them, do not link sigstore-go and its
// dependencies.
//
// Verification never touches the network: the trusted root is given (or embedded), and a bundle
// carries its certificate, its transparency-log entry with the log's signed promise and inclusion
// proof, and any RFC 3161 timestamps. Only CurrentPublicGoodRoot goes out, to refresh the root from
// Sigstore's TUF repository as cosign does.
package sigstoreverify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// publicGoodRoot is Sigstore's public-good trusted root (osdefs.TrustedRootPublicGood): the Fulcio
// CAs, the Rekor log, the CT logs and the timestamp authority whose keys vouch for a keyless cosign
// signature. It is the file that github.com/sigstore/sigstore v1.10.0 embeds as its TUF target
// (pkg/tuf/repository/targets/trusted_root.json), byte for byte the same as github.com/sigstore/
// sigstore-go v1.1.4's examples/trusted-root-public-good.json (both from the Go module cache; its
// sha256 is pinned in the tests). Embedded rather than fetched at build time, like the vendors'
// OpenPGP keys: a root downloaded beside the bundle would prove nothing, and TUF needs the network.
//
// This copy lists Rekor v1 (rekor.sigstore.dev) and GitHub's timestamp authority but not the Rekor
// v2 logs or timestamp.sigstore.dev that later copies of the public-good root add: a bundle whose
// only log entry is in a Rekor v2 log does not verify against it. A newer root (Sigstore's TUF
// repository's trusted_root.json) can be given instead (cst-fetch tool --key, osdefs
// Source.TrustedRootJSON) or embedded here with its pin updated.
//
//go:embed trusted_root_public_good.json
var publicGoodRoot []byte

// PublicGoodRootJSON returns the embedded public-good trusted root.
func PublicGoodRootJSON() []byte { return bytes.Clone(publicGoodRoot) }

// ParseTrustedRoot reads a Sigstore trusted root (trusted_root.json) and checks that it can vouch for
// a keyless signature at all: at least one certificate authority and one transparency log.
func ParseTrustedRoot(rootJSON []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(rootJSON)
	if err != nil {
		return nil, fmt.Errorf("not a Sigstore trusted root (trusted_root.json): %w", err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.RekorLogs()) == 0 {
		return nil, errors.New("the Sigstore trusted root lists no certificate authority or no transparency log: it can vouch for no keyless signature")
	}
	return tr, nil
}

// trustedRoot is src's trusted root and its name for errors.
func trustedRoot(src osdefs.Source) (*root.TrustedRoot, string, error) {
	if len(src.TrustedRootJSON) > 0 {
		tr, err := ParseTrustedRoot(src.TrustedRootJSON)
		return tr, "the trusted root given for this source", err
	}
	if src.SigningKey != osdefs.TrustedRootPublicGood {
		return nil, "", fmt.Errorf("no embedded Sigstore trusted root %q (have %s)", src.SigningKey, osdefs.TrustedRootPublicGood)
	}
	tr, err := ParseTrustedRoot(publicGoodRoot)
	return tr, "Sigstore's public-good trusted root", err
}

// Verify is the osdefs.BundleVerifier: bundleJSON (a <file>.sigstore.json, bundle media types v0.1
// to v0.3) must be a signature over exactly artifact, by a certificate that
//   - chains to a certificate authority of src's trusted root at the time a transparency log of that
//     root attests (at least one log entry must verify: its signed promise and/or inclusion proof;
//     an RFC 3161 timestamp from one of the root's authorities may stand beside it);
//   - carries a signed certificate timestamp of one of the root's CT logs, when the root lists any
//     (the public-good one does; a private instance may run without CT);
//   - names exactly src.SigstoreIdentity as its subject alternative name and src.SigstoreIssuer as
//     its OIDC issuer: no pattern, so a release's bundle verifies for that release's tag only.
func Verify(src osdefs.Source, artifact, bundleJSON []byte) error {
	if src.SigstoreIdentity == "" || src.SigstoreIssuer == "" {
		return errors.New("the source names no Sigstore identity and issuer to expect: refusing to accept any signer")
	}
	tr, rootName, err := trustedRoot(src)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(bundleJSON)) == 0 {
		return errors.New("the Sigstore bundle is empty")
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return fmt.Errorf("the Sigstore bundle is unreadable: %w", err)
	}
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	if len(tr.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	v, err := verify.NewVerifier(tr, opts...)
	if err != nil {
		return err
	}
	id, err := verify.NewShortCertificateIdentity(src.SigstoreIssuer, "", src.SigstoreIdentity, "")
	if err != nil {
		return err
	}
	policy := verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithCertificateIdentity(id))
	if _, err := v.Verify(&b, policy); err != nil {
		// sigstore-go names the step that failed: signature (the file is not the one signed),
		// certificate identity, log inclusion, signed certificate timestamp, timestamps.
		return fmt.Errorf("the Sigstore bundle does not verify under %s: %w", rootName, err)
	}
	return nil
}

// Compile-time check that Verify fits the hook.
var _ osdefs.BundleVerifier = Verify

// tufTimeout bounds the TUF refresh: an engine that cannot reach Sigstore's TUF repository falls
// back to the embedded root within this long instead of hanging on a black-holed connection.
const tufTimeout = 45 * time.Second

// CurrentPublicGoodRoot returns Sigstore's current public-good trusted root, as cosign gets it: the
// trusted_root.json target of Sigstore's TUF repository (tuf-repo-cdn.sigstore.dev), whose metadata
// is authenticated from the TUF root that sigstore-go embeds, so only bytes Sigstore's root keys
// sign are taken. The TUF metadata is cached below cacheDir. It is what a bundle made with keys newer
// than the embedded root (a Rekor v2 log, another timestamp authority) needs; when the repository
// cannot be reached, the caller falls back to the embedded root (PublicGoodRootJSON).
func CurrentPublicGoodRoot(cacheDir string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := tuf.New(tuf.DefaultOptions().WithCachePath(cacheDir))
		if err != nil {
			done <- result{nil, fmt.Errorf("Sigstore's TUF repository: %w", err)}
			return
		}
		b, err := c.GetTarget("trusted_root.json")
		if err != nil {
			done <- result{nil, fmt.Errorf("Sigstore's TUF repository: trusted_root.json: %w", err)}
			return
		}
		if _, err := ParseTrustedRoot(b); err != nil {
			done <- result{nil, fmt.Errorf("Sigstore's TUF repository: %w", err)}
			return
		}
		done <- result{b, nil}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-time.After(tufTimeout):
		return nil, fmt.Errorf("Sigstore's TUF repository did not answer within %s", tufTimeout)
	}
}
