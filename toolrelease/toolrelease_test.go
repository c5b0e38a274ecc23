package toolrelease

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		tool, version, base string
		wantURL, wantErr    string
	}{
		{"packer", "1.9.4", "", "https://releases.hashicorp.com/packer/1.9.4/packer_1.9.4_linux_amd64.zip", ""},
		{"packer", "1.9.4", "http://mirror.example:8080/hashicorp/", "http://mirror.example:8080/hashicorp/packer/1.9.4/packer_1.9.4_linux_amd64.zip", ""},
		{"packer", "v1.9.4", "", "", `packer version "v1.9.4" is not a release version like 1.9.4`},
		{"packer", "1.9", "", "", "not a release version"},
		{"packer", "1.9.4;rm", "", "", "not a release version"},
		{"trivy", "0.57.1", "", "", `no release path for tool "trivy": the tools with one are packer`},
		{"packer", "1.9.4", "ftp://mirror.example/", "", "is not an http(s) directory URL"},
		{"packer", "1.9.4", "http://u:pw@mirror.example/", "", "without credentials"},
		{"packer", "1.9.4", "http://mirror.example/?sig=1", "", "without credentials, query or fragment"},
	}
	for _, tt := range tests {
		r, err := Lookup(tt.tool, tt.version, tt.base)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Lookup(%s, %s, %s) err = %v, want %q", tt.tool, tt.version, tt.base, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error repeats the credentials: %v", err)
			}
			continue
		}
		if err != nil || r.Source.URL != tt.wantURL {
			t.Errorf("Lookup(%s, %s, %s) = %q, %v; want %q", tt.tool, tt.version, tt.base, r.Source.URL, err, tt.wantURL)
			continue
		}
		if !strings.HasSuffix(r.Source.ChecksumURL, "/packer_1.9.4_SHA256SUMS") || r.Source.SignatureURL != r.Source.ChecksumURL+".sig" ||
			r.Source.SigningKey != "hashicorp" || r.ID() != "packer-1.9.4" {
			t.Errorf("release %+v", r)
		}
	}
}

func zipWith(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExtract(t *testing.T) {
	r, _ := Lookup("packer", "1.9.4", "")
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"binary at the top", map[string]string{"packer": "#!/bin/sh\necho packer\n", "LICENSE.txt": "MPL"}, ""},
		{"no binary", map[string]string{"LICENSE.txt": "MPL"}, "has no packer at its top level"},
		{"binary in a directory", map[string]string{"bin/packer": "x"}, "has no packer at its top level"},
		{"path traversal name", map[string]string{"../packer": "x"}, "has no packer at its top level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "a.zip")
			os.WriteFile(archive, zipWith(t, tt.files), 0o644)
			dst := filepath.Join(dir, "packer")
			err := r.Extract(archive, dst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, statErr := os.Stat(dst); !os.IsNotExist(statErr) {
					t.Fatalf("a failed extract left %s", dst)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(dst)
			if err != nil || fi.Mode().Perm()&0o111 == 0 {
				t.Fatalf("extracted binary %v, %v: not executable", fi, err)
			}
		})
	}
	if err := r.Extract(filepath.Join(t.TempDir(), "missing.zip"), filepath.Join(t.TempDir(), "p")); err == nil {
		t.Fatal("a missing archive extracted")
	}
}

// vendorMirror serves one release laid out like releases.hashicorp.com, signed by key; tamper edits
// the served files after signing.
func vendorMirror(t *testing.T, key *openpgp.Entity, tamper func(files map[string][]byte)) *httptest.Server {
	t.Helper()
	archive := zipWith(t, map[string]string{"packer": "#!/bin/sh\necho Packer v1.9.4\n"})
	sum := sha256.Sum256(archive)
	sums := []byte(hex.EncodeToString(sum[:]) + "  packer_1.9.4_darwin_arm64.zip\n" + // other platforms are listed too
		hex.EncodeToString(sum[:]) + "  packer_1.9.4_linux_amd64.zip\n")
	sums[0] = 'f' // the darwin line's digest differs from the linux one
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, key, bytes.NewReader(sums), nil); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"/packer/1.9.4/packer_1.9.4_linux_amd64.zip": archive,
		"/packer/1.9.4/packer_1.9.4_SHA256SUMS":      sums,
		"/packer/1.9.4/packer_1.9.4_SHA256SUMS.sig":  sig.Bytes(),
	}
	if tamper != nil {
		tamper(files)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func armoredPublic(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// The release path end to end against a mirror laid out like the vendor's, with a test key in the
// vendor's place: a good release installs; a tampered archive, checksum file or signature, or another
// key's signature, fails naming what did not match, and nothing is extracted.
func TestReleaseFromMirror(t *testing.T) {
	key, err := openpgp.NewEntity("cst test releases", "", "releases@cst.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := openpgp.NewEntity("someone else", "", "else@cst.example", nil)
	tests := []struct {
		name    string
		signer  *openpgp.Entity
		tamper  func(map[string][]byte)
		wantErr string
	}{
		{"signed release", key, nil, ""},
		{"tampered archive", key, func(f map[string][]byte) {
			f["/packer/1.9.4/packer_1.9.4_linux_amd64.zip"] = append(f["/packer/1.9.4/packer_1.9.4_linux_amd64.zip"], 0)
		}, "sha256"},
		{"tampered checksum file", key, func(f map[string][]byte) {
			s := f["/packer/1.9.4/packer_1.9.4_SHA256SUMS"]
			s[len(s)-40] ^= 1
		}, "is not signed by HashiCorp's key"},
		{"signature of another key", other, nil, "is not signed by HashiCorp's key"},
		{"truncated signature", key, func(f map[string][]byte) {
			f["/packer/1.9.4/packer_1.9.4_SHA256SUMS.sig"] = f["/packer/1.9.4/packer_1.9.4_SHA256SUMS.sig"][:20]
		}, "is not signed by HashiCorp's key"},
		{"no signature", key, func(f map[string][]byte) { delete(f, "/packer/1.9.4/packer_1.9.4_SHA256SUMS.sig") }, "signature for packer-1.9.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := vendorMirror(t, tt.signer, tt.tamper)
			r, err := Lookup("packer", "1.9.4", srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			r.Source.SigningKeyArmored = armoredPublic(t, key)
			dir := t.TempDir()
			dst := filepath.Join(dir, "packer")
			_, err = Install(context.Background(), &fetch.Client{Attempts: 1}, r, filepath.Join(dir, "cache"), dst)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(dst); !strings.Contains(string(b), "Packer v1.9.4") {
					t.Fatalf("installed binary %q", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if _, statErr := os.Stat(dst); !os.IsNotExist(statErr) {
				t.Fatalf("a failed install left %s", dst)
			}
		})
	}
}
