package osdefs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

// Vendor signing keys are embedded rather than fetched at build time: a key downloaded from the same
// place as the checksum file proves nothing. Each key's fingerprint is pinned in signature_test.go
// against the vendor's published fingerprint.
//
//go:embed keys/*.asc
var keysFS embed.FS

// The embedded vendor keys, by the name a Source.SigningKey uses.
const (
	// KeyUbuntu is the Ubuntu CD Image Automatic Signing Key (2012),
	// 8439 38DF 228D 22F7 B374 2BC0 D94A A3F0 EFE2 1092. It signs releases.ubuntu.com SHA256SUMS.gpg.
	KeyUbuntu = "ubuntu-cdimage-2012"
	// KeyAlmaLinux9 is "AlmaLinux OS 9 <packager@almalinux.org>",
	// BF18 AC28 7617 8908 D6E7 1267 D36C B86C B86B 3716. It clearsigns the AlmaLinux 9 ISO CHECKSUM.
	KeyAlmaLinux9 = "almalinux-9"
	// KeyFedora41 is "Fedora (41) <fedora-41-primary@fedoraproject.org>",
	// 466C F2D8 B60B C305 7AA9 453E D062 2462 E99D 6AD1. It clearsigns the Fedora 41 *-CHECKSUM files.
	KeyFedora41 = "fedora-41"
	// KeyHashiCorp is "HashiCorp Security (hashicorp.com/security) <security@hashicorp.com>",
	// C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F, with the expiry HashiCorp extended to 2030
	// (the copy in github.com/hashicorp/hc-install v0.10.0, internal/pubkey/pubkey.go; HashiCorp
	// publishes it at https://www.hashicorp.com/security). It signs releases.hashicorp.com's
	// <product>_<version>_SHA256SUMS (detached, .sig).
	KeyHashiCorp = "hashicorp"
)

// TrustedRootPublicGood names Sigstore's public-good trusted root (Fulcio, Rekor, CT log and TSA
// keys) as a SigningSigstore source's SigningKey. The root itself is embedded by the BundleVerifier
// (toolrelease/sigstoreverify), not here.
const TrustedRootPublicGood = "sigstore-public-good"

// BundleVerifier checks a Sigstore bundle (its JSON serialization, <file>.sigstore.json) over artifact,
// offline, for a SigningSigstore source: the certificate chains to src's trusted root (SigningKey, or
// TrustedRootJSON when set) at a time the transparency log attests, the log entry is included, the
// certificate names exactly src.SigstoreIdentity and src.SigstoreIssuer, and the signature covers
// exactly artifact. It returns nil only if all of that holds.
type BundleVerifier func(src Source, artifact, bundle []byte) error

// KeyNames lists the embedded signing keys.
func KeyNames() []string {
	entries, _ := keysFS.ReadDir("keys")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".asc"))
	}
	return names
}

// SigningKeyring returns the embedded armored key keyName (without ".asc") as a keyring.
func SigningKeyring(keyName string) (openpgp.EntityList, error) {
	if keyName == "" || strings.ContainsAny(keyName, "/\\") {
		return nil, fmt.Errorf("invalid signing key name %q", keyName)
	}
	raw, err := keysFS.ReadFile("keys/" + keyName + ".asc")
	if err != nil {
		return nil, fmt.Errorf("no embedded signing key %q (have %s)", keyName, strings.Join(KeyNames(), ", "))
	}
	return readKeyring(raw)
}

func readKeyring(armored []byte) (openpgp.EntityList, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("parse armored key: %w", err)
	}
	if len(ring) == 0 {
		return nil, errors.New("armored key block holds no key")
	}
	return ring, nil
}

// SignedChecksums returns the bytes of a downloaded checksum file that may be read for digests: for
// a clearsigned file, the plaintext its signature covers (dash-escaping undone); for a detached
// signature, the file itself once the signature over exactly those bytes verifies; for an unsigned
// source, the file as downloaded (the catalogue's pinned digest is then the trust anchor, which the
// caller checks). Nothing outside what a signature covers is ever returned, so no mirror can add or
// replace a digest around a valid signature.
func SignedChecksums(src Source, checksumFile, signature []byte) ([]byte, error) {
	return SignedChecksumsWith(src, checksumFile, signature, nil)
}

// SignedChecksumsWith is SignedChecksums that can also authenticate a SigningSigstore source: its
// signature is the bundle, which verify checks over exactly checksumFile. Without a verifier such a
// source is refused, never read unauthenticated.
func SignedChecksumsWith(src Source, checksumFile, signature []byte, verify BundleVerifier) ([]byte, error) {
	if src.Signing == SigningSigstore {
		if verify == nil {
			return nil, errors.New("the checksum file is authenticated by a Sigstore bundle, and this program has no Sigstore verifier (cst-fetch has one)")
		}
		if err := verify(src, checksumFile, signature); err != nil {
			return nil, err
		}
		return checksumFile, nil
	}
	var ring openpgp.KeyRing
	keyName := src.SigningKey
	if src.Signing == SigningClearsigned || src.Signing == SigningDetached {
		var err error
		if len(src.SigningKeyArmored) > 0 {
			ring, err = readKeyring(src.SigningKeyArmored)
			keyName = "given for this source"
		} else {
			ring, err = SigningKeyring(src.SigningKey)
		}
		if err != nil {
			return nil, err
		}
	}
	switch src.Signing {
	case SigningClearsigned:
		return verifyClearsigned(checksumFile, ring, keyName)
	case SigningDetached:
		if err := verifyDetached(checksumFile, signature, ring, keyName); err != nil {
			return nil, err
		}
		return checksumFile, nil
	case SigningNone:
		return checksumFile, nil
	}
	return nil, fmt.Errorf("unknown signing method %q", src.Signing)
}

// VerifyClearsigned checks an OpenPGP clearsigned message (AlmaLinux and Fedora CHECKSUM files) against
// the embedded key keyName and returns the signed text with dash-escaping undone. Only the returned
// bytes are authenticated: callers must parse them, not the original data, so that text outside the
// signed block cannot inject checksum lines.
func VerifyClearsigned(data []byte, keyName string) ([]byte, error) {
	ring, err := SigningKeyring(keyName)
	if err != nil {
		return nil, err
	}
	return verifyClearsigned(data, ring, keyName)
}

const clearsignBegin = "-----BEGIN PGP SIGNED MESSAGE-----"

// verifyClearsigned accepts exactly one clearsigned block and nothing around it but white space:
// unsigned text before or after the block (or a second block) is refused rather than ignored, since
// a reader of the file, a person or another tool, could take it for part of the vendor's message.
func verifyClearsigned(data []byte, ring openpgp.KeyRing, keyName string) ([]byte, error) {
	begin := bytes.Index(data, []byte(clearsignBegin))
	if begin < 0 {
		return nil, fmt.Errorf("checksum file is not an OpenPGP clearsigned message (expected a signature by %s)", keyName)
	}
	if before := bytes.TrimSpace(data[:begin]); len(before) > 0 {
		return nil, fmt.Errorf("checksum file has %d bytes of unsigned text before its clearsigned block (%q): refusing it", len(before), firstLine(before))
	}
	norm := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if n := bytes.Count(norm[begin:], []byte("\n"+clearsignBegin)) + 1; n > 1 {
		return nil, fmt.Errorf("checksum file holds %d clearsigned headers where a vendor's has one: refusing it", n)
	}
	block, rest := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("checksum file's clearsigned block is malformed (header line, Hash header or signature armor) (expected a signature by %s)", keyName)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("checksum file has unsigned data after its clearsigned block (%q): refusing it", firstLine(bytes.TrimSpace(rest)))
	}
	if _, err := block.VerifySignature(ring, nil); err != nil {
		return nil, fmt.Errorf("clearsigned checksum file does not verify with key %s: %w", keyName, err)
	}
	return block.Plaintext, nil
}

// firstLine is the first line of b, shortened for an error message.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// VerifyDetached checks a detached OpenPGP signature sig (armored or binary, e.g. Ubuntu's SHA256SUMS.gpg)
// over data with the embedded key keyName.
func VerifyDetached(data, sig []byte, keyName string) error {
	ring, err := SigningKeyring(keyName)
	if err != nil {
		return err
	}
	return verifyDetached(data, sig, ring, keyName)
}

func verifyDetached(data, sig []byte, ring openpgp.KeyRing, keyName string) error {
	var check func(openpgp.KeyRing, io.Reader, io.Reader) (*openpgp.Entity, error)
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE-----")) {
		check = func(k openpgp.KeyRing, d, s io.Reader) (*openpgp.Entity, error) {
			return openpgp.CheckArmoredDetachedSignature(k, d, s, nil)
		}
	} else {
		check = func(k openpgp.KeyRing, d, s io.Reader) (*openpgp.Entity, error) {
			return openpgp.CheckDetachedSignature(k, d, s, nil)
		}
	}
	if _, err := check(ring, bytes.NewReader(data), bytes.NewReader(sig)); err != nil {
		return fmt.Errorf("detached signature does not verify with key %s: %w", keyName, err)
	}
	return nil
}
