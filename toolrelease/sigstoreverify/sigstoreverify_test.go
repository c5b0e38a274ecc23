package sigstoreverify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify/sigstoretest"
)

// The embedded public-good root is the file named in its comment, byte for byte, and holds what a
// keyless signature needs: Fulcio's CAs, the Rekor log, the CT logs (and GitHub's timestamp authority).
func TestPublicGoodRootPinned(t *testing.T) {
	const want = "4364d7724c04cc912ce2a6c45ed2610e8d8d1c4dc857fb500292738d4d9c8d2c"
	sum := sha256.Sum256(PublicGoodRootJSON())
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("trusted_root_public_good.json has sha256 %s, the pin is %s: update the pin only with a root taken from Sigstore's TUF repository, and say where from", got, want)
	}
	tr, err := ParseTrustedRoot(PublicGoodRootJSON())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tr.FulcioCertificateAuthorities()); n != 2 {
		t.Errorf("%d Fulcio CAs, want the public-good's 2", n)
	}
	// rekor.sigstore.dev's log ID (base64 wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=).
	if l, ok := tr.RekorLogs()["c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"]; !ok || l.BaseURL != "https://rekor.sigstore.dev" || len(tr.RekorLogs()) != 1 {
		t.Errorf("Rekor logs %v, want rekor.sigstore.dev's only", tr.RekorLogs())
	}
	if n := len(tr.CTLogs()); n != 2 {
		t.Errorf("%d CT logs, want the public-good's 2", n)
	}
	if n := len(tr.TimestampingAuthorities()); n != 1 {
		t.Errorf("%d timestamp authorities, want 1", n)
	}
	var raw struct{ MediaType string }
	if err := json.Unmarshal(PublicGoodRootJSON(), &raw); err != nil || raw.MediaType != "application/vnd.dev.sigstore.trustedroot+json;version=0.1" {
		t.Errorf("media type %q, %v", raw.MediaType, err)
	}
}

const (
	identity = "https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v0.68.2"
	issuer   = "https://token.actions.githubusercontent.com"
)

// Verify with real signatures of a virtual Sigstore instance: what it signed for the expected
// identity verifies under its root; any change to the artifact, the signer, the root or the log
// entry fails, naming the check that failed.
func TestVerify(t *testing.T) {
	ss := sigstoretest.New(t)
	other := sigstoretest.New(t)
	sums := []byte(strings.Repeat("ab", 32) + "  trivy_0.68.2_Linux-64bit.tar.gz\n")
	archive := []byte("\x1f\x8b pretend archive")
	good := ss.Bundle(t, identity, issuer, sums)
	ssRoot := ss.TrustedRootJSON(t, false)
	src := osdefs.Source{Signing: osdefs.SigningSigstore, SigstoreIdentity: identity, SigstoreIssuer: issuer, TrustedRootJSON: ssRoot}

	// A bundle whose log entry claims another integration time: the log's promise no longer covers it.
	var altered map[string]any
	if err := json.Unmarshal(good, &altered); err != nil {
		t.Fatal(err)
	}
	entry := altered["verificationMaterial"].(map[string]any)["tlogEntries"].([]any)[0].(map[string]any)
	entry["integratedTime"] = "1"
	alteredLog, _ := json.Marshal(altered)

	tests := []struct {
		name     string
		src      func(s osdefs.Source) osdefs.Source
		artifact []byte
		bundle   []byte
		wantErr  string
	}{
		{"checksum file", nil, sums, good, ""},
		{"archive", nil, archive, ss.Bundle(t, identity, issuer, archive), ""},
		{"modified checksum file", nil, append([]byte("00"), sums[2:]...), good, "failed to verify signature"},
		{"another file's bundle", nil, sums, ss.Bundle(t, identity, issuer, archive), "failed to verify signature"},
		{"another identity", nil, sums, ss.Bundle(t, strings.Replace(identity, "v0.68.2", "v0.68.1", 1), issuer, sums),
			`failed to verify certificate identity: no matching CertificateIdentity found, last error: expected SAN value "` + identity + `", got "` + strings.Replace(identity, "v0.68.2", "v0.68.1", 1) + `"`},
		{"another issuer", nil, sums, ss.Bundle(t, identity, "https://accounts.example", sums), "failed to verify certificate identity"},
		{"public-good root", func(s osdefs.Source) osdefs.Source {
			s.TrustedRootJSON, s.SigningKey = nil, osdefs.TrustedRootPublicGood
			return s
		}, sums, good, "under Sigstore's public-good trusted root: failed to verify log inclusion: not enough verified log entries from transparency log: 0 < 1"},
		{"another instance's root", func(s osdefs.Source) osdefs.Source { s.TrustedRootJSON = other.TrustedRootJSON(t, false); return s },
			sums, good, "failed to verify log inclusion"},
		{"another instance's bundle", nil, sums, other.Bundle(t, identity, issuer, sums), "failed to verify log inclusion"},
		{"root with CT logs: no SCT", func(s osdefs.Source) osdefs.Source { s.TrustedRootJSON = ss.TrustedRootJSON(t, true); return s },
			sums, good, "failed to verify signed certificate timestamp"},
		{"altered log entry", nil, sums, alteredLog, "failed to verify log inclusion"},
		{"empty bundle", nil, sums, nil, "the Sigstore bundle is empty"},
		{"truncated bundle", nil, sums, good[:len(good)/2], "the Sigstore bundle is unreadable"},
		{"not a bundle", nil, sums, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), "the Sigstore bundle is unreadable"},
		{"no identity expected", func(s osdefs.Source) osdefs.Source { s.SigstoreIdentity = ""; return s }, sums, good, "names no Sigstore identity"},
		{"no issuer expected", func(s osdefs.Source) osdefs.Source { s.SigstoreIssuer = ""; return s }, sums, good, "names no Sigstore identity"},
		{"unknown embedded root", func(s osdefs.Source) osdefs.Source {
			s.TrustedRootJSON, s.SigningKey = nil, "sigstore-staging"
			return s
		}, sums, good, `no embedded Sigstore trusted root "sigstore-staging"`},
		{"given root is not a root", func(s osdefs.Source) osdefs.Source {
			s.TrustedRootJSON = []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")
			return s
		},
			sums, good, "not a Sigstore trusted root"},
		{"given root vouches for nothing", func(s osdefs.Source) osdefs.Source {
			s.TrustedRootJSON = []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)
			return s
		}, sums, good, "lists no certificate authority or no transparency log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := src
			if tt.src != nil {
				s = tt.src(s)
			}
			testcheck.Err(t, Verify(s, tt.artifact, tt.bundle), tt.wantErr)
		})
	}
}

// The bundle the test instance writes is the format Sigstore clients write: the media type, a
// message signature over the sha256 of the file, and a log entry with promise and proof.
func TestBundleShape(t *testing.T) {
	ss := sigstoretest.New(t)
	data := []byte("checksums\n")
	var b struct {
		MediaType            string
		VerificationMaterial struct {
			Certificate struct{ RawBytes string }
			TlogEntries []struct {
				KindVersion      struct{ Kind, Version string }
				InclusionPromise struct{ SignedEntryTimestamp string }
				InclusionProof   struct{ Checkpoint struct{ Envelope string } }
			}
			TimestampVerificationData struct {
				Rfc3161Timestamps []struct{ SignedTimestamp string }
			}
		}
		MessageSignature struct {
			MessageDigest struct{ Algorithm, Digest string }
		}
	}
	if err := json.Unmarshal(ss.Bundle(t, identity, issuer, data), &b); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	vm := b.VerificationMaterial
	if b.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" || vm.Certificate.RawBytes == "" || len(vm.TlogEntries) != 1 ||
		vm.TlogEntries[0].KindVersion.Kind != "hashedrekord" || vm.TlogEntries[0].InclusionPromise.SignedEntryTimestamp == "" ||
		vm.TlogEntries[0].InclusionProof.Checkpoint.Envelope == "" || len(vm.TimestampVerificationData.Rfc3161Timestamps) != 1 ||
		b.MessageSignature.MessageDigest.Algorithm != "SHA2_256" || b.MessageSignature.MessageDigest.Digest != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("bundle %+v", b)
	}
}
