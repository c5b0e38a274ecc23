package main

import (
	"os"

	"github.com/charmbracelet/log"
)

// stageLogger writes progress lines (stage, OS, elapsed) to the function's output, which the
// dagger CLI shows live and CI logs keep.
func stageLogger(osID string) *log.Logger {
	return log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "cloudstack-templates"}).With("os", osID)
}
