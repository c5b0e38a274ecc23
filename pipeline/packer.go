package main

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/packerrun"
	"golang.org/x/sync/errgroup"
)

// buildRequest is what one Packer build takes beyond the module's configuration.
type buildRequest struct {
	def        osdefs.Definition
	iso        *dagger.File
	sshTimeout string
}

type packerResult struct {
	output   *dagger.Directory
	image    *dagger.File
	accel    accelerator.Decision
	iso      fetch.Plan
	stages   []stageTime
	packerV  string
	qemuV    string
	warnings []string
	// failedStage is the stage that failed first, when the build failed.
	failedStage string
}

type stageTime struct {
	name    string
	seconds float64
	failed  bool
}

// dirFromFS copies an embedded file tree into a Dagger directory.
func dirFromFS(fsys fs.FS) (*dagger.Directory, error) {
	d := dag.Directory()
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		d = d.WithNewFile(p, string(b), dagger.DirectoryWithNewFileOpts{Permissions: 0o755})
		return nil
	})
	return d, err
}

// verifyGivenISO checks a caller-supplied installer against the digest from the checksum file.
func verifyGivenISO(ctx context.Context, iso *dagger.File, p fetch.Plan) error {
	got, err := digestOf(ctx, iso, p.Algorithm)
	if err != nil {
		return fmt.Errorf("hash the given installer: %w", err)
	}
	if got != p.Digest {
		return fmt.Errorf("the given installer's %s is %s, but %s lists %s for %s: wrong file or a different release",
			p.Algorithm, got, p.ChecksumURL, p.Digest, p.FileName)
	}
	return nil
}

// check rejects wrong arguments before anything slow starts.
func (r buildRequest) check() error {
	if r.sshTimeout != "" {
		if _, err := time.ParseDuration(r.sshTimeout); err != nil {
			return fmt.Errorf("--ssh-timeout %q is not a duration like 90s or 20m", r.sshTimeout)
		}
	}
	return nil
}

func (m *CloudstackTemplates) packerBuild(ctx context.Context, r buildRequest) (*packerResult, error) {
	d := r.def
	log := stageLogger(d.ID)
	res := &packerResult{}
	clock := &stageClock{log: log, ctx: ctx, os: d.ID}
	timed := clock.run
	if err := r.check(); err != nil {
		return nil, err
	}

	// The accelerator probe, the installer and the toolchain do not depend on each other: on a cold
	// engine each is minutes of downloads and compiling, so they run at the same time.
	var iso *dagger.File
	var tc *dagger.Container
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return timed("accelerator", func() error {
			dec, _, err := chooseAccel(gctx, m.Accel)
			if err != nil {
				return err
			}
			res.accel = dec
			if dec.Warning != "" {
				log.Warn(dec.Warning)
				res.warnings = append(res.warnings, dec.Warning)
			}
			return nil
		})
	})
	g.Go(func() error {
		return timed("fetch-iso", func() error {
			if r.iso != nil {
				p, err := m.resolveISO(gctx, d)
				if err != nil {
					return err
				}
				res.iso, iso = p, r.iso
				return verifyGivenISO(gctx, r.iso, p)
			}
			var err error
			res.iso, err = m.fetchIntoCache(gctx, d, defaultStallTimeout)
			return err
		})
	})
	g.Go(func() error {
		return timed("toolchain", func() error {
			tc = m.toolchain()
			pv, err := tc.WithExec([]string{"packer", "version"}).Stdout(gctx)
			if err != nil {
				return fmt.Errorf("toolchain: %s", execMessage(err))
			}
			res.packerV = strings.TrimPrefix(firstLineOf(pv), "Packer v")
			qv, err := tc.WithExec([]string{"qemu-system-x86_64", "--version"}).Stdout(gctx)
			if err != nil {
				return fmt.Errorf("toolchain: %s", execMessage(err))
			}
			res.qemuV = strings.TrimPrefix(firstLineOf(qv), "QEMU emulator version ")
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		res.stages, res.failedStage = clock.recorded(), clock.failedFirst()
		return res, err
	}

	err := timed("packer-build", func() error {
		work, err := packerWorkDir(d)
		if err != nil {
			return err
		}
		// A given installer is mounted as it is; a fetched one is read from the ISO cache by digest.
		isoPath, withISO := "/work/iso/"+res.iso.FileName, tc
		if iso != nil {
			withISO = tc.WithMountedFile(isoPath, iso)
		} else {
			isoPath = res.iso.CachePath(isoCacheMount)
			withISO = tc.WithMountedCache(isoCacheMount, cacheVolume("iso"))
		}
		args := []string{"bash", "-c", packerrun.Script, "packer-run",
			"-var", "accelerator=" + res.accel.Accel,
			"-var", "iso_url=" + isoPath,
			"-var", "iso_checksum=" + res.iso.Algorithm + ":" + res.iso.Digest,
			"-var", "output_dir=/work/output",
			"-var", "serial_log=/work/serial.log",
			"-var", "http_dir=/work/http",
			"-var", "scripts_dir=/work/scripts",
			"-var", fmt.Sprintf("build_info=cloudstack-templates os=%s packer=%s accel=%s", d.ID, res.packerV, res.accel.Accel),
		}
		if r.sshTimeout != "" {
			args = append(args, "-var", "ssh_timeout="+r.sshTimeout)
		}
		ran := withISO.
			WithDirectory("/work", work).
			WithWorkdir("/work").
			WithEnvVariable("CST_CONSOLE_TIMEOUT", fmt.Sprint(int(consoleTimeout(res.accel.Accel).Seconds()))).
			WithExec(args, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true})
		if _, err := ran.Sync(ctx); err != nil {
			return fmt.Errorf("packer build of %s (accelerator %s): %s", d.ID, res.accel.Accel, execMessage(err))
		}
		res.output = ran.Directory("/work/result")
		res.image = res.output.File(d.VMName())
		return nil
	})
	res.stages = clock.recorded()
	if err != nil {
		// The stages so far go with the error: a failed build's record names where it stopped.
		res.failedStage = clock.failedFirst()
		return res, err
	}
	return res, nil
}

// consoleTimeout is how long a guest may stay silent on its serial console after the boot command was
// typed before the build is stopped. An installer whose kernel line says "quiet" (Anaconda) may print
// nothing until its stage 2 runs, which under TCG can take several minutes.
func consoleTimeout(accel string) time.Duration {
	if accel == accelerator.AccelKVM {
		return 5 * time.Minute
	}
	return 15 * time.Minute
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}
