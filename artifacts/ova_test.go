package artifacts

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

type ovaFile struct {
	name string
	data []byte
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// buildOVA writes files into a ustar archive in the given order.
func buildOVA(t *testing.T, files []ovaFile, format tar.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, Format: format}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// goodOVAFiles returns descriptor, manifest and disk of a consistent package.
func goodOVAFiles(t *testing.T) (ovf, mf, vmdk ovaFile) {
	t.Helper()
	disk := bytes.Repeat([]byte("KDMV-stream"), 5000)
	p := sampleOVFParams()
	p.DiskFileSize = int64(len(disk))
	desc, err := OVFDescriptor(p)
	if err != nil {
		t.Fatal(err)
	}
	ovf = ovaFile{"debian-12.ovf", desc}
	vmdk = ovaFile{p.DiskFile, disk}
	mf = ovaFile{"debian-12.mf", Manifest([]ManifestEntry{{ovf.name, sha256Hex(ovf.data)}, {vmdk.name, sha256Hex(vmdk.data)}})}
	return
}

func TestManifestFormat(t *testing.T) {
	got := string(Manifest([]ManifestEntry{{"a.ovf", abcSHA256}, {"a-disk1.vmdk", abcSHA256}}))
	want := "SHA256(a.ovf)= " + abcSHA256 + "\nSHA256(a-disk1.vmdk)= " + abcSHA256 + "\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	parsed, err := ParseManifest([]byte(got))
	if err != nil || len(parsed) != 2 || parsed["a.ovf"] != abcSHA256 {
		t.Fatalf("ParseManifest = %v, %v", parsed, err)
	}
}

func TestParseManifestRejects(t *testing.T) {
	for _, bad := range []string{
		"SHA1(a.ovf)= 0123456789012345678901234567890123456789\n",
		"SHA256(a.ovf)= abc\n",
		"SHA256 a.ovf = " + abcSHA256 + "\n",
		"SHA256(a.ovf)= " + abcSHA256 + "\nSHA256(a.ovf)= " + abcSHA256 + "\n",
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("ParseManifest(%q) accepted", bad)
		}
	}
}

func TestInspectOVA(t *testing.T) {
	ovf, mf, vmdk := goodOVAFiles(t)
	tampered := ovaFile{vmdk.name, append(append([]byte{}, vmdk.data...), 'x')}
	extra := ovaFile{"notes.txt", []byte("hello")}
	partialMF := ovaFile{mf.name, Manifest([]ManifestEntry{{ovf.name, sha256Hex(ovf.data)}})}
	ghostMF := ovaFile{mf.name, append(append([]byte{}, mf.data...), []byte("SHA256(ghost.vmdk)= "+abcSHA256+"\n")...)}
	tests := []struct {
		name   string
		files  []ovaFile
		format tar.Format
		want   string // substring of the error; empty means valid
	}{
		{"good", []ovaFile{ovf, mf, vmdk}, tar.FormatUSTAR, ""},
		{"descriptor not first", []ovaFile{vmdk, ovf, mf}, tar.FormatUSTAR, "descriptor must come first"},
		{"manifest last", []ovaFile{ovf, vmdk, mf}, tar.FormatUSTAR, "immediately follow the descriptor"},
		{"no manifest", []ovaFile{ovf, vmdk}, tar.FormatUSTAR, "no .mf manifest"},
		{"tampered disk", []ovaFile{ovf, mf, tampered}, tar.FormatUSTAR, vmdk.name + ": SHA-256"},
		{"member missing from manifest", []ovaFile{ovf, partialMF, vmdk}, tar.FormatUSTAR, vmdk.name + " is not listed"},
		{"unlisted extra member", []ovaFile{ovf, mf, vmdk, extra}, tar.FormatUSTAR, "notes.txt is not listed"},
		{"listed file missing", []ovaFile{ovf, ghostMF, vmdk}, tar.FormatUSTAR, "ghost.vmdk is listed in the manifest but missing"},
		{"GNU format", []ovaFile{ovf, mf, vmdk}, tar.FormatGNU, "GNU tar format"},
		{"member in a directory", []ovaFile{ovf, mf, {"sub/" + vmdk.name, vmdk.data}}, tar.FormatUSTAR, "archive root"},
		{"two descriptors", []ovaFile{ovf, mf, {"other.ovf", ovf.data}}, tar.FormatUSTAR, "second descriptor"},
		{"empty", nil, tar.FormatUSTAR, "empty archive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := InspectOVA(bytes.NewReader(buildOVA(t, tc.files, tc.format)))
			if testcheck.Err(t, err, tc.want) {
				return
			}
			if info.Descriptor != ovf.name || info.Manifest != mf.name || len(info.Members) != 3 {
				t.Fatalf("info = %+v", info)
			}
			for i, f := range tc.files {
				m := info.Members[i]
				if m.Name != f.name || m.Size != int64(len(f.data)) || m.SHA256 != sha256Hex(f.data) {
					t.Errorf("member %d = %+v, want %s (%d bytes)", i, m, f.name, len(f.data))
				}
			}
		})
	}
}

func TestInspectOVANotTar(t *testing.T) {
	if _, err := InspectOVA(bytes.NewReader(bytes.Repeat([]byte("not a tar archive "), 64))); err == nil {
		t.Fatal("garbage accepted")
	}
}

// TestInspectOVAFromGNUTar checks the archive the pipeline's `tar --format=ustar` produces (and that
// tar's default GNU format is refused), so the stage's tar invocation is covered, not just Go's writer.
func TestInspectOVAFromGNUTar(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Fatalf("tar is part of every Debian system: %v", err)
	}
	ovf, mf, vmdk := goodOVAFiles(t)
	dir := t.TempDir()
	for _, f := range []ovaFile{ovf, mf, vmdk} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for format, wantErr := range map[string]string{"ustar": "", "gnu": "GNU tar format"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.ova")
			cmd := exec.Command(tarBin, "--format="+format, "-cf", out, "-C", dir, ovf.name, mf.name, vmdk.name)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("tar: %v\n%s", err, b)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			_, err = InspectOVA(f)
			f.Close()
			testcheck.Err(t, err, wantErr)
		})
	}
}
