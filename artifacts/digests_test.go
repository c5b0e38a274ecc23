package artifacts

import (
	"bytes"
	"errors"
	"os"
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

func TestCloudStackChecksum(t *testing.T) {
	if got := CloudStackChecksum(abcSHA512); got != "{SHA-512}"+abcSHA512 {
		t.Fatalf("got %q", got)
	}
}
