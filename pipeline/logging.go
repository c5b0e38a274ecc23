package main

import (
	"os"
	"time"

	"github.com/charmbracelet/log"
)

// stageLogger writes progress lines (stage, OS, elapsed) to the function's output, which the
// dagger CLI shows live and CI logs keep.
func stageLogger(osID string) *log.Logger {
	return log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "cloudstack-templates"}).With("os", osID)
}

// stageClock runs named stages, logging start, end and elapsed time, and records each duration for
// the metadata (failed stages included).
type stageClock struct {
	log    *log.Logger
	stages []stageTime
}

func (c *stageClock) run(name string, f func() error) error {
	t0 := time.Now()
	c.log.Info("stage started", "stage", name)
	err := f()
	c.stages = append(c.stages, stageTime{name, time.Since(t0).Seconds()})
	if err != nil {
		c.log.Error("stage failed", "stage", name, "elapsed", time.Since(t0).Round(time.Millisecond))
		return err
	}
	c.log.Info("stage done", "stage", name, "elapsed", time.Since(t0).Round(time.Millisecond))
	return nil
}
