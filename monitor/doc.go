// Package monitor turns build outcomes into what monitoring and CI systems read: a small Record per
// build (from a metadata.json on success, or from the failing stage and error on failure), Prometheus
// text exposition for a node-exporter textfile collector or a Pushgateway, JUnit XML for CI test
// reports, and a trend report (table, JSON, SVG chart) over many builds.
//
// Everything here is pure Go with no I/O besides ReadRecords, so the pipeline, a CI step or a cron
// job can use it without a container engine. docs/monitoring.md is the reference for the formats.
package monitor
