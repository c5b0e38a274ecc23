package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/batch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// buildOptions are what build and build-all take per call; what every build shares (accelerator,
// tool versions, mirror, Trivy DB, source commit) is the module's, from its constructor.
type buildOptions struct {
	formats        string
	skipValidation bool
	skipScan       bool
	failOn         Severity
	sshTimeout     string
	skipZoneCases  []string
	iso            *dagger.File
}

// Build one OS's CloudStack template: fetch and verify the installer, run Packer under QEMU,
// validate the image (offline inspection and a boot test), scan it with Trivy (SBOM, vulnerabilities,
// secrets), convert it to the requested formats with checksums, and describe it all in metadata.json.
// Returns the directory to export.
func (m *CloudstackTemplates) Build(
	ctx context.Context,
	// OS to build (an ID or alias, see the list function).
	os string,
	// Installer to use instead of fetching it, e.g. from a CI cache (see resolve-iso); it is checked
	// against the vendor's checksum file all the same.
	// +optional
	iso *dagger.File,
	// Output formats, comma-separated (the list function names each OS's, e.g. qcow2), or all. CI passes
	// $PACKER_FORMAT.
	// +default="all"
	formats string,
	// Skip the validation stage (offline inspection and boot test). CI passes $SKIP_VALIDATION.
	// +optional
	skipValidation bool,
	// Skip the Trivy scan (no SBOM, no vulnerability report) — for engines that can reach neither the
	// vulnerability DB nor a --trivy-db copy.
	// +optional
	skipScan bool,
	// Fail the build when the scan finds a vulnerability of this severity or worse: CRITICAL, HIGH,
	// MEDIUM, LOW, UNKNOWN, or NONE to only report.
	// +default="CRITICAL"
	failOn Severity,
	// How long to wait for the installed system to answer SSH (Go duration); empty takes the OS's default.
	// +optional
	sshTimeout string,
	// Zone cases the boot test leaves out (config-drive, kvm-vr, xen-vr): their failure no longer fails
	// the build, and metadata claims only what the remaining cases proved.
	// +optional
	skipZoneCases []string,
) (*dagger.Directory, error) {
	d, err := osdefs.Lookup(os)
	if err != nil {
		return nil, err
	}
	return m.build(ctx, d, buildOptions{formats: formats, skipValidation: skipValidation, skipScan: skipScan,
		failOn: failOn, sshTimeout: sshTimeout, skipZoneCases: skipZoneCases, iso: iso})
}

// Build several OSes' templates at once, bounded by --parallel. One OS failing does not stop or hide
// the others: each runs to its end, and the summary table is printed. When all succeed, the returned
// directory holds one sub-directory per OS and summary.txt. When any fails, the call fails with the
// summary and exports nothing (a failed call has no result): rebuild the failed OSes with build, or
// leave them out of --os-filter; the finished ones are cached and take seconds.
func (m *CloudstackTemplates) BuildAll(
	ctx context.Context,
	// OSes to build: all (every vendor OS; fixtures such as testbed only when named), or a
	// comma-separated list of IDs and aliases.
	// +default="all"
	osFilter string,
	// How many builds run at the same time. Each takes 2 vCPUs and 1-4 GiB of memory on the engine.
	// +default=2
	parallel int,
	// Output formats, comma-separated (the list function names each OS's, e.g. qcow2), or all.
	// +default="all"
	formats string,
	// Skip the validation stage.
	// +optional
	skipValidation bool,
	// Skip the Trivy scan.
	// +optional
	skipScan bool,
	// Severity at which the scan fails a build (or NONE).
	// +default="CRITICAL"
	failOn Severity,
	// Zone cases the boot test leaves out (config-drive, kvm-vr, xen-vr): their failure no longer fails
	// the build, and metadata claims only what the remaining cases proved.
	// +optional
	skipZoneCases []string,
	// How long to wait for each installed system to answer SSH (Go duration); empty takes each OS's default.
	// +optional
	sshTimeout string,
) (*dagger.Directory, error) {
	defs, err := osdefs.Select(osFilter)
	if err != nil {
		return nil, err
	}
	if parallel < 1 {
		return nil, fmt.Errorf("--parallel must be at least 1, got %d", parallel)
	}
	opts := buildOptions{formats: formats, skipValidation: skipValidation, skipScan: skipScan, failOn: failOn,
		sshTimeout: sshTimeout, skipZoneCases: skipZoneCases}
	// Decide the accelerator once, before the fan-out, so parallel builds share one probe.
	if _, _, err := chooseAccel(ctx, m.Accel); err != nil {
		return nil, err
	}
	outcomes := make([]batch.Outcome, len(defs))
	dirs := make([]*dagger.Directory, len(defs))
	var mu sync.Mutex
	p := pool.New().WithMaxGoroutines(parallel)
	for i, d := range defs {
		p.Go(func() {
			t0 := time.Now()
			dir, err := m.build(ctx, d, opts)
			o := batch.Outcome{OS: d.ID, Duration: time.Since(t0), Err: err}
			if err == nil {
				o.Artifacts, err = dir.Entries(ctx)
				o.Err = err
			}
			mu.Lock()
			outcomes[i], dirs[i] = o, dir
			mu.Unlock()
		})
	}
	p.Wait()
	summary := batch.Summary(outcomes)
	stageLogger("all").Info("build-all finished\n" + summary)
	out := dag.Directory().WithNewFile("summary.txt", summary)
	for i, o := range outcomes {
		if o.Err == nil {
			out = out.WithDirectory(o.OS, dirs[i])
		}
	}
	if _, failed := batch.Counts(outcomes); failed > 0 {
		// Export what succeeded is not possible through a failing call; say where each failure is.
		return out, fmt.Errorf("%d of %d builds failed:\n%s", failed, len(outcomes), summary)
	}
	return out, nil
}
