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
)

// The vendors' published fingerprints of the embedded keys:
//   - Ubuntu: https://ubuntu.com/tutorials/how-to-verify-ubuntu
//   - AlmaLinux 9: https://almalinux.org/security/ and the wiki's ISO verification guide
//   - Fedora 41: https://fedoraproject.org/security
var vendorFingerprints = map[string]string{
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
	{"gnu ubuntu", ubuntuSHA256SUMS, ubuntuServerISO, synth256("server")},
	{"bsd fedora", fedoraCHECKSUM, fedoraServerDVD, fedora41DVDSHA256},
	{"bsd alma", almaCHECKSUM, almaDVDISO, alma91DVDSHA256},
	{"gnu crlf", strings.ReplaceAll(ubuntuSHA256SUMS, "\n", "\r\n"), ubuntuServerISO, synth256("server")},
	{"bsd crlf", strings.ReplaceAll(rockyCHECKSUM, "\n", "\r\n"), rockyMinimalISO, rocky96MinimalSHA256},
	// Lines starting with "-" are dash-escaped inside a clearsigned message.
	{"dash lines", "-----not a header\n" + centosSHA256SUM + "- trailing dash line\n", centosStreamBootISO, centos9BootSHA256},
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
			{"data appended after the block", append(append([]byte(nil), signed...), []byte("SHA256 (evil.iso) = "+synth256("evil")+"\n")...), true},
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
				got, err := LookupChecksum(body, "sha256", s.file)
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
			if _, err := VerifyClearsigned(clearsignWith(t, foreign, fedoraCHECKSUM), key); err == nil {
				t.Error("VerifyClearsigned accepted a foreign signature")
			}
			data := []byte(ubuntuSHA256SUMS)
			if err := VerifyDetached(data, detachSign(t, foreign, data, false), key); err == nil {
				t.Error("VerifyDetached accepted a foreign signature")
			}
		})
	}
	if _, err := VerifyClearsigned([]byte(fedoraCHECKSUM), "no-such-key"); err == nil {
		t.Error("unknown key name must be an error")
	}
}
