// Command trivydb writes a small Trivy vulnerability DB (schema v2) for offline scans:
//
//	go run ./scripts/trivydb OUTDIR [FIXTURE.yaml ...]
//
// OUTDIR then holds db/trivy.db and db/metadata.json, the layout `trivy --cache-dir OUTDIR
// --skip-db-update` reads and `dagger call --trivy-db OUTDIR build` takes. Without fixture files it
// loads fixture.yaml beside this file, which plants CVE-9999-0001 in Debian 12's openssh so the
// end-to-end test can prove the scan finds a package the testbed really has. It follows Trivy's own
// test helper (internal/dbtest), which is internal and cannot be imported.
package main

import (
	_ "embed"
	"log"
	"os"
	"path/filepath"
	"time"

	fixtures "github.com/aquasecurity/bolt-fixtures"
	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
)

//go:embed fixture.yaml
var defaultFixture []byte

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: trivydb OUTDIR [FIXTURE.yaml ...]")
	}
	dbDir := filepath.Join(os.Args[1], "db")
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		log.Fatal(err)
	}
	files := os.Args[2:]
	if len(files) == 0 {
		f := filepath.Join(os.Args[1], "fixture.yaml")
		if err := os.WriteFile(f, defaultFixture, 0o644); err != nil {
			log.Fatal(err)
		}
		defer os.Remove(f)
		files = []string{f}
	}
	_ = os.Remove(db.Path(dbDir))
	loader, err := fixtures.New(db.Path(dbDir), files)
	if err != nil {
		log.Fatal(err)
	}
	if err := loader.Load(); err != nil {
		log.Fatal(err)
	}
	if err := loader.Close(); err != nil {
		log.Fatal(err)
	}
	now := time.Now().UTC()
	if err := metadata.NewClient(dbDir).Update(metadata.Metadata{
		Version:      db.SchemaVersion,
		NextUpdate:   now.Add(10 * 365 * 24 * time.Hour),
		UpdatedAt:    now,
		DownloadedAt: now,
	}); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s (schema %d)", db.Path(dbDir), db.SchemaVersion)
}
