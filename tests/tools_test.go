//go:build e2e

package tests

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify/sigstoretest"
)

// releaseMirror lays out a Packer release as releases.hashicorp.com does, around the Packer binary
// built here: the zip, packer_<v>_SHA256SUMS and its detached signature by signer. tamper edits the
// files after signing.
func releaseMirror(t *testing.T, version string, binary []byte, signer *openpgp.Entity, tamper func(zipFile, sums, sig string)) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "packer", version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "packer", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(binary)
	zw.Close()
	zipName := fmt.Sprintf("packer_%s_linux_amd64.zip", version)
	sum := sha256.Sum256(zb.Bytes())
	sums := fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), zipName)
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, signer, strings.NewReader(sums), nil); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{zipName: zb.Bytes(), fmt.Sprintf("packer_%s_SHA256SUMS", version): []byte(sums),
		fmt.Sprintf("packer_%s_SHA256SUMS.sig", version): sig.Bytes()}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if tamper != nil {
		tamper(filepath.Join(dir, zipName), filepath.Join(dir, fmt.Sprintf("packer_%s_SHA256SUMS", version)),
			filepath.Join(dir, fmt.Sprintf("packer_%s_SHA256SUMS.sig", version)))
	}
	return root
}

func appendByte(t *testing.T, path string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
}

// --tools release, proven here against a mirror laid out like releases.hashicorp.com, serving the
// Packer built here with its SHA256SUMS signed by a test key (given as --tools-key in HashiCorp's
// place): the toolchain runs the released binary. A tampered archive, checksum file or signature, or
// another key's signature, fails the call naming what did not verify.
func TestToolsFromReleaseMirror(t *testing.T) {
	t.Parallel()
	packerPath, err := exec.LookPath("packer")
	if err != nil {
		t.Fatalf("no packer on PATH (scripts/test.sh exports the pipeline's own build): %v", err)
	}
	binary, err := os.ReadFile(packerPath)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(packerPath, "version").Output()
	if err != nil {
		t.Fatalf("packer version: %v", err)
	}
	version := strings.TrimPrefix(strings.Fields(string(out))[1], "v")

	key, err := openpgp.NewEntity("cst test releases", "", "releases@cst.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := openpgp.NewEntity("not the releaser", "", "other@cst.example", nil)
	var kb bytes.Buffer
	aw, _ := armor.Encode(&kb, openpgp.PublicKeyType, nil)
	key.Serialize(aw)
	aw.Close()
	keyFile := filepath.Join(t.TempDir(), "releases.asc")
	os.WriteFile(keyFile, kb.Bytes(), 0o644)

	tests := []struct {
		name   string
		signer *openpgp.Entity
		tamper func(zipFile, sums, sig string)
		wants  []string
	}{
		{"signed release", key, nil, nil},
		{"tampered archive", key, func(z, _, _ string) { appendByte(t, z) },
			[]string{"sha256 of http://tools-mirror", "the signed checksum file", "the download is corrupt or was tampered with"}},
		{"tampered checksum file", key, func(_, s, _ string) {
			b, _ := os.ReadFile(s)
			b[0] ^= 1
			os.WriteFile(s, b, 0o644)
		}, []string{"is not signed by the key given for the mirror (--key; the module's --tools-key)", "detached signature does not verify"}},
		{"another key's signature", other, nil, []string{"is not signed by the key given for the mirror"}},
		{"no signature", key, func(_, _, g string) { os.Remove(g) }, []string{"signature for packer-" + version, "404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A trailer of its own makes each case's archive new to the engine's download cache, which
			// keeps verified archives by digest: every case downloads, none reuses another's file.
			unique := append(append([]byte(nil), binary...), []byte(fmt.Sprintf("\ncst-test %s %d\n", tt.name, time.Now().UnixNano()))...)
			mir := startMirror(t, releaseMirror(t, version, unique, tt.signer, tt.tamper))
			r := daggerCall(t, 20*time.Minute, "--tools", "release",
				"--tools-mirror", fmt.Sprintf("http://tools-mirror:%d", mir.port),
				"--tools-mirror-service", fmt.Sprintf("tcp://localhost:%d", mir.port),
				"--tools-key", keyFile, "--packer-version", version,
				"toolchain", "with-exec", "--args", "packer,version", "stdout")
			if tt.wants == nil {
				if got := r.mustSucceed(t); !strings.Contains(got, "Packer v"+version) {
					t.Fatalf("the released packer says %q", got)
				}
				if n, _ := mir.count(fmt.Sprintf("packer/%s/packer_%s_linux_amd64.zip", version, version)); n != 1 {
					t.Errorf("archive requested %d times, want 1", n)
				}
				return
			}
			r.mustFailWith(t, tt.wants...)
		})
	}
}

// Trivy's release path through the module (--tools release), proven here against a mirror laid out
// like GitHub's release downloads, serving the Trivy the module compiles from source, its checksum
// file signed through a virtual Sigstore instance whose trusted root and signer are given as an
// organisation's would be (--tools-sigstore-*): the installed binary is the served one and runs. A
// modified archive or checksum file, another signer's bundle, a missing bundle, or no trusted root
// for the mirror's instance (the public-good one then) fails the call naming what did not verify.
func TestTrivyFromReleaseMirror(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "trivy-source")
	daggerCall(t, 60*time.Minute, "tool", "--name", "trivy", "export", "--path", src).mustSucceed(t)
	binary, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const version, issuer = "0.68.2", "https://token.actions.githubusercontent.com"
	const signer = "https://github.com/cst-example/tools-mirror/.github/workflows/sign.yml@refs/heads/main"
	ss := sigstoretest.New(t)
	rootFile := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(rootFile, ss.TrustedRootJSON(t, false), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := sigstoretest.TrivyReleaseDir(version)
	archive, sums := dir+"trivy_"+version+"_Linux-64bit.tar.gz", dir+"trivy_"+version+"_checksums.txt"
	tests := []struct {
		name     string
		identity string
		tamper   func(files map[string][]byte)
		noRoot   bool
		wants    []string
	}{
		{"signed release", signer, nil, false, nil},
		{"modified archive", signer, func(f map[string][]byte) { f[archive] = append(f[archive], 0) },
			false, []string{"the signed checksum file http://tools-mirror", "the download is corrupt or was tampered with"}},
		{"modified checksum file", signer, func(f map[string][]byte) { f[sums][5] ^= 1 },
			false, []string{"trivy_" + version + "_checksums.txt is not signed by", "failed to verify signature"}},
		{"another signer's bundle", strings.Replace(signer, "cst-example", "attacker", 1), nil,
			false, []string{"failed to verify certificate identity"}},
		{"no bundle", signer, func(f map[string][]byte) { delete(f, sums+".sigstore.json") },
			false, []string{"Sigstore bundle for trivy-" + version, "404"}},
		{"no trusted root for the mirror's instance", signer, nil,
			true, []string{"under Sigstore's public-good trusted root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A trailer of its own makes each case's archive new to the engine's download cache.
			unique := append(append([]byte(nil), binary...), []byte(fmt.Sprintf("\ncst-test %s %d\n", tt.name, time.Now().UnixNano()))...)
			files := ss.TrivyRelease(t, version, tt.identity, issuer, unique)
			if tt.tamper != nil {
				tt.tamper(files)
			}
			root := t.TempDir()
			for p, b := range files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, p), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mir := startMirror(t, root)
			args := []string{"--tools", "release",
				"--tools-mirror", fmt.Sprintf("http://tools-mirror:%d", mir.port),
				"--tools-mirror-service", fmt.Sprintf("tcp://localhost:%d", mir.port),
				"--tools-sigstore-identity", signer, "--tools-sigstore-issuer", issuer}
			if !tt.noRoot {
				args = append(args, "--tools-sigstore-root", rootFile)
			}
			out := filepath.Join(t.TempDir(), "trivy")
			r := daggerCall(t, 20*time.Minute, append(args, "tool", "--name", "trivy", "export", "--path", out)...)
			if tt.wants != nil {
				r.mustFailWith(t, tt.wants...)
				return
			}
			r.mustSucceed(t)
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, unique) {
				t.Fatalf("the installed trivy is not the served one (%d vs %d bytes, %v)", len(got), len(unique), err)
			}
			os.Chmod(out, 0o755)
			v, err := exec.Command(out, "--version").CombinedOutput()
			if err != nil || !strings.Contains(string(v), "Version: "+version) {
				t.Fatalf("the released trivy says %q (%v)", v, err)
			}
			if n, _ := mir.count(archive); n != 1 {
				t.Errorf("archive requested %d times, want 1", n)
			}
		})
	}
}
