package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/monitor"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/provenance"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/guest"
)

// embeddedInputs are the build's inputs this module carries itself (install configuration, guest
// scripts, the rendered Packer template), name → SHA-256: what provenance records and what verify
// holds a statement's materials to.
func embeddedInputs(d osdefs.Definition) (map[string]string, error) {
	out := map[string]string{}
	add := func(prefix string, fsys fs.FS) error {
		return fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[prefix+path.Clean(p)] = hex.EncodeToString(sum[:])
			return nil
		})
	}
	if d.HTTPDir != "" {
		files, err := osdefs.HTTPFiles(d)
		if err != nil {
			return nil, err
		}
		if err := add("install-config:", files); err != nil {
			return nil, err
		}
	}
	if err := add("guest:", guest.Scripts); err != nil {
		return nil, err
	}
	hcl, err := osdefs.RenderPacker(d)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(hcl)
	out["packer-template:"+osdefs.TemplateFile] = hex.EncodeToString(sum[:])
	return out, nil
}

// materials are the build's inputs: the installer (by the digest its signed checksum file gave) and
// the embedded inputs. URLs are redacted.
func materials(d osdefs.Definition, iso fetch.Plan) ([]provenance.Material, error) {
	emb, err := embeddedInputs(d)
	if err != nil {
		return nil, err
	}
	mats := []provenance.Material{
		{Name: "installer:" + iso.FileName, URI: redact.URL(iso.URL), Digest: provenance.DigestSet{iso.Algorithm: iso.Digest}},
		{Name: "checksum-file:" + path.Base(iso.ChecksumURL), URI: redact.URL(iso.ChecksumURL)},
	}
	for name, sum := range emb {
		mats = append(mats, provenance.Material{Name: name, Digest: provenance.DigestSet{"sha256": sum}})
	}
	return mats, nil
}

// fileSums hashes every file of a directory but provenance.json, in a container: the bytes never
// travel to the module's runtime.
func fileSums(ctx context.Context, dir *dagger.Directory) (map[string]string, error) {
	out, err := dag.Container().From(debianImage).
		WithMountedDirectory("/export", dir).
		WithWorkdir("/export").
		WithExec([]string{"sh", "-c", "find . -type f ! -path ./" + provenance.FileName + " -exec sha256sum {} +"}).
		Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("hash the export: %s", execMessage(err))
	}
	return provenance.ParseSums(out)
}

// Verify an exported build against its provenance.json: every file's SHA-256 is the one the
// statement lists, no file was added or removed, and the install configuration, guest scripts and
// Packer template the build used are the ones this module's catalogue embeds. Returns a summary;
// fails listing every difference.
func (m *CloudstackTemplates) Verify(
	ctx context.Context,
	// An exported build directory (holding provenance.json).
	dir *dagger.Directory,
) (string, error) {
	raw, err := dir.File(provenance.FileName).Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("--dir has no readable %s: export a build made by this module", provenance.FileName)
	}
	st, err := provenance.Decode([]byte(raw))
	if err != nil {
		return "", err
	}
	osID, _ := st.Predicate.BuildDefinition.ExternalParameters["os"].(string)
	d, err := osdefs.Lookup(osID)
	if err != nil {
		return "", fmt.Errorf("%s names OS %q: %w", provenance.FileName, osID, err)
	}
	files, err := fileSums(ctx, dir)
	if err != nil {
		return "", err
	}
	expected, err := embeddedInputs(d)
	if err != nil {
		return "", err
	}
	if err := provenance.Verify(st, files, expected); err != nil {
		return "", err
	}
	return fmt.Sprintf("verified: %d files of %s match %s; inputs match this module's catalogue\n",
		len(files), d.ID, provenance.FileName), nil
}

// provenanceOf makes the statement of a finished build whose export (without provenance.json) is out.
func (m *CloudstackTemplates) provenanceOf(ctx context.Context, d osdefs.Definition, out *dagger.Directory, pr *packerResult,
	rec monitor.Record, o buildOptions, formats []osdefs.Format) ([]byte, error) {
	files, err := fileSums(ctx, out)
	if err != nil {
		return nil, err
	}
	mats, err := materials(d, pr.iso)
	if err != nil {
		return nil, err
	}
	var fs []string
	for _, f := range formats {
		fs = append(fs, string(f))
	}
	params := map[string]any{
		"formats": fs, "accelerator": pr.accel.Accel, "tools": m.Tools, "qcow2Compression": m.Qcow2Compression,
		"skipValidation": o.skipValidation, "skipScan": o.skipScan, "skipZoneCases": o.skipZoneCases, "failOn": string(o.failOn),
	}
	if m.Mirror != "" {
		params["mirror"] = redact.URL(m.Mirror)
	}
	if m.ToolsMirror != "" {
		params["toolsMirror"] = redact.URL(m.ToolsMirror)
	}
	st, err := provenance.New(provenance.Input{
		OS: d.ID, Template: rec.Template, SourceCommit: rec.SourceCommit, Started: rec.StartedAt, Finished: rec.FinishedAt,
		Parameters: params, Tools: rec.Tools, Materials: mats, Files: files,
	})
	if err != nil {
		return nil, err
	}
	return st.Encode()
}
