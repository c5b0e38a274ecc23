package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadRecords(t *testing.T) {
	dir := t.TempDir()
	debian := sampleMetadata(t, "debian-12", at(2, 0))
	mdData, err := artifacts.EncodeMetadata(debian)
	if err != nil {
		t.Fatal(err)
	}
	// The pipeline's metadata.json and its published copy describe the same build: read once.
	writeFile(t, filepath.Join(dir, "out", "debian-12", "metadata.json"), mdData)
	writeFile(t, filepath.Join(dir, "assets", "debian-12.metadata.json"), mdData)

	fedora := sampleMetadata(t, "fedora-41", at(0, 0))
	fdData, err := artifacts.EncodeMetadata(fedora)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "out", "fedora-41", "metadata.json"), fdData)

	fail := failure("debian-12", 1, "packer: exit status 1")
	failData, _ := json.Marshal(fail)
	writeFile(t, filepath.Join(dir, "runs", "1", "record.json"), failData)

	// A record.json of the same build as a metadata.json wins: it knows the ISO cache.
	richer := FromMetadata(fedora)
	richer.ISOCacheHit = boolPtr(true)
	richData, _ := json.Marshal(richer)
	writeFile(t, filepath.Join(dir, "runs", "2", "fedora-41.record.json"), richData)

	// Bad files are reported by name and skipped.
	badMD := strings.Replace(string(mdData), `"accelerator": "kvm"`, `"accelerator": "hvf"`, 1)
	writeFile(t, filepath.Join(dir, "bad", "metadata.json"), []byte(badMD))
	writeFile(t, filepath.Join(dir, "bad", "record.json"), []byte(`{"schemaVersion":1,"os":""}`))
	writeFile(t, filepath.Join(dir, "bad", "x.record.json"), []byte(`not json`))
	// Files with other names are ignored.
	writeFile(t, filepath.Join(dir, "out", "debian-12", "debian-12.cdx.json"), []byte(`{}`))
	writeFile(t, filepath.Join(dir, "out", "debian-12", "metadata.json.sha256"), []byte(`x`))

	recs, errs := ReadRecords(dir)
	if len(errs) != 3 {
		t.Fatalf("want 3 errors, got %d: %v", len(errs), errs)
	}
	for i, want := range []string{filepath.Join("bad", "metadata.json"), filepath.Join("bad", "record.json"), filepath.Join("bad", "x.record.json")} {
		if !strings.Contains(errs[i].Error(), want) {
			t.Errorf("error %d %q does not name %s", i, errs[i], want)
		}
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.OS+"/"+r.Outcome+"/"+r.StartedAt.Format("02"))
	}
	want := []string{"fedora-41/success/01", "debian-12/failure/02", "debian-12/success/03"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("records %v, want %v (sorted by start)", got, want)
	}
	if recs[0].ISOCacheHit == nil || !*recs[0].ISOCacheHit {
		t.Error("the record.json did not win over the metadata.json of the same build")
	}
	if recs[1].Error != "packer: exit status 1" {
		t.Errorf("failure record error %q", recs[1].Error)
	}
}

func TestReadRecordsMissingDir(t *testing.T) {
	recs, errs := ReadRecords(filepath.Join(t.TempDir(), "nope"))
	if len(recs) != 0 || len(errs) != 1 || !os.IsNotExist(errs[0]) {
		t.Fatalf("got %v records, errors %v; want one not-exist error", recs, errs)
	}
}

func TestLatestPerOS(t *testing.T) {
	a := success("debian-12", 1, 1, 1, 1, 1, 1)
	b := failure("debian-12", 2, "x")
	c := success("alma-9", 0, 1, 1, 1, 1, 1)
	d := c
	d.Template = "later-in-input"
	got := latestPerOS([]Record{b, a, c, d})
	if len(got) != 2 || got[0].OS != "alma-9" || got[0].Template != "later-in-input" || got[1].Outcome != OutcomeFailure {
		t.Fatalf("latestPerOS = %+v", got)
	}
}
