package osdefs

import (
	"bytes"
	"crypto"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/checksum/checksumtest"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// The vendors' published fingerprints of the embedded keys:
//   - Ubuntu: https://ubuntu.com/tutorials/how-to-verify-ubuntu
//   - AlmaLinux 9: https://almalinux.org/security/ and the wiki's ISO verification guide
//   - Fedora 41: https://fedoraproject.org/security
//   - HashiCorp: https://www.hashicorp.com/security
var vendorFingerprints = map[string]string{
	KeyHashiCorp:  "C874011F0AB405110D02105534365D9472D7468F",
	KeyUbuntu:     "843938DF228D22F7B3742BC0D94AA3F0EFE21092",
	KeyAlmaLinux9: "BF18AC2876178908D6E71267D36CB86CB86B3716",
	KeyFedora41:   "466CF2D8B60BC3057AA9453ED0622462E99D6AD1",
}

func TestEmbeddedKeysHaveVendorFingerprints(t *testing.T) {
	if got, want := len(KeyNames()), len(vendorFingerprints); got != want {
		t.Fatalf("keys/ holds %d keys (%v), the test pins %d: pin every key", got, KeyNames(), want)
	}
	for name, want := range vendorFingerprints {
		t.Run(name, func(t *testing.T) {
			ring, err := SigningKeyring(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(ring) != 1 {
				t.Fatalf("keys/%s.asc holds %d keys, want exactly the vendor's one", name, len(ring))
			}
			got := strings.ToUpper(fmt.Sprintf("%x", ring[0].PrimaryKey.Fingerprint))
			if got != want {
				t.Fatalf("fingerprint %s, want the vendor's %s", got, want)
			}
		})
	}
}

// TestEmbeddedKeysWithGnuPG cross-checks the fingerprints with a second OpenPGP implementation.
func TestEmbeddedKeysWithGnuPG(t *testing.T) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Fatal("gpg not found: run scripts/tools.sh (installs gnupg)")
	}
	for name, want := range vendorFingerprints {
		t.Run(name, func(t *testing.T) {
			raw, err := keysFS.ReadFile("keys/" + name + ".asc")
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(gpg, "--batch", "--no-default-keyring", "--homedir", t.TempDir(), "--with-colons", "--show-keys")
			cmd.Stdin = bytes.NewReader(raw)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("gpg --show-keys: %v", err)
			}
			var fprs []string
			for _, line := range strings.Split(string(out), "\n") {
				if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
					fprs = append(fprs, f[9])
				}
			}
			if len(fprs) == 0 || fprs[0] != want {
				t.Fatalf("gpg fingerprints %v, want primary %s", fprs, want)
			}
		})
	}
}

func TestDefinitionsUseEmbeddedKeys(t *testing.T) {
	for _, d := range All() {
		if d.Source.Signing == SigningNone {
			continue
		}
		if _, err := SigningKeyring(d.Source.SigningKey); err != nil {
			t.Errorf("%s: %v", d.ID, err)
		}
	}
	if _, err := SigningKeyring("no-such-vendor"); err == nil {
		t.Error("an unknown key name must be an error")
	}
	if _, err := SigningKeyring("../keys/fedora-41"); err == nil {
		t.Error("a key name with a path must be an error")
	}
}

var testKeyConfig = &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256}

func newTestKey(t *testing.T, name string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "cloudstack-templates test", name+"@example.invalid", testKeyConfig)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return e
}

func clearsignWith(t *testing.T, e *openpgp.Entity, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, e.PrivateKey, testKeyConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func detachSign(t *testing.T, e *openpgp.Entity, data []byte, armored bool) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	if armored {
		err = openpgp.ArmoredDetachSign(&b, e, bytes.NewReader(data), testKeyConfig)
	} else {
		err = openpgp.DetachSign(&b, e, bytes.NewReader(data), testKeyConfig)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// signedSamples are real-format checksum files: what the signatures protect.
var signedSamples = []struct {
	name, text, file, digest string
}{
	{"gnu ubuntu", checksumtest.UbuntuSHA256SUMS, checksumtest.UbuntuServerISO, checksumtest.Synth256("server")},
	{"bsd fedora", checksumtest.FedoraCHECKSUM, checksumtest.FedoraServerDVD, checksumtest.Fedora41DVDSHA256},
	{"bsd alma", checksumtest.AlmaCHECKSUM, checksumtest.AlmaDVDISO, checksumtest.Alma91DVDSHA256},
	{"gnu crlf", strings.ReplaceAll(checksumtest.UbuntuSHA256SUMS, "\n", "\r\n"), checksumtest.UbuntuServerISO, checksumtest.Synth256("server")},
	{"bsd crlf", strings.ReplaceAll(checksumtest.RockyCHECKSUM, "\n", "\r\n"), checksumtest.RockyMinimalISO, checksumtest.Rocky96MinimalSHA256},
	// Lines starting with "-" are dash-escaped inside a clearsigned message.
	{"dash lines", "-----not a header\n" + checksumtest.CentosSHA256SUM + "- trailing dash line\n", checksumtest.CentosStreamBootISO, checksumtest.Centos9BootSHA256},
}

// tamperDigest changes the first hex digit of digest inside data.
func tamperDigest(t *testing.T, data []byte, digest string) []byte {
	t.Helper()
	i := bytes.Index(data, []byte(digest))
	if i < 0 {
		t.Fatalf("digest %s not in data", digest)
	}
	out := append([]byte(nil), data...)
	if out[i] == '0' {
		out[i] = '1'
	} else {
		out[i] = '0'
	}
	return out
}

func TestVerifyClearsigned(t *testing.T) {
	vendor := newTestKey(t, "vendor")
	other := newTestKey(t, "other")
	ring := openpgp.EntityList{vendor}
	for _, s := range signedSamples {
		signed := clearsignWith(t, vendor, s.text)
		cases := []struct {
			name    string
			data    []byte
			wantErr bool
		}{
			{"good", signed, false},
			{"body tampered", tamperDigest(t, signed, s.digest), true},
			{"signed by another key", clearsignWith(t, other, s.text), true},
			{"not clearsigned", []byte(s.text), true},
			{"data appended after the block", append(append([]byte(nil), signed...), []byte("SHA256 (evil.iso) = "+checksumtest.Synth256("evil")+"\n")...), true},
		}
		for _, c := range cases {
			t.Run(s.name+"/"+c.name, func(t *testing.T) {
				body, err := verifyClearsigned(c.data, ring, "test-vendor")
				if c.wantErr {
					if err == nil {
						t.Fatal("verification passed, want an error")
					}
					return
				}
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				got, err := checksum.Lookup(body, "sha256", s.file)
				if err != nil || got != s.digest {
					t.Fatalf("signed body gives %q, %v; want %s", got, err, s.digest)
				}
			})
		}
	}
}

func TestVerifyDetached(t *testing.T) {
	vendor := newTestKey(t, "vendor")
	other := newTestKey(t, "other")
	ring := openpgp.EntityList{vendor}
	for _, s := range signedSamples {
		data := []byte(s.text)
		for _, armored := range []bool{true, false} {
			sig := detachSign(t, vendor, data, armored)
			cases := []struct {
				name      string
				data, sig []byte
				wantErr   bool
			}{
				{"good", data, sig, false},
				{"data tampered", tamperDigest(t, data, s.digest), sig, true},
				{"data extended", append(append([]byte(nil), data...), '\n'), sig, true},
				{"signed by another key", data, detachSign(t, other, data, armored), true},
				{"signature truncated", data, sig[:len(sig)/2], true},
			}
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/armored=%v/%s", s.name, armored, c.name), func(t *testing.T) {
					err := verifyDetached(c.data, c.sig, ring, "test-vendor")
					if c.wantErr != (err != nil) {
						t.Fatalf("verifyDetached error = %v, want error %v", err, c.wantErr)
					}
				})
			}
		}
	}
}

// The exported functions check against the embedded vendor keys: a throwaway key's signature must
// never pass as a vendor's.
func TestVendorKeysRejectForeignSignatures(t *testing.T) {
	foreign := newTestKey(t, "impostor")
	for _, key := range []string{KeyUbuntu, KeyAlmaLinux9, KeyFedora41} {
		t.Run(key, func(t *testing.T) {
			if _, err := VerifyClearsigned(clearsignWith(t, foreign, checksumtest.FedoraCHECKSUM), key); err == nil {
				t.Error("VerifyClearsigned accepted a foreign signature")
			}
			data := []byte(checksumtest.UbuntuSHA256SUMS)
			if err := VerifyDetached(data, detachSign(t, foreign, data, false), key); err == nil {
				t.Error("VerifyDetached accepted a foreign signature")
			}
		})
	}
	if _, err := VerifyClearsigned([]byte(checksumtest.FedoraCHECKSUM), "no-such-key"); err == nil {
		t.Error("unknown key name must be an error")
	}
}

// Crafted checksum files around a valid clearsigned block: each either yields exactly the digests
// the vendor signed or fails with an error that says what was refused. None may yield a digest that
// only unsigned text gives.
func TestSignedChecksumsCrafted(t *testing.T) {
	vendor := newTestKey(t, "vendor")
	ring := openpgp.EntityList{vendor}
	good, evil := checksumtest.Synth256("signed"), checksumtest.Synth256("evil")
	body := "# a.iso: 1024 bytes\nSHA256 (a.iso) = " + good + "\n"
	signed := string(clearsignWith(t, vendor, body))
	evilLine := "SHA256 (a.iso) = " + evil + "\n"
	// A forged block: right structure, wrong (absent) signature, evil digest.
	forged := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + evilLine
	afterHash := strings.Replace(signed, "Hash: SHA256\n\n", "Hash: SHA256\n \t\n", 1)
	tests := []struct {
		name    string
		data    string
		wantErr string // "" = verifies and gives the signed digest
	}{
		{"as signed", signed, ""},
		{"crlf line ends", strings.ReplaceAll(signed, "\n", "\r\n"), ""},
		{"blank lines around", "\n\n" + signed + "\n\n", ""},
		{"text before the signed header", evilLine + signed, "unsigned text before its clearsigned block"},
		{"forged header before the real block", forged + signed, "holds 2 clearsigned headers where a vendor's has one"},
		{"begin marker not at the start of a line", "junk" + forged + "\n" + signed, "unsigned text before its clearsigned block"},
		{"marker inside a line, alone", "x" + signed, "unsigned text before its clearsigned block"},
		{"whitespace-only line after Hash ends the headers", afterHash, ""},
		{"unsigned lines appended after the signature", signed + evilLine, "unsigned data after its clearsigned block"},
		{"a second signed block", signed + "\n" + signed, "holds 2 clearsigned headers"},
		{"a second block with the evil digest", signed + "\n" + string(clearsignWith(t, newTestKey(t, "other"), evilLine)), "holds 2 clearsigned headers"},
		{"a second block glued to the signature's last line", signed + signed, "unsigned data after its clearsigned block"},
		{"evil line dash-escaped into the body", strings.Replace(signed, "SHA256 (a.iso)", "- "+evilLine+"SHA256 (a.iso)", 1), "does not verify"},
		{"digest changed in the body", strings.Replace(signed, good, evil, 1), "does not verify"},
		{"no signature armor", strings.SplitN(signed, "-----BEGIN PGP SIGNATURE-----", 2)[0], "clearsigned block is malformed"},
		{"unknown header", strings.Replace(signed, "Hash: SHA256", "Hash: SHA256\nComment: "+evilLine, 1), "clearsigned block is malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, err := verifyClearsigned([]byte(tc.data), ring, "test-vendor")
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			got, err := checksum.Lookup(text, "sha256", "a.iso")
			if err != nil || got != good {
				t.Fatalf("signed text gives %q, %v; want the signed digest %s", got, err, good)
			}
		})
	}
}

// Dash-escaped lines are part of the signed text, unescaped: a vendor line that begins with "-"
// still verifies and reads as the vendor wrote it.
func TestSignedChecksumsDashEscaped(t *testing.T) {
	vendor := newTestKey(t, "vendor")
	good := checksumtest.Synth256("dash")
	body := "-----BEGIN PGP SIGNED MESSAGE----- is not a marker here\n- a dash line\nSHA256 (a.iso) = " + good + "\n"
	signed := clearsignWith(t, vendor, body)
	if !bytes.Contains(signed, []byte("\n- -----BEGIN PGP SIGNED MESSAGE-----")) {
		t.Fatalf("the encoder did not dash-escape the marker line:\n%s", signed)
	}
	text, err := verifyClearsigned(signed, openpgp.EntityList{vendor}, "test-vendor")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(text, []byte("-----BEGIN PGP SIGNED MESSAGE----- is not")) {
		t.Fatalf("plaintext %q does not start with the unescaped line", text)
	}
	if got, err := checksum.Lookup(text, "sha256", "a.iso"); err != nil || got != good {
		t.Fatalf("checksum.Lookup = %q, %v", got, err)
	}
}

// SignedChecksums returns only signed bytes for each signing method, and the detached case returns
// exactly the bytes the signature covers.
func TestSignedChecksumsBySigning(t *testing.T) {
	data := []byte(checksumtest.UbuntuSHA256SUMS)
	for _, tc := range []struct {
		name    string
		src     Source
		data    []byte
		sig     []byte
		wantErr string
	}{
		{"unsigned source returns the file", Source{Signing: SigningNone}, data, nil, ""},
		{"detached without signature", Source{Signing: SigningDetached, SigningKey: KeyUbuntu}, data, nil, "detached signature does not verify"},
		{"clearsigned with a plain file", Source{Signing: SigningClearsigned, SigningKey: KeyFedora41}, data, nil, "not an OpenPGP clearsigned message"},
		{"unknown method", Source{Signing: "magic"}, data, nil, `unknown signing method "magic"`},
		{"Sigstore bundle without a verifier", Source{Signing: SigningSigstore, SigningKey: TrustedRootPublicGood}, data, []byte("{}"),
			"authenticated by a Sigstore bundle, and this program has no Sigstore verifier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SignedChecksums(tc.src, tc.data, tc.sig)
			CheckSignedBytes(t, got, err, tc.data, tc.wantErr)
		})
	}
}

// CheckSignedBytes holds a SignedChecksums result to its promise: with wantErr set, that error and
// no bytes at all, so no caller can read text that did not verify; otherwise exactly the file.
// It is exported for the external tests of the Sigstore path (sigstore_test.go).
func CheckSignedBytes(t *testing.T, got []byte, err error, data []byte, wantErr string) {
	t.Helper()
	if testcheck.Err(t, err, wantErr) {
		if got != nil {
			t.Fatalf("failed but returned %q; want no bytes", got)
		}
		return
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("returned %q, want the file %q", got, data)
	}
}
