package artifacts

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	abcSHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	abcSHA512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
)

func TestDigestKnownVectors(t *testing.T) {
	tests := []struct {
		in           string
		sha256, s512 string
	}{
		{"abc", abcSHA256, abcSHA512},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	}
	for _, tc := range tests {
		d, err := Digest(strings.NewReader(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if d.SHA256 != tc.sha256 || d.SHA512 != tc.s512 || d.Size != int64(len(tc.in)) {
			t.Errorf("Digest(%q) = %+v", tc.in, d)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDigestReadError(t *testing.T) {
	if _, err := Digest(failingReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
	if _, err := DigestFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("missing file must be an error")
	}
}

func TestDigestFileLarge(t *testing.T) {
	// Larger than any single io.Copy buffer, so streaming across reads is exercised.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	path := filepath.Join(t.TempDir(), "big.img")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := DigestFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Digest(bytes.NewReader(data))
	if got != want || got.Size != int64(len(data)) {
		t.Fatalf("DigestFile = %+v, want %+v", got, want)
	}
}

func TestChecksumLine(t *testing.T) {
	tests := []struct {
		hex, name, want, err string
	}{
		{abcSHA256, "a.qcow2", abcSHA256 + "  a.qcow2\n", ""},
		{abcSHA512, "a.ova", abcSHA512 + "  a.ova\n", ""},
		{strings.ToUpper(abcSHA256), "a", "", "lower-case"},
		{abcSHA256[:63], "a", "", "lower-case"},
		{abcSHA256, "dir/a", "", "plain base name"},
		{abcSHA256, "a\nb", "", "plain base name"},
		{abcSHA256, "", "", "empty"},
	}
	for _, tc := range tests {
		got, err := ChecksumLine(tc.hex, tc.name)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ChecksumLine(%q, %q) err = %v, want %q", tc.hex, tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ChecksumLine(%q, %q) = %q, %v", tc.hex, tc.name, got, err)
		}
	}
}

// TestChecksumLineVerifiesWithCoreutils proves the text really is what sha256sum/sha512sum -c read.
func TestChecksumLineVerifiesWithCoreutils(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "img.qcow2"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	for tool, hex := range map[string]string{"sha256sum": abcSHA256, "sha512sum": abcSHA512} {
		line, err := ChecksumLine(hex, "img.qcow2")
		if err != nil {
			t.Fatal(err)
		}
		sumFile := filepath.Join(dir, "img.qcow2."+tool)
		if err := os.WriteFile(sumFile, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "--strict", "-c", filepath.Base(sumFile))
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s -c: %v\n%s", tool, err, out)
		}
	}
}

func TestParseChecksumLines(t *testing.T) {
	text := abcSHA256 + "  a.qcow2\n\n" + strings.ToUpper(abcSHA512) + " *b.ova\r\n"
	got, err := ParseChecksumLines(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []ChecksumEntry{{"a.qcow2", abcSHA256}, {"b.ova", abcSHA512}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{"nothex  a\n", abcSHA256 + " a\n", abcSHA256 + "  \n", abcSHA256[:10] + "  a\n"} {
		if _, err := ParseChecksumLines(bad); err == nil {
			t.Errorf("ParseChecksumLines(%q) accepted", bad)
		}
	}
}

func TestCloudStackChecksum(t *testing.T) {
	if got := CloudStackChecksum(abcSHA512); got != "{SHA-512}"+abcSHA512 {
		t.Fatalf("got %q", got)
	}
}
