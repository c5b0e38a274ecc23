package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Ready every tool a build uses, and build nothing: Packer with QEMU, the installer downloader, the
// KVM probe, libguestfs and the boot test, qemu-img and Trivy, side by side. On a fresh engine this is
// most of a first build (Packer and Trivy compile from source): run it once an engine is up, or while
// a network is still reachable before going air-gapped, and later builds start at their first real
// stage. Prints each tool and the time it took. Packer and QEMU are at --packer-version and
// --qemu-version, as builds take them.
func (m *CloudstackTemplates) Prepare(ctx context.Context) (string, error) {
	tools := m.laterStageTools(true, true)
	tools["packer toolchain"] = func(ctx context.Context) error {
		_, err := m.toolchain().Sync(ctx)
		return err
	}
	tools["installer downloader"] = func(ctx context.Context) error { _, err := m.fetchTool().Sync(ctx); return err }
	tools["kvm probe"] = func(ctx context.Context) error { _, err := probeImage("").Sync(ctx); return err }

	// Each tool is timed and logged like a build's stages.
	clock := &stageClock{log: stageLogger("all")}
	g, ctx := errgroup.WithContext(ctx)
	for name, ready := range tools {
		g.Go(func() error {
			return clock.run(name, func() error {
				if err := ready(ctx); err != nil {
					return fmt.Errorf("preparing %s: %s", name, execMessage(err))
				}
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	var lines []string
	for _, st := range clock.recorded() {
		lines = append(lines, fmt.Sprintf("%-22s %s", st.name, time.Duration(st.seconds*float64(time.Second)).Round(time.Second)))
	}
	slices.Sort(lines)
	return "ready:\n" + strings.Join(lines, "\n") + "\n", nil
}
