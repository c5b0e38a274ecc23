//go:build e2e

package tests

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/provenance"
)

// The main job's path with nothing on the host but the engine: the module builds the testbed in the
// engine (`testbed`, the same recipe as scripts/testbed.sh) and, given no --mirror, serves it to its
// own build. The build's provenance names the installer by the digest of the image `testbed` exports,
// so the build installed exactly that image, fetched and verified like a vendor installer.
func TestBuildTestbedWithoutMirror(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "testbed")
	daggerCall(t, 30*time.Minute, "testbed", "export", "--path", dir).mustSucceed(t)
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatalf("testbed exported no SHA256SUMS: %v", err)
	}
	want, err := checksum.Lookup(sums, "sha256", osdefs.TestbedImage)
	if err != nil {
		t.Fatalf("SHA256SUMS: %v\n%s", err, sums)
	}
	got, err := artifacts.DigestFile(filepath.Join(dir, osdefs.TestbedImage))
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != want {
		t.Fatalf("%s has sha256 %s, SHA256SUMS says %s", osdefs.TestbedImage, got.SHA256, want)
	}
	if info := qemuImgInfo(t, filepath.Join(dir, osdefs.TestbedImage)); info.Format != "qcow2" {
		t.Fatalf("%s is %s, want qcow2", osdefs.TestbedImage, info.Format)
	}

	out := filepath.Join(t.TempDir(), "out")
	r := daggerCall(t, 45*time.Minute, "build", "--os", "testbed", "--skip-scan", "--formats", "qcow2", "export", "--path", out)
	r.mustSucceed(t)
	t.Logf("e2e: testbed built in the engine and installed without a mirror in %s", r.elapsed.Round(time.Second))
	raw, err := os.ReadFile(filepath.Join(out, "provenance.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st provenance.Statement
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range st.Predicate.BuildDefinition.ResolvedDependencies {
		if path.Base(m.URI) == osdefs.TestbedImage {
			found = true
			if m.URI != osdefs.TestbedMirror+"/"+osdefs.TestbedImage || m.Digest["sha256"] != want {
				t.Errorf("provenance names the installer %s with %v; want %s/%s with sha256 %s",
					m.URI, m.Digest, osdefs.TestbedMirror, osdefs.TestbedImage, want)
			}
		}
	}
	if !found {
		t.Errorf("provenance names no installer:\n%s", raw)
	}
	if _, err := os.Stat(filepath.Join(out, artifactStem(mustLookup(t, "testbed"))+".qcow2")); err != nil {
		t.Errorf("no qcow2 template exported: %v", err)
	}
}

func mustLookup(t *testing.T, id string) osdefs.Definition {
	t.Helper()
	d, err := osdefs.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
