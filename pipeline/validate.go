package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/inspect"
	"github.com/cloudstack-templates/cloudstack-templates/zone"
	"golang.org/x/sync/errgroup"
)

// guestfsImage reads guest filesystems offline. It is the KVM probe's image (QEMU and the kernel
// libguestfs boots its appliance with) plus libguestfs: a cold engine installs the kernel and makes
// its initramfs once.
func guestfsImage() *dagger.Container {
	return aptInstall(probeImage(""), "libguestfs-tools").
		// The direct backend needs no libvirt daemon.
		WithEnvVariable("LIBGUESTFS_BACKEND", "direct")
}

// zoneTool is cst-zone, the boot test's CloudStack zone emulator.
func (m *CloudstackTemplates) zoneTool() *dagger.File { return m.repoCommand("cst-zone") }

// bootTestSpec says whether and how the boot test runs.
type bootTestSpec struct {
	run     bool
	timeout time.Duration // per boot
	skip    []string      // zone cases left out
}

type validation struct {
	report string
	checks []inspect.Check
	// proven is what the boot test showed; zero when it did not run.
	proven inspect.Proven
}

// validate runs qemu-img check, the offline inspection and the boot test. All three only read the
// image (the boot test writes to overlays), so they run at the same time.
func (m *CloudstackTemplates) validate(ctx context.Context, image *dagger.File, accel string, bt bootTestSpec) (*validation, error) {
	var imageCheck inspect.Check
	var offline []inspect.Check
	var boot inspect.ZoneResult
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		out, err := diskTools().WithMountedFile("/in/image.qcow2", image).
			WithExec([]string{"qemu-img", "check", "/in/image.qcow2"}).Stdout(gctx)
		imageCheck = inspect.Check{Name: "qemu-img check", Passed: err == nil, Evidence: strings.TrimSpace(out + execMessageOrEmpty(err))}
		return nil
	})
	g.Go(func() error {
		gf := guestfsImage()
		if accel != accelerator.AccelKVM {
			// libguestfs defaults to KVM with -cpu host; where KVM cannot run guests that aborts.
			gf = gf.WithEnvVariable("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
		}
		out, err := gf.WithMountedFile("/in/image.qcow2", image).
			WithMountedCache("/var/tmp", cacheVolume("guestfs-appliance")).
			WithNewFile("/inspect.gf", inspect.GuestfishScript).
			WithExec([]string{"sh", "-c", "guestfish --ro --format=qcow2 -a /in/image.qcow2 -i -f /inspect.gf 2>&1"},
				dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).
			Stdout(gctx)
		if err != nil {
			out = execMessage(err)
		}
		offline = inspect.Offline(out)
		return nil
	})
	if bt.run {
		g.Go(func() error {
			out, err := diskTools().WithMountedFile("/in/image.qcow2", image).
				WithFile("/usr/local/bin/cst-zone", m.zoneTool()).
				WithExec([]string{"cst-zone", "--image", "/in/image.qcow2", "--accel", accel,
					"--timeout", bt.timeout.String(), "--skip", strings.Join(bt.skip, ",")},
					dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).
				Stdout(gctx)
			// A failed check exits non-zero so that the engine does not cache the failure (a loaded
			// host can fail a boot that passes on the next try); the checks are on stdout all the same.
			var ee *dagger.ExecError
			if errors.As(err, &ee) && ee.ExitCode == zone.ChecksFailed {
				out, err = ee.Stdout, nil
			}
			if err != nil {
				return fmt.Errorf("boot test could not run: %s", execMessage(err))
			}
			if err := json.Unmarshal([]byte(out), &boot); err != nil {
				return fmt.Errorf("boot test: unreadable result: %v", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	checks := append(append([]inspect.Check{imageCheck}, offline...), boot.Checks...)
	return &validation{report: inspect.Report("validation", checks), checks: checks, proven: boot.Proven}, nil
}

// zoneSkips checks the zone cases a caller skips, naming the valid ones for a wrong name.
func zoneSkips(skip []string) ([]string, error) {
	cases, err := zone.Select(skip)
	if err != nil {
		return nil, fmt.Errorf("--skip-zone-cases: %w", err)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("--skip-zone-cases skips every zone case (%s): turn the boot test off instead (validate --boot-test=false, build --skip-validation)", strings.Join(zone.CaseNames(), ", "))
	}
	return skip, nil
}

func execMessageOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return execMessage(err)
}

// Validate a built qcow2 image: qemu-img check, an offline look inside for CloudStack readiness
// (cloud-init with the CloudStack datasources, no SSH host keys, empty machine-id, no persistent net
// rules, the provisioner's release mark), and a boot test that starts instances as CloudStack zones
// do: a config drive, and a virtual router (metadata and password server) on KVM's and XenServer's
// SMBIOS identities. Each instance must take its hostname, SSH key, password, user-data and a larger
// root disk, with its own SSH host keys; one is rebooted with a reset password. Returns the report;
// fails naming each failed check with its evidence.
func (m *CloudstackTemplates) Validate(
	ctx context.Context,
	// The qcow2 image (e.g. from packer-build).
	image *dagger.File,
	// Run the boot test (four boots: a few minutes under TCG).
	// +default=true
	bootTest bool,
	// How long each boot of the boot test may take to finish cloud-init (Go duration).
	// +default="10m"
	bootTimeout string,
	// Zone cases the boot test leaves out (config-drive, kvm-vr, xen-vr). A template registered after
	// a skip is only known to work in the zones that were tried.
	// +optional
	skipZoneCases []string,
) (string, error) {
	limit, err := time.ParseDuration(bootTimeout)
	if err != nil || limit <= 0 {
		return "", fmt.Errorf("--boot-timeout %q is not a positive duration like 90s or 10m", bootTimeout)
	}
	skip, err := zoneSkips(skipZoneCases)
	if err != nil {
		return "", err
	}
	dec, _, err := chooseAccel(ctx, m.Accel)
	if err != nil {
		return "", err
	}
	v, err := m.validate(ctx, image, dec.Accel, bootTestSpec{run: bootTest, timeout: limit, skip: skip})
	if err != nil {
		return "", err
	}
	if err := inspect.Error("validation", v.checks); err != nil {
		return "", err
	}
	return v.report, nil
}
