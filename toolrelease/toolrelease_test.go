package toolrelease

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify/sigstoretest"
)

func TestLookup(t *testing.T) {
	const trivyDir = "https://github.com/aquasecurity/trivy/releases/download/v0.68.2/"
	tests := []struct {
		tool, version, base string
		want                Release // Tool, Version, Source URLs, SigningKey and Sigstore identity
		wantErr             string
	}{
		{"packer", "1.9.4", "", packer194("https://releases.hashicorp.com/packer/1.9.4/"), ""},
		{"packer", "1.9.4", "http://mirror.example:8080/hashicorp/", packer194("http://mirror.example:8080/hashicorp/packer/1.9.4/"), ""},
		{"trivy", "0.68.2", "", trivy0682(trivyDir), ""},
		{"trivy", "0.68.2", "http://mirror.example/github", trivy0682("http://mirror.example/github/aquasecurity/trivy/releases/download/v0.68.2/"), ""},
		{"trivy", "0.68.1", "", Release{}, ""}, // the first release with bundles
		{"trivy", "0.57.1", "", Release{}, "no verifiable release of trivy 0.57.1: Trivy publishes Sigstore bundles (<asset>.sigstore.json), which verify offline, since v0.68.1; " +
			"earlier releases carry only a cosign .sig and .pem, whose transparency-log entry can only be checked online; use 0.68.1 or later, or build it from source"},
		{"trivy", "0.68.0", "", Release{}, "no verifiable release of trivy 0.68.0"},
		{"trivy", "0.9.99", "", Release{}, "no verifiable release of trivy 0.9.99"},
		{"packer", "v1.9.4", "", Release{}, `packer version "v1.9.4" is not a release version like 1.9.4`},
		{"packer", "1.9", "", Release{}, "not a release version"},
		{"packer", "1.9.4;rm", "", Release{}, "not a release version"},
		{"terraform", "1.5.7", "", Release{}, `no release path for tool "terraform": the tools with one are packer, trivy`},
		{"packer", "1.9.4", "ftp://mirror.example/", Release{}, "is not an http(s) directory URL"},
		{"packer", "1.9.4", "http://u:pw@mirror.example/", Release{}, "without credentials"},
		{"trivy", "0.68.2", "http://u:pw@mirror.example/", Release{}, "without credentials"},
		{"packer", "1.9.4", "http://mirror.example/?sig=1", Release{}, "without credentials, query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.version+" "+tt.base, func(t *testing.T) {
			r, err := Lookup(tt.tool, tt.version, tt.base)
			if testcheck.Err(t, err, tt.wantErr) {
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error repeats the credentials: %v", err)
				}
				return
			}
			if tt.want.Tool == "" {
				return
			}
			got := Release{Tool: r.Tool, Version: r.Version, Binary: r.Binary, Source: r.Source}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%s, %s, %s) =\n  %+v\nwant\n  %+v", tt.tool, tt.version, tt.base, got, tt.want)
			}
			if r.ID() != tt.tool+"-"+tt.version {
				t.Errorf("ID %s", r.ID())
			}
		})
	}
}

func packer194(dir string) Release {
	return Release{Tool: "packer", Version: "1.9.4", Binary: "packer", Source: osdefs.Source{
		URL: dir + "packer_1.9.4_linux_amd64.zip", ChecksumURL: dir + "packer_1.9.4_SHA256SUMS", SignatureURL: dir + "packer_1.9.4_SHA256SUMS.sig",
		Algorithm: "sha256", Signing: osdefs.SigningDetached, SigningKey: "hashicorp",
	}}
}

func trivy0682(dir string) Release {
	return Release{Tool: "trivy", Version: "0.68.2", Binary: "trivy", Source: osdefs.Source{
		URL: dir + "trivy_0.68.2_Linux-64bit.tar.gz", ChecksumURL: dir + "trivy_0.68.2_checksums.txt",
		SignatureURL: dir + "trivy_0.68.2_checksums.txt.sigstore.json",
		Algorithm:    "sha256", Signing: osdefs.SigningSigstore, SigningKey: "sigstore-public-good",
		SigstoreIdentity: "https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v0.68.2",
		SigstoreIssuer:   "https://token.actions.githubusercontent.com",
	}}
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

// tarEntry is one member of a test tar archive.
type tarEntry struct {
	name, body string
	typ        byte // tar.TypeReg when 0
	link       string
}

func tarGzWith(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o755, Linkname: e.link}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Extract takes the binary, and only it, from the top level of a zip (packer) or tar.gz (trivy); a
// failed extract leaves nothing behind, in dst or beside it.
func TestExtract(t *testing.T) {
	packer, _ := Lookup("packer", "1.9.4", "")
	trivy, _ := Lookup("trivy", "0.68.2", "")
	goodTar := tarGzWith(t, tarEntry{name: "LICENSE", body: "Apache"}, tarEntry{name: "contrib/", typ: tar.TypeDir},
		tarEntry{name: "contrib/html.tpl", body: "tpl"}, tarEntry{name: "trivy", body: "#!/bin/sh\necho trivy\n"}, tarEntry{name: "README.md", body: "# Trivy"})
	tests := []struct {
		name     string
		r        Release
		archive  []byte
		wantBody string
		wantErr  string
	}{
		{"zip: binary at the top", packer, zipWith(t, map[string]string{"packer": "#!/bin/sh\necho packer\n", "LICENSE.txt": "MPL"}), "#!/bin/sh\necho packer\n", ""},
		{"zip: no binary", packer, zipWith(t, map[string]string{"LICENSE.txt": "MPL"}), "", "has no packer at its top level"},
		{"zip: binary in a directory", packer, zipWith(t, map[string]string{"bin/packer": "x"}), "", "has no packer at its top level"},
		{"zip: path traversal name", packer, zipWith(t, map[string]string{"../packer": "x"}), "", "has no packer at its top level"},
		{"zip: not a zip", packer, goodTar, "", "packer-1.9.4 archive"},
		{"tar.gz: binary at the top", trivy, goodTar, "#!/bin/sh\necho trivy\n", ""},
		{"tar.gz: no binary", trivy, tarGzWith(t, tarEntry{name: "LICENSE", body: "Apache"}), "", "has no trivy at its top level"},
		{"tar.gz: binary in a directory", trivy, tarGzWith(t, tarEntry{name: "bin/trivy", body: "x"}), "", "has no trivy at its top level"},
		{"tar.gz: dot-slash name", trivy, tarGzWith(t, tarEntry{name: "./trivy", body: "x"}), "", "has no trivy at its top level"},
		{"tar.gz: path traversal name", trivy, tarGzWith(t, tarEntry{name: "../trivy", body: "x"}), "", "has no trivy at its top level"},
		{"tar.gz: symlink", trivy, tarGzWith(t, tarEntry{name: "trivy", typ: tar.TypeSymlink, link: "/bin/sh"}), "", "trivy is not a regular file"},
		{"tar.gz: hard link", trivy, tarGzWith(t, tarEntry{name: "LICENSE", body: "x"}, tarEntry{name: "trivy", typ: tar.TypeLink, link: "LICENSE"}), "", "trivy is not a regular file"},
		{"tar.gz: directory", trivy, tarGzWith(t, tarEntry{name: "trivy", typ: tar.TypeDir}), "", "trivy is not a regular file"},
		{"tar.gz: truncated in the binary", trivy, tarGzWith(t, tarEntry{name: "trivy", body: strings.Repeat("trivy binary ", 10000)})[:300], "", "trivy-0.68.2 archive"},
		{"tar.gz: not gzip", trivy, zipWith(t, map[string]string{"trivy": "x"}), "", "trivy-0.68.2 archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "archive")
			os.WriteFile(archive, tt.archive, 0o644)
			out := filepath.Join(dir, "out")
			os.Mkdir(out, 0o755)
			dst := filepath.Join(out, tt.r.Binary)
			err := tt.r.Extract(archive, dst)
			if testcheck.Err(t, err, tt.wantErr) {
				if left, _ := os.ReadDir(out); len(left) > 0 {
					t.Fatalf("a failed extract left %v", left)
				}
				return
			}
			if left, _ := os.ReadDir(out); len(left) != 1 {
				t.Fatalf("extract wrote %v, want the binary only", left)
			}
			fi, err := os.Stat(dst)
			if err != nil || fi.Mode().Perm()&0o111 == 0 {
				t.Fatalf("extracted binary %v, %v: not executable", fi, err)
			}
			if b, _ := os.ReadFile(dst); string(b) != tt.wantBody {
				t.Fatalf("extracted %q, want %q", b, tt.wantBody)
			}
		})
	}
	for _, r := range []Release{packer, trivy} {
		if err := r.Extract(filepath.Join(t.TempDir(), "missing"), filepath.Join(t.TempDir(), "p")); err == nil {
			t.Fatalf("%s: a missing archive extracted", r.ID())
		}
	}
	odd := trivy
	odd.Source.URL = strings.Replace(odd.Source.URL, ".tar.gz", ".tar.xz", 1)
	if err := odd.Extract(filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "p")); err == nil || !strings.Contains(err.Error(), "no extractor for trivy_0.68.2_Linux-64bit.tar.xz") {
		t.Fatalf("a .tar.xz: %v", err)
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
	return serveFiles(t, files, tamper)
}

// serveFiles serves files by URL path, as tamper leaves them.
func serveFiles(t *testing.T, files map[string][]byte, tamper func(map[string][]byte)) *httptest.Server {
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
			if testcheck.Err(t, err, tt.wantErr) {
				if _, statErr := os.Stat(dst); !os.IsNotExist(statErr) {
					t.Fatalf("a failed install left %s", dst)
				}
				return
			}
			if b, _ := os.ReadFile(dst); !strings.Contains(string(b), "Packer v1.9.4") {
				t.Fatalf("installed binary %q", b)
			}
		})
	}
}

const trivyPath = "/aquasecurity/trivy/releases/download/v0.68.2/"

// trivyMirror serves one Trivy release laid out like GitHub's release downloads, the checksum file's
// bundle made by ss for identity (and the archive's too, as Trivy publishes it); tamper edits the
// served files after signing.
func trivyMirror(t *testing.T, ss *sigstoretest.Sigstore, identity string, tamper func(files map[string][]byte)) *httptest.Server {
	t.Helper()
	files := map[string][]byte{}
	for p, b := range ss.TrivyRelease(t, "0.68.2", identity, "https://token.actions.githubusercontent.com", []byte("#!/bin/sh\necho Version: 0.68.2\n")) {
		files["/"+p] = b
	}
	return serveFiles(t, files, tamper)
}

// Trivy's release path end to end against a mirror laid out like GitHub's, with a virtual Sigstore
// instance in the public-good one's place (its trusted root given as a mirror's would be): a good
// release installs; a modified archive or checksum file, a bundle of another identity or another
// file, a missing bundle, the public-good root, or a client without a Sigstore verifier each fail
// naming what did not verify, and nothing is extracted.
func TestTrivyReleaseFromMirror(t *testing.T) {
	ss := sigstoretest.New(t)
	const identity = "https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v0.68.2"
	const notSigned = "trivy_0.68.2_checksums.txt is not signed by Aqua Security's release identity " + identity +
		" (issuer https://token.actions.githubusercontent.com): the Sigstore bundle does not verify under the trusted root given for this source: "
	tests := []struct {
		name       string
		identity   string
		tamper     func(map[string][]byte)
		publicRoot bool
		noVerifier bool
		wantErr    string
	}{
		{"signed release", identity, nil, false, false, ""},
		{"modified archive", identity, func(f map[string][]byte) {
			f[trivyPath+"trivy_0.68.2_Linux-64bit.tar.gz"] = append(f[trivyPath+"trivy_0.68.2_Linux-64bit.tar.gz"], 0)
		}, false, false, "but the signed checksum file http://"},
		{"modified checksum file", identity, func(f map[string][]byte) {
			s := f[trivyPath+"trivy_0.68.2_checksums.txt"]
			s[3] ^= 1
		}, false, false, notSigned + "failed to verify signature"},
		{"bundle of another identity", "https://github.com/attacker/trivy/.github/workflows/release.yaml@refs/tags/v0.68.2", nil, false, false,
			notSigned + "failed to verify certificate identity: no matching CertificateIdentity found, last error: expected SAN value \"" + identity +
				"\", got \"https://github.com/attacker/trivy/.github/workflows/release.yaml@refs/tags/v0.68.2\""},
		{"bundle of the previous release", strings.Replace(identity, "v0.68.2", "v0.68.1", 1), nil, false, false, "failed to verify certificate identity"},
		{"the archive's bundle for the checksum file", identity, func(f map[string][]byte) {
			f[trivyPath+"trivy_0.68.2_checksums.txt.sigstore.json"] = f[trivyPath+"trivy_0.68.2_Linux-64bit.tar.gz.sigstore.json"]
		}, false, false, "failed to verify signature"},
		{"no bundle", identity, func(f map[string][]byte) { delete(f, trivyPath+"trivy_0.68.2_checksums.txt.sigstore.json") }, false, false,
			"Sigstore bundle for trivy-0.68.2: "},
		{"the public-good root", identity, nil, true, false,
			"under Sigstore's public-good trusted root: failed to verify log inclusion"},
		{"a client without a Sigstore verifier", identity, nil, false, true, "is authenticated by a Sigstore bundle, and this client has no Sigstore verifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := trivyMirror(t, ss, tt.identity, tt.tamper)
			r, err := Lookup("trivy", "0.68.2", srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.publicRoot {
				r.Source.TrustedRootJSON = ss.TrustedRootJSON(t, false)
			}
			c := &fetch.Client{Attempts: 1, VerifyBundle: sigstoreverify.Verify}
			if tt.noVerifier {
				c.VerifyBundle = nil
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			os.Mkdir(out, 0o755)
			dst := filepath.Join(out, "trivy")
			p, err := Install(context.Background(), c, r, filepath.Join(dir, "cache"), dst)
			if testcheck.Err(t, err, tt.wantErr) {
				if left, _ := os.ReadDir(out); len(left) > 0 {
					t.Fatalf("a failed install left %v", left)
				}
				return
			}
			if b, _ := os.ReadFile(dst); !strings.Contains(string(b), "Version: 0.68.2") {
				t.Fatalf("installed binary %q", b)
			}
			if left, _ := os.ReadDir(out); len(left) != 1 {
				t.Fatalf("install wrote %v, want the binary only", left)
			}
			if p.Verified != "signature" || p.FileName != "trivy_0.68.2_Linux-64bit.tar.gz" || !strings.HasSuffix(p.SignatureURL, "trivy_0.68.2_checksums.txt.sigstore.json") {
				t.Fatalf("plan %+v", p)
			}
		})
	}
}
