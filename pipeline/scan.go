package main

import (
	"context"
	"fmt"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
)

// trivyVersion is the Trivy every build scans with. 0.68.1 is the first release whose assets carry
// Sigstore bundles that verify offline (the release path needs them); it builds with Go 1.25 and
// the jsonv2 experiment, as Trivy's own goreleaser.yml does.
const trivyVersion = "0.68.2"

// trivyBinary is Trivy as --tools says: Aqua Security's release, its checksum file authenticated by
// its Sigstore bundle, or compiled from source at the same version.
func (m *CloudstackTemplates) trivyBinary() *dagger.File {
	if m.Tools == toolsSource {
		return trivyFromSource()
	}
	return m.toolRelease("trivy", trivyVersion)
}

func trivyFromSource() *dagger.File {
	return goModuleBuild(goBuilder().WithEnvVariable("GOEXPERIMENT", "jsonv2"), "github.com/aquasecurity/trivy", "v"+trivyVersion,
		"./cmd/trivy", "trivy", "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver="+trivyVersion, "")
}

// scanScript scans the guest disk (Trivy's vm target reads raw disks, not qcow2) for the SBOM,
// vulnerabilities and secrets, and writes the findings as Trivy JSON and SARIF. The vulnerability report is made with --exit-code 0: the severity
// gate is applied by the pipeline, which lists the offending CVEs itself.
const scanScript = `set -eu
db_flags="$1"
qemu-img convert -f qcow2 -O raw /in/image.qcow2 /tmp/disk.raw
mkdir -p /out
trivy vm --quiet --cache-dir /trivy $db_flags --scanners vuln,secret --format json -o /out/scan.json /tmp/disk.raw
trivy vm --quiet --cache-dir /trivy $db_flags --format cyclonedx -o /out/sbom.cdx.json /tmp/disk.raw
rm -f /tmp/disk.raw
# The same findings as SARIF, for code-scanning dashboards (GitHub's upload-sarif).
trivy convert --quiet --format sarif -o /out/scan.sarif /out/scan.json
`

type scanResult struct {
	reports *dagger.Directory
	summary artifacts.ScanSummary
}

// scan runs Trivy over the image and applies the severity gate.
// The threshold only marks the findings the gate will count; the caller parsed it from --fail-on.
func (m *CloudstackTemplates) scan(ctx context.Context, image *dagger.File, threshold artifacts.Severity) (*scanResult, error) {
	c := diskTools().
		WithFile("/usr/local/bin/trivy", m.trivyBinary()).
		WithMountedFile("/in/image.qcow2", image)
	dbFlags := ""
	if m.TrivyDB != nil {
		// An air-gapped copy: use it as it is, never try to update it.
		c = c.WithDirectory("/trivy", m.TrivyDB)
		dbFlags = "--skip-db-update --skip-java-db-update"
	} else {
		c = c.WithMountedCache("/trivy", cacheVolume("trivy"))
	}
	ran := c.WithExec([]string{"sh", "-c", scanScript, "scan", dbFlags})
	reports := ran.Directory("/out")
	report, err := reports.File("scan.json").Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("trivy scan: %s", execMessage(err))
	}
	summary, err := artifacts.ParseTrivyReport([]byte(report), trivyVersion, threshold)
	if err != nil {
		return nil, fmt.Errorf("trivy report: %w", err)
	}
	summary.SBOM = "sbom.cdx.json"
	reports = reports.WithNewFile("scan.txt", artifacts.Table(summary))
	return &scanResult{reports: reports, summary: summary}, nil
}

// Scan a disk image with Trivy: a CycloneDX SBOM, a vulnerability report (JSON and a table) and a
// secret scan, against the DB --trivy-db gives or one downloaded into a cache volume. Fails when a
// vulnerability at or above --fail-on is found, listing them.
func (m *CloudstackTemplates) Scan(
	ctx context.Context,
	// The qcow2 image to scan (e.g. from packer-build).
	image *dagger.File,
	// Fail on vulnerabilities of this severity or worse: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, or NONE.
	// +default="CRITICAL"
	failOn Severity,
) (*dagger.Directory, error) {
	threshold, err := artifacts.ParseSeverity(string(failOn))
	if err != nil {
		return nil, fmt.Errorf("--fail-on: %w", err)
	}
	r, err := m.scan(ctx, image, threshold)
	if err != nil {
		return nil, err
	}
	if err := artifacts.Gate(r.summary, threshold); err != nil {
		return nil, err
	}
	return r.reports, nil
}
