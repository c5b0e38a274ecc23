package main

import (
	"context"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// stageLogger writes progress lines (stage, OS, elapsed) to the function's output, which the
// dagger CLI shows live and CI logs keep.
func stageLogger(osID string) *log.Logger {
	return log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "cloudstack-templates"}).With("os", osID)
}

// stageOrder is the pipeline's order of stages. Several run at the same time; the metadata lists
// them in this order whatever order they finish in.
var stageOrder = []string{"accelerator", "fetch-iso", "toolchain", "packer-build", "validate", "scan", "convert", "checksums"}

// stageClock runs named stages, logging start, end and elapsed time, and records each duration for
// the metadata (failed stages included). Stages may run concurrently.
type stageClock struct {
	log    *log.Logger
	mu     sync.Mutex
	stages []stageTime
	// ctx and os make each stage an OpenTelemetry span ("stage <name>", attributes cst.os, cst.stage,
	// cst.outcome), which the engine sends wherever the caller's OTEL_EXPORTER_OTLP_* settings say.
	ctx context.Context
	os  string
	// firstFailed is the stage that failed first: when one stage fails, the errgroup cancels the
	// others, which then fail too, but the build failed where the first one did.
	firstFailed string
}

func (c *stageClock) run(name string, f func() error) error {
	t0 := time.Now()
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	_, span := Tracer().Start(ctx, "stage "+name, trace.WithAttributes(
		attribute.String("cst.os", c.os), attribute.String("cst.stage", name)))
	c.log.Info("stage started", "stage", name)
	err := f()
	c.record(stageTime{name: name, seconds: time.Since(t0).Seconds(), failed: err != nil})
	if err != nil {
		c.mu.Lock()
		if c.firstFailed == "" {
			c.firstFailed = name
		}
		c.mu.Unlock()
		// The span carries the outcome, never the error text: errors can quote URLs and logs.
		span.SetAttributes(attribute.String("cst.outcome", "failure"))
		span.SetStatus(codes.Error, "stage "+name+" failed")
		span.End()
		c.log.Error("stage failed", "stage", name, "elapsed", time.Since(t0).Round(time.Millisecond))
		return err
	}
	span.SetAttributes(attribute.String("cst.outcome", "success"))
	span.End()
	c.log.Info("stage done", "stage", name, "elapsed", time.Since(t0).Round(time.Millisecond))
	return nil
}

func (c *stageClock) record(s stageTime) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stages = append(c.stages, s)
	slices.SortStableFunc(c.stages, func(a, b stageTime) int {
		return slices.Index(stageOrder, a.name) - slices.Index(stageOrder, b.name)
	})
}

// failedFirst names the stage that failed first, "" when none has.
func (c *stageClock) failedFirst() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstFailed
}

// recorded is a copy of the durations recorded so far, in pipeline order.
func (c *stageClock) recorded() []stageTime {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.stages)
}
