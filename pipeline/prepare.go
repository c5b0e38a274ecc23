package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Ready every tool a build uses, and build nothing: Packer with QEMU, the installer downloader, the
// KVM probe, libguestfs and the boot test, qemu-img and Trivy, side by side. On a fresh engine this is
// most of a first build (Packer and Trivy compile from source): run it once an engine is up, or while
// a network is still reachable before going air-gapped, and later builds start at their first real
// stage. Prints each tool and the time it took.
func (m *CloudstackTemplates) Prepare(
	ctx context.Context,
	// Packer version, as for build.
	// +default="1.9.4"
	packerVersion string,
	// Debian package version of QEMU to pin, as for build; empty takes the current one.
	// +optional
	qemuVersion string,
) (string, error) {
	tools := laterStageTools(true, true)
	tools["packer toolchain"] = func(ctx context.Context) error {
		_, err := toolchain(packerVersion, qemuVersion).Sync(ctx)
		return err
	}
	tools["installer downloader"] = func(ctx context.Context) error { _, err := m.fetchTool().Sync(ctx); return err }
	tools["kvm probe"] = func(ctx context.Context) error { _, err := probeImage("").Sync(ctx); return err }

	log := stageLogger("all")
	var (
		mu    sync.Mutex
		lines []string
	)
	g, ctx := errgroup.WithContext(ctx)
	for name, ready := range tools {
		g.Go(func() error {
			t0 := time.Now()
			if err := ready(ctx); err != nil {
				return fmt.Errorf("preparing %s: %s", name, execMessage(err))
			}
			elapsed := time.Since(t0).Round(time.Second)
			log.Info("tool ready", "tool", name, "elapsed", elapsed)
			mu.Lock()
			lines = append(lines, fmt.Sprintf("%-22s %s", name, elapsed))
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	slices.Sort(lines)
	return "ready:\n" + strings.Join(lines, "\n") + "\n", nil
}
