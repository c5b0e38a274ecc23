package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/inspect"
	"github.com/cloudstack-templates/cloudstack-templates/monitor"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/provenance"
	"golang.org/x/sync/errgroup"
)

// bootTimeout bounds the build's boot test; an OS that needs longer is broken for CloudStack users too.
const bootTimeout = 10 * time.Minute

// artifactName is the stem of every file a build produces: predictable, so CI and publish scripts can
// name files without listing directories.
func artifactName(d osdefs.Definition) string {
	return fmt.Sprintf("%s-%s-x86_64", d.ID, d.Version)
}

// build composes the stages. Inputs are checked before anything slow runs.
func (m *CloudstackTemplates) build(ctx context.Context, d osdefs.Definition, o buildOptions) (_ *dagger.Directory, err error) {
	started := time.Now().UTC()
	formats, err := osdefs.ParseFormats(d, o.formats)
	if err != nil {
		return nil, err
	}
	threshold, err := artifacts.ParseSeverity(string(o.failOn))
	if err != nil {
		return nil, fmt.Errorf("--fail-on: %w", err)
	}
	if o.skipScan && m.TrivyDB != nil {
		return nil, fmt.Errorf("--skip-scan and --trivy-db contradict each other: drop one")
	}
	if _, err := zoneSkips(o.skipZoneCases); err != nil {
		return nil, err
	}
	req := buildRequest{def: d, iso: o.iso, sshTimeout: o.sshTimeout}
	if err := req.check(); err != nil {
		return nil, err
	}
	log := stageLogger(d.ID)
	// From here on the build has started: a failure leaves its record (stage and error) in the
	// engine's records volume, since a failed call exports nothing.
	stagesSoFar := func() []stageTime { return nil }
	failedStage := func() string { return "" }
	var pr *packerResult
	defer func() {
		if err != nil {
			rec := monitor.Failure(d.ID, artifactName(d), started, time.Now().UTC(), monitorStages(stagesSoFar()), failedStage(), err)
			var iso fetch.Plan
			if pr != nil {
				iso = pr.iso
			}
			_ = m.afterBuild(ctx, log, d, rec, iso, map[string]string{"packer": m.PackerVersion, "qemu": m.QemuVersion, "trivy": trivyVersionIf(!o.skipScan)}, nil)
		}
	}()
	stopPrewarm := prewarm(ctx, log, m.laterStageTools(!o.skipValidation, !o.skipScan))
	defer stopPrewarm()
	pr, err = m.packerBuild(ctx, req)
	if err != nil {
		if pr != nil {
			stagesSoFar, failedStage = func() []stageTime { return pr.stages }, func() string { return pr.failedStage }
		}
		return nil, err
	}
	clock := &stageClock{log: log, stages: pr.stages, ctx: ctx, os: d.ID}
	stagesSoFar, failedStage = clock.recorded, clock.failedFirst
	stage := clock.run
	name := artifactName(d)

	// Validation, the scan and the conversions each only read Packer's image: they run at the same
	// time, and the first failure cancels the others.
	var (
		validationReport string
		proven           inspect.Proven
		scanned          *scanResult
		converted        *dagger.Directory
		records          []artifacts.Artifact
		sums             []checksumFiles
	)
	g, gctx := errgroup.WithContext(ctx)
	if !o.skipValidation {
		g.Go(func() error {
			return stage("validate", func() error {
				v, err := m.validate(gctx, pr.image, pr.accel.Accel, bootTestSpec{run: true, timeout: bootTimeout, skip: o.skipZoneCases})
				if err != nil {
					return err
				}
				if err := inspect.Error("validation of "+d.ID, v.checks); err != nil {
					return err
				}
				validationReport, proven = v.report, v.proven
				return nil
			})
		})
	}
	if !o.skipScan {
		g.Go(func() error {
			return stage("scan", func() error {
				r, err := m.scan(gctx, pr.image, threshold)
				if err != nil {
					return err
				}
				if err := artifacts.Gate(r.summary, threshold); err != nil {
					return fmt.Errorf("scan of %s: %w", d.ID, err)
				}
				scanned = r
				return nil
			})
		})
	}
	g.Go(func() error {
		if err := stage("convert", func() error {
			var err error
			converted, err = m.convert(gctx, d, pr.image, name, formats)
			return err
		}); err != nil {
			return err
		}
		return stage("checksums", func() error {
			src, err := qemuImgInfo(gctx, pr.image, "image.qcow2")
			if err != nil {
				return err
			}
			for _, f := range formats {
				spec, err := osdefs.Spec(f)
				if err != nil {
					return err
				}
				file := spec.FileName(name)
				rec, s, err := describeArtifact(gctx, converted.File(file), file, spec)
				if err != nil {
					return err
				}
				if rec.VirtualSizeBytes == 0 {
					// An OVA or a compressed file has no image header to read: the disk's capacity
					// is Packer's image's.
					rec.VirtualSizeBytes = src.VirtualSize
				}
				records, sums = append(records, rec), append(sums, s)
			}
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	out := dag.Directory().
		WithFile("logs/packer.log", pr.output.File("packer.log")).
		WithFile("logs/serial.log", pr.output.File("serial.log"))
	if validationReport != "" {
		out = out.WithNewFile("validation.txt", validationReport)
	}
	var scanSummary *artifacts.ScanSummary
	if scanned != nil {
		scanSummary = &scanned.summary
		out = out.WithDirectory("scan", scanned.reports)
	}
	for i, rec := range records {
		out = out.WithFile(rec.Name, converted.File(rec.Name)).
			WithNewFile(rec.Name+".sha256", sums[i].sha256).
			WithNewFile(rec.Name+".sha512", sums[i].sha512)
	}

	mdDoc, md, err := metadata(d, metadataInput{
		name: name, started: started, sourceCommit: m.SourceCommit, accel: pr.accel.Accel,
		tools:  map[string]string{"packer": pr.packerV, "qemu": pr.qemuV, "trivy": trivyVersionIf(!o.skipScan)},
		stages: clock.recorded(), artifacts: records, scan: scanSummary, formats: formats, proven: proven,
	})
	if err != nil {
		return nil, err
	}
	out = out.WithNewFile("metadata.json", md)
	// The same build as a record, Prometheus metrics and a JUnit report, for monitoring and CI.
	rec := monitor.FromMetadata(mdDoc)
	recJSON, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	junit, err := monitor.JUnitXML([]monitor.Record{rec})
	if err != nil {
		return nil, err
	}
	out = out.WithNewFile("record.json", string(recJSON)+"\n").
		WithNewFile("metrics.prom", monitor.PrometheusText([]monitor.Record{rec})).
		WithNewFile("junit.xml", string(junit))
	// The in-toto statement over every file of the export and the build's inputs (docs/provenance.md).
	prov, err := m.provenanceOf(ctx, d, out, pr, rec, o, formats)
	if err != nil {
		return nil, err
	}
	out = out.WithNewFile(provenance.FileName, string(prov))
	// Everything is produced before the directory is handed out: an export never sees half a build.
	if _, err := out.Sync(ctx); err != nil {
		return nil, fmt.Errorf("assemble %s artifacts: %s", d.ID, execMessage(err))
	}
	if err := m.afterBuild(ctx, log, d, rec, pr.iso, rec.Tools, records); err != nil {
		return nil, err
	}
	log.Info("build finished", "elapsed", time.Since(started).Round(time.Second), "artifacts", len(records))
	return out, nil
}

func trivyVersionIf(on bool) string {
	if on {
		return trivyVersion
	}
	return ""
}

type checksumFiles struct{ sha256, sha512 string }

// describeArtifact hashes an artifact and reads its image header.
func describeArtifact(ctx context.Context, f *dagger.File, name string, spec osdefs.FormatSpec) (artifacts.Artifact, checksumFiles, error) {
	s256, err := digestOf(ctx, f, "sha256")
	if err != nil {
		return artifacts.Artifact{}, checksumFiles{}, fmt.Errorf("%s: %w", name, err)
	}
	s512, err := digestOf(ctx, f, "sha512")
	if err != nil {
		return artifacts.Artifact{}, checksumFiles{}, fmt.Errorf("%s: %w", name, err)
	}
	line256, err := checksum.Line(s256, name)
	if err != nil {
		return artifacts.Artifact{}, checksumFiles{}, err
	}
	line512, err := checksum.Line(s512, name)
	if err != nil {
		return artifacts.Artifact{}, checksumFiles{}, err
	}
	size, err := f.Size(ctx)
	if err != nil {
		return artifacts.Artifact{}, checksumFiles{}, err
	}
	rec := artifacts.Artifact{Name: name, Format: string(spec.Format), SizeBytes: int64(size), SHA256: s256, SHA512: s512}
	// qemu-img reads the header of a bare image only: not an OVA's tar, not a compressed stream.
	if spec.Format != osdefs.FormatOVA && spec.Compression == "" {
		info, err := qemuImgInfo(ctx, f, name)
		if err != nil {
			return rec, checksumFiles{}, err
		}
		rec.VirtualSizeBytes = info.VirtualSize
	}
	return rec, checksumFiles{sha256: line256, sha512: line512}, nil
}

type metadataInput struct {
	name         string
	started      time.Time
	sourceCommit string
	accel        string
	tools        map[string]string
	stages       []stageTime
	artifacts    []artifacts.Artifact
	scan         *artifacts.ScanSummary
	formats      []osdefs.Format
	// proven is what the boot test showed; registration claims a password or key only if shown.
	proven inspect.Proven
}

// metadata renders metadata.json and checks it against the published schema before it ships. It
// returns the document too, for what is derived from it (the build record).
func metadata(d osdefs.Definition, in metadataInput) (artifacts.Metadata, string, error) {
	md := artifacts.Metadata{
		SchemaVersion: artifacts.MetadataSchemaVersion,
		Template:      in.name,
		OS:            artifacts.MetadataOS{ID: d.ID, Name: d.Name, Version: d.Version, Family: d.Family},
		Build: artifacts.Build{
			StartedAt: in.started, FinishedAt: time.Now().UTC(), SourceCommit: in.sourceCommit,
			Accelerator: in.accel, Tools: map[string]string{},
		},
		Artifacts: in.artifacts,
		Scan:      in.scan,
	}
	for k, v := range in.tools {
		if v != "" {
			md.Build.Tools[k] = v
		}
	}
	for _, s := range in.stages {
		md.Build.Stages = append(md.Build.Stages, artifacts.Stage{Name: s.name, Seconds: s.seconds})
	}
	for _, a := range in.artifacts {
		rt, err := artifacts.NewRegisterTemplate(d, osdefs.Format(a.Format), a.Name, a.SHA512, in.proven)
		if err != nil {
			return artifacts.Metadata{}, "", err
		}
		md.CloudStack = append(md.CloudStack, rt)
	}
	b, err := artifacts.EncodeMetadata(md)
	if err != nil {
		return artifacts.Metadata{}, "", fmt.Errorf("metadata for %s: %w", d.ID, err)
	}
	return md, string(b), nil
}
