package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/charmbracelet/log"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/monitor"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// Every build, failed or not, leaves a record (monitor.Record) in this cache volume of the engine, so
// the records function can hand out a history that includes the failures a failed call cannot export.
const recordsVolume = "records"

// monitorStages turns the stage clock's durations into the record's stages.
func monitorStages(stages []stageTime) []monitor.Stage {
	var out []monitor.Stage
	for _, s := range stages {
		outcome := monitor.OutcomeSuccess
		if s.failed {
			outcome = monitor.OutcomeFailure
		}
		out = append(out, monitor.Stage{Name: s.name, Seconds: s.seconds, Outcome: outcome})
	}
	return out
}

// keepRecord stores a build's record in the records volume (see afterBuild). A failure only warns:
// the build's own outcome stands.
func keepRecord(ctx context.Context, log *log.Logger, r monitor.Record) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		log.Warn("build record not kept", "error", err)
		return
	}
	name := fmt.Sprintf("%s/%s-%s.record.json", r.OS, r.StartedAt.UTC().Format("20060102T150405.000Z"), r.Outcome)
	_, err = dag.Container().From(debianImage).
		WithMountedCache("/records", cacheVolume(recordsVolume)).
		WithNewFile("/tmp/record.json", string(b)).
		WithExec([]string{"sh", "-c", `mkdir -p "/records/${1%/*}" && cp /tmp/record.json "/records/$1.partial" && mv "/records/$1.partial" "/records/$1"`, "keep", name}).
		Sync(ctx)
	if err != nil {
		log.Warn("build record not kept", "error", execMessage(err))
	}
}

// The build records this engine has kept: one JSON file per build under <os>/, failures included (a
// failed build exports nothing, but its record names the stage and the error). Feed them, with
// exported metadata.json files or CI artifacts, to report. Never cached: each call reads the records as
// they are now.
// +cache="never"
func (m *CloudstackTemplates) Records(
	// Only this OS (an ID or alias); empty for all.
	// +optional
	os string,
) (*dagger.Directory, error) {
	sub := "."
	if os != "" {
		d, err := osdefs.Lookup(os)
		if err != nil {
			return nil, err
		}
		sub = d.ID
	}
	return dag.Container().From(debianImage).
		WithMountedCache("/records", cacheVolume(recordsVolume)).
		// Read anew on every call: the volume changes under the same arguments.
		WithEnvVariable("CST_READ_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec([]string{"sh", "-c", `mkdir -p /out && if [ -d "/records/$1" ]; then cp -r "/records/$1/." /out/; fi`, "copy", sub}).
		Directory("/out"), nil
}

// Summarize build records: success rate per OS, median and 90th-percentile duration per build and
// per stage, the stage whose duration grows fastest, artifact size and scan-finding trends. Reads
// every metadata.json and *.record.json below the directory (exported builds, CI artifacts, the
// records function's output). Returns report.txt (a table), report.json, stage-durations.svg (stage
// durations over time per OS), metrics.prom (the latest state per OS, Prometheus text) and junit.xml.
func (m *CloudstackTemplates) Report(
	ctx context.Context,
	// Directory of build records and metadata.json files, searched recursively.
	records *dagger.Directory,
	// Only builds started within this long before now (Go duration, e.g. 720h); empty for all.
	// +optional
	since string,
) (*dagger.Directory, error) {
	var from time.Time
	if since != "" {
		d, err := time.ParseDuration(since)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--since %q is not a positive duration like 720h", since)
		}
		from = time.Now().Add(-d)
	}
	tmp, err := os.MkdirTemp("", "records-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	paths, err := records.Glob(ctx, "**/*.json")
	if err != nil {
		return nil, fmt.Errorf("--records: %w", err)
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, "metadata.json") && !strings.HasSuffix(p, ".record.json") && !strings.HasSuffix(p, "/record.json") && p != "record.json" {
			continue
		}
		body, err := records.File(p).Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("--records %s: %w", p, err)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	recs, problems := monitor.ReadRecords(tmp)
	if len(recs) == 0 {
		msg := "no build records (metadata.json or *.record.json) under --records"
		if len(problems) > 0 {
			msg += fmt.Sprintf("; %d file(s) could not be read, the first: %v", len(problems), problems[0])
		}
		return nil, fmt.Errorf("%s", msg)
	}
	var window []monitor.Record
	oses := map[string]bool{}
	for _, r := range recs {
		if err := monitor.Validate(r); err != nil {
			problems = append(problems, fmt.Errorf("%s record of %s: %w", r.OS, r.StartedAt.Format(time.RFC3339), err))
			continue
		}
		if from.IsZero() || !r.StartedAt.Before(from) {
			window = append(window, r)
			oses[r.OS] = true
		}
	}
	sum := monitor.Summarize(window, from, time.Time{})
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return nil, err
	}
	junit, err := monitor.JUnitXML(window)
	if err != nil {
		return nil, err
	}
	table := sum.Table()
	for _, p := range problems {
		table += fmt.Sprintf("skipped: %v\n", p)
	}
	return dag.Directory().
		WithNewFile("report.txt", table).
		WithNewFile("report.json", string(js)+"\n").
		WithNewFile("stage-durations.svg", string(monitor.SVG(window, 960, 60+220*len(oses)))).
		WithNewFile("metrics.prom", monitor.PrometheusText(window)).
		WithNewFile("junit.xml", string(junit)), nil
}

// checkMetricsPush refuses a Pushgateway URL the engine would record with credentials, or a service
// without a URL to answer for.
func checkMetricsPush(push string, svc *dagger.Service) error {
	if push == "" {
		if svc != nil {
			return fmt.Errorf("--metrics-push-service needs --metrics-push: the service answers for the Pushgateway URL's host name")
		}
		return nil
	}
	if _, problem := fetch.ParseLocation(push); problem != fetch.PlainLocation {
		return fmt.Errorf("--metrics-push %q is not an http(s) Pushgateway URL without credentials or query, like http://pushgateway:9091", redact.URL(push))
	}
	return nil
}

// pushMetrics sends one build's metrics to the Pushgateway, replacing the OS's group (PUT), as its
// API takes them: /metrics/job/<job>/os/<os> (see afterBuild). A failed push only warns.
func (m *CloudstackTemplates) pushMetrics(ctx context.Context, log *log.Logger, r monitor.Record) {
	if m.MetricsPush == "" {
		return
	}
	target := strings.TrimRight(m.MetricsPush, "/") + "/metrics/job/cloudstack_templates/os/" + url.PathEscape(r.OS)
	c := bindServiceFor(aptInstall(dag.Container().From(debianImage), "curl", "ca-certificates"), m.MetricsPush, m.MetricsPushService).
		WithNewFile("/tmp/metrics.prom", monitor.PrometheusText([]monitor.Record{r})).
		WithEnvVariable("CST_PUSHED_AT", time.Now().UTC().Format(time.RFC3339Nano))
	_, err := c.WithExec([]string{"curl", "-fsS", "--retry", "3", "-X", "PUT", "--data-binary", "@/tmp/metrics.prom", target}).Sync(ctx)
	if err != nil {
		log.Warn("metrics not pushed", "pushgateway", redact.URL(m.MetricsPush), "error", execMessage(err))
		return
	}
	log.Info("metrics pushed", "pushgateway", redact.URL(m.MetricsPush))
}
