// Command cst-zone is the boot test of cloudstack-templates: it starts instances of a template as
// CloudStack zones would (config drive; virtual router with metadata and password server, on the
// SMBIOS identities of KVM and XenServer hosts) and prints the named checks as JSON on stdout.
// The pipeline runs it inside a container with QEMU and xorriso, as root (the VR listens on port 80).
//
//	cst-zone --image IMG.qcow2 --accel kvm|tcg [--timeout 10m] [--skip case,...]
//
// Progress goes to stderr. A case that cannot be run at all is an error (exit 1). When a check
// fails, the checks are printed all the same and the command exits with ChecksFailed: the engine
// keeps no result of a failed exec, so a boot that failed for a passing reason (a host too loaded
// to finish a poweroff) is run again by the next build instead of being served from the cache.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"github.com/cloudstack-templates/cloudstack-templates/zone"
)

func main() {
	image := flag.String("image", "", "qcow2 template to boot (only read)")
	accel := flag.String("accel", "tcg", "QEMU accelerator: kvm or tcg")
	timeout := flag.Duration("timeout", 10*time.Minute, "per boot, power-on to cloud-init's final message")
	skip := flag.String("skip", "", "comma-separated cases to skip; cases: "+strings.Join(zone.CaseNames(), ", "))
	work := flag.String("work", "", "working directory (default: a new temporary one)")
	flag.Parse()
	logger := log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "cst-zone"})
	passed, err := run(logger, *image, *accel, *timeout, *skip, *work)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !passed {
		os.Exit(zone.ChecksFailed)
	}
}

// run boots the cases, prints their checks and reports whether every check passed.
func run(logger *log.Logger, image, accel string, timeout time.Duration, skip, work string) (bool, error) {
	if image == "" {
		return false, fmt.Errorf("--image is required")
	}
	if accel != "kvm" && accel != "tcg" {
		return false, fmt.Errorf("--accel %q: use kvm or tcg", accel)
	}
	cases, err := zone.Select(strings.Split(skip, ","))
	if err != nil {
		return false, err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "cst-zone-"); err != nil {
			return false, err
		}
		defer os.RemoveAll(work)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	r := &zone.Runner{Image: image, Accel: accel, Timeout: timeout, WorkDir: work,
		Logf: func(format string, args ...any) {
			logger.Info(fmt.Sprintf(format, args...), "elapsed", time.Since(start).Round(time.Second))
		}}
	res, err := r.Run(ctx, cases)
	if err != nil {
		return false, err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return false, err
	}
	for _, c := range res.Checks {
		if !c.Passed {
			return false, nil
		}
	}
	return true, nil
}
