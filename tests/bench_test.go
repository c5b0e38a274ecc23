//go:build bench

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/bench/stats"
	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/guest"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/packerrun"
)

// The benchmarks report; they assert nothing about speed. Every comparison runs as interleaved pairs
// (A B, B A, A B, ...) and is reported as each side's median and range and the per-pair ratio's, with
// the machine's load read before and after every run: on a machine this noisy (one raw Packer build
// varied 110-151 s) one run of each side tells nothing. Run them with scripts/bench.sh, which sets:
//
//	CST_BENCH_OUT        directory for <name>.json, <name>.md and logs/ (unset: print only)
//	CST_BENCH_PAIRS      interleaved pairs per Packer comparison (default 3)
//	CST_BENCH_WARM       unchanged rebuilds timed after the first build (default 3)
//	CST_BENCH_ALL_PAIRS  build-all --parallel 1 / --parallel 3 pairs (default 1; 0 leaves build-all out)
//	CST_BENCH_PRUNE=0    keep the engine cache: the first build is then not a cold one, and says so

// TestBenchmark measures the pipeline on the testbed: the first (cold) build and unchanged rebuilds,
// the ISO traffic of those rebuilds, `packer-build` against raw Packer phase by phase, build-all one at
// a time against all at once, and the artifacts' sizes.
func TestBenchmark(t *testing.T) {
	b := newBench(t, "results", "### Benchmark (`scripts/bench.sh`)")
	pairs, warmRuns, allPairs := benchPairs(t), envInt(t, "CST_BENCH_WARM", 3), envCount(t, "CST_BENCH_ALL_PAIRS", 1)
	prune := os.Getenv("CST_BENCH_PRUNE") != "0"
	b.report.Settings = []string{
		fmt.Sprintf("%d interleaved pairs for the Packer comparison", pairs),
		fmt.Sprintf("%d unchanged rebuilds", warmRuns),
		fmt.Sprintf("%d build-all pair(s)", allPairs),
	}
	if prune {
		b.report.Settings = append(b.report.Settings, "engine cache pruned before the first build")
	} else {
		b.report.Settings = append(b.report.Settings, "engine cache kept (CST_BENCH_PRUNE=0): no cold build")
	}
	b.report.Reproduce = fmt.Sprintf("`scripts/bench.sh` (`CST_BENCH_PAIRS=%d`, `CST_BENCH_WARM=%d`, `CST_BENCH_ALL_PAIRS=%d`; "+
		"`CST_BENCH_PRUNE=0` keeps the engine cache and skips the cold build)", pairs, warmRuns, allPairs)
	mir := startMirror(t, testbedDir(t))
	db := trivyDB(t)
	buildArgs := func(out string) []string {
		args := append(mir.flags(), "--trivy-db", db, "build", "--os", "testbed")
		return append(args, "--fail-on", "NONE", "export", "--path", out)
	}

	// The first build: cold after a prune (no layer, no toolchain build, no cached ISO on the engine).
	// A cold build is one measurement: each needs a prune and ~25 minutes here.
	firstName, firstNote := "`build --os testbed`, cold", "engine cache pruned first: Packer and Trivy compiled from source"
	if prune {
		if r := daggerCallRaw(t, 10*time.Minute, "core", "engine", "local-cache", "prune"); r.err != nil {
			t.Fatalf("prune the engine cache: %v\n%s", r.err, tail(r.stderr, 20))
		}
	} else {
		firstName, firstNote = "`build --os testbed`, first build, NOT cold", "engine cache kept (CST_BENCH_PRUNE=0): whatever it held was reused"
	}
	first := filepath.Join(t.TempDir(), "first")
	var firstStart time.Time
	cold := b.measure(firstName, "", 0, func(run *stats.Run) {
		r := daggerCall(t, 90*time.Minute, buildArgs(first)...)
		run.Log = b.saveLog("build-first.log", r.stderr)
		r.mustSucceed(t)
		run.Seconds = r.elapsed.Seconds()
		run.Stages, firstStart = metadataStages(t, first)
	})
	req1, bytes1 := mir.count(osdefs.TestbedImage)

	// Unchanged rebuilds: same call, nothing changed. Each one's ISO traffic is counted by the mirror.
	var warm, pct, isoBytes, isoReqs []float64
	whole := 0
	for i := 0; i < warmRuns; i++ {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("warm%d", i+1))
		r0, b0 := mir.count(osdefs.TestbedImage)
		run := b.measure("`build --os testbed` again, nothing changed", "", 0, func(run *stats.Run) {
			r := daggerCall(t, 30*time.Minute, buildArgs(dir)...)
			run.Log = b.saveLog(fmt.Sprintf("build-warm-%d.log", i+1), r.stderr)
			r.mustSucceed(t)
			run.Seconds = r.elapsed.Seconds()
			var started time.Time
			if run.Stages, started = metadataStages(t, dir); !firstStart.IsZero() && started.Equal(firstStart) {
				// The engine answered the whole build call from its cache: the same metadata, stage
				// clock and all, as the first build's.
				whole++
				run.Stages, run.Note = nil, "the whole build call served from the engine's cache"
			}
		})
		r1, b1 := mir.count(osdefs.TestbedImage)
		warm = append(warm, run.Seconds)
		pct = append(pct, 100*run.Seconds/cold.Seconds)
		isoReqs, isoBytes = append(isoReqs, float64(r1-r0)), append(isoBytes, float64(b1-b0))
		_ = os.RemoveAll(dir) // three formats per rebuild: do not fill the disk
	}
	b.add(stats.NewFigure(firstName, "s", []float64{cold.Seconds}).WithNote("%s; one measurement", firstNote))
	b.add(stats.NewFigure("the same build again, nothing changed", "s", warm).
		WithNote("%d of %d served whole from the engine's cache", whole, len(warm)))
	if prune {
		b.add(stats.NewFigure("that rebuild as % of the cold build", "%", pct).WithGoal(stats.Goal{AtMost: 1}))
	} else {
		b.add(stats.NewFigure("that rebuild as % of the first build", "%", pct).WithNote("the first build was not cold: no goal"))
	}
	b.add(stats.NewFigure("ISO bytes fetched on the first build", "B", []float64{float64(bytes1)}).WithNote("%d request(s)", req1))
	b.add(stats.NewFigure("ISO bytes fetched per rebuild", "B", isoBytes).WithGoal(stats.Goal{AtMost: 0, OfMax: true}).
		WithNote("%.0f request(s) in all", sum(isoReqs)))
	b.table(stats.StageTable("Stage clock of the first build (its metadata.json, build.stages; stages overlap):", []stats.Run{cold}))

	// After the cold build: the probe's own image would otherwise warm the engine for it.
	b.accelerator()

	// Pipeline overhead: packer-build with its toolchain and ISO cached but the Packer run forced (a
	// distinct --ssh-timeout changes its cache key) against raw `packer build` of the same rendered
	// template with the host's Packer and QEMU.
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	b.packerPairs("testbed", pairs, 1.10, func(bust string) []string {
		return append(append([]string{"--accel", "tcg"}, mir.flags()...), "packer-build", "--os", "testbed", "--ssh-timeout", bust, "entries")
	}, func() rawResult {
		return rawPacker(t, d, filepath.Join(testbedDir(t), osdefs.TestbedImage), filepath.Join(testbedDir(t), "SHA256SUMS"))
	})

	// build-all over the three fixtures, one at a time against all at once, in interleaved pairs. A
	// distinct --ssh-timeout per run changes every Packer cache key, so each run really builds;
	// validation and the scan are left out to keep it short (they fan out the same way).
	buildAll := func(parallel, pair int) float64 {
		return b.measure(fmt.Sprintf("build-all, 3 testbeds, --parallel %d", parallel), fmt.Sprintf("parallel %d", parallel), pair+1, func(run *stats.Run) {
			args := append(append([]string{"--accel", "tcg"}, mir.flags()...), "build-all", "--os-filter", "testbed,testbed-3g,testbed-4g",
				"--parallel", strconv.Itoa(parallel), "--formats", "qcow2", "--skip-validation", "--skip-scan", "--ssh-timeout", b.bust())
			dir := filepath.Join(t.TempDir(), "all")
			r := daggerCall(t, 60*time.Minute, append(args, "export", "--path", dir)...)
			run.Log = b.saveLog(fmt.Sprintf("build-all-parallel%d-%d.log", parallel, pair+1), r.stderr)
			r.mustSucceed(t)
			run.Seconds = r.elapsed.Seconds()
			_ = os.RemoveAll(dir)
		}).Seconds
	}
	if allPairs > 0 { // CST_BENCH_ALL_PAIRS=0 leaves build-all out
		seq, par := stats.RunPairs(allPairs, func(pair int, side stats.Side) float64 {
			if side == stats.A {
				return buildAll(1, pair)
			}
			return buildAll(3, pair)
		})
		speedup, _ := stats.Ratios(seq, par)
		single := ""
		if allPairs == 1 {
			single = "; a single pair: its spread is unknown"
		}
		b.add(stats.NewFigure("build-all over testbed, testbed-3g, testbed-4g (qcow2, no validation or scan), --parallel 1", "s", seq))
		b.add(stats.NewFigure("the same, --parallel 3", "s", par))
		b.add(stats.NewFigure("--parallel 3 speed-up (parallel 1 ÷ parallel 3, per pair)", "x", speedup).
			WithNote("%d cores%s", runtime.NumCPU(), single))
	}

	// Sizes: each artifact of the first build against the raw disk's allocated bytes.
	rawImg := filepath.Join(t.TempDir(), "disk.raw")
	name := artifactStem(d)
	hostRun(t, "qemu-img", "convert", "-O", "raw", filepath.Join(first, name+".qcow2"), rawImg)
	allocated := allocatedBytes(t, rawImg)
	_ = os.Remove(rawImg)
	b.add(stats.NewFigure("raw disk, allocated", "MiB", []float64{float64(allocated) / (1 << 20)}).WithNote("%s virtual", d.DiskSize))
	// Every format the registry knows, as the build names its file (the VHD ships as .vhd.bz2).
	for _, spec := range osdefs.Formats {
		file := spec.FileName(name)
		st, err := os.Stat(filepath.Join(first, file))
		if err != nil {
			t.Fatal(err)
		}
		b.add(stats.NewFigure(strings.TrimPrefix(spec.Suffix, ".")+" artifact", "MiB", []float64{float64(st.Size()) / (1 << 20)}).
			WithNote("%.0f%% of raw allocated", 100*float64(st.Size())/float64(allocated)))
	}
	b.finish()
}

// TestBenchmarkReplicas measures the installer path per boot-loader family: `packer-build` of the
// replica through the pipeline (its Packer run not cached) against a raw `packer build` of the same
// rendered template, in interleaved pairs, phase by phase.
func TestBenchmarkReplicas(t *testing.T) {
	b := newBench(t, "replicas", "### Installer replicas (`scripts/bench.sh replicas`)")
	pairs := benchPairs(t)
	b.report.Settings = []string{fmt.Sprintf("%d interleaved pairs per replica", pairs)}
	b.report.Reproduce = fmt.Sprintf("`scripts/bench.sh replicas` (`CST_BENCH_PAIRS=%d`)", pairs)
	mir := startMirror(t, testbedDir(t))
	dir := replicaDir(t)
	b.accelerator()
	for _, id := range []string{"ubuntu-22.04-fixture", "fedora-41-fixture", "rocky-9-fixture"} {
		d, err := osdefs.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		b.packerPairs(id, pairs, 1.10, func(bust string) []string {
			return []string{"--accel", "tcg", "--mirror", fmt.Sprintf("http://testbed-mirror:%d/replicas", mir.port),
				"--mirror-service", fmt.Sprintf("tcp://localhost:%d", mir.port),
				"packer-build", "--os", id, "--ssh-timeout", bust, "entries"}
		}, func() rawResult {
			return rawPacker(t, d, filepath.Join(dir, d.Source.FileName()), filepath.Join(dir, "SHA256SUMS"))
		})
	}
	b.finish()
}

// bench collects one benchmark's runs, figures and tables into its report.
type bench struct {
	t      *testing.T
	name   string // file names: <name>.json, <name>.md, logs/<name>/
	out    string // CST_BENCH_OUT; "" writes no files
	report stats.Report
	// bustBase and bustSeq make every forced Packer run's --ssh-timeout unique.
	bustBase int64
	bustSeq  int
}

func newBench(t *testing.T, name, title string) *bench {
	b := &bench{t: t, name: name, out: os.Getenv("CST_BENCH_OUT"), bustBase: time.Now().Unix() / 60}
	b.report = stats.Report{Title: title, Date: time.Now().UTC(), Machine: machine(t)}
	if b.out != "" {
		_ = os.RemoveAll(filepath.Join(b.out, "logs", name))
		if err := os.MkdirAll(filepath.Join(b.out, "logs", name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("bench: %d cores, %s, load %s", b.report.Machine.Cores, b.report.Machine.Kernel, b.report.Machine.LoadStart)
	return b
}

// measure runs f as one run of a figure, with the load average read just before and just after.
func (b *bench) measure(figure, side string, pair int, f func(*stats.Run)) stats.Run {
	b.t.Helper()
	run := stats.Run{Figure: figure, Side: side, Pair: pair, LoadBefore: loadavg(b.t)}
	// Who used the CPUs meanwhile: on two cores a TCG guest loses whatever the rest takes.
	cpu := stats.StartCPU("/proc", time.Second)
	f(&run)
	run.CPU = cpu.Stop()
	run.LoadAfter = loadavg(b.t)
	b.report.Runs = append(b.report.Runs, run)
	where := ""
	if pair > 0 {
		where = fmt.Sprintf(" [pair %d, %s]", pair, side)
	}
	b.t.Logf("bench: %s%s: %.1f s (load %.2f → %.2f)%s", figure, where, run.Seconds, run.LoadBefore.One, run.LoadAfter.One, noteSuffix(run.Note))
	return run
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " — " + n
}

func (b *bench) add(f stats.Figure) {
	b.report.Figures = append(b.report.Figures, f)
	b.t.Logf("bench: %s: median %s, range %s, n %d %s", f.Name, stats.FormatValue(f.Median, f.Unit), stats.FormatRange(f.Summary, f.Unit), f.N, f.Verdict())
}

func (b *bench) table(t stats.Table) { b.report.Tables = append(b.report.Tables, t) }

// saveLog keeps a run's output under the output directory and returns its path there.
func (b *bench) saveLog(file, text string) string {
	if b.out == "" {
		return ""
	}
	rel := filepath.Join("logs", b.name, file)
	if err := os.WriteFile(filepath.Join(b.out, rel), []byte(stats.StripANSI(text)), 0o644); err != nil {
		b.t.Logf("bench: keep %s: %v", rel, err)
		return ""
	}
	return rel
}

// bust is an --ssh-timeout no earlier run used: it changes the Packer run's cache key, so it really
// builds. The minute count of the benchmark's start keeps it apart from other benchmark runs.
func (b *bench) bust() string {
	b.bustSeq++
	return fmt.Sprintf("%dm%ds", 30+b.bustBase%100000+int64(b.bustSeq/60), b.bustSeq%60)
}

// accelerator records what the module's KVM probe decides for builds on this engine.
func (b *bench) accelerator() {
	r := daggerCall(b.t, 25*time.Minute, "accelerator")
	if r.err != nil {
		b.t.Logf("bench: dagger call accelerator failed (recorded as unknown): %v\n%s", r.err, tail(r.stderr, 20))
		b.report.Machine.Accelerator = "unknown"
		return
	}
	a, ev, err := stats.ParseAccelerator(r.stdout)
	if err != nil {
		b.t.Logf("bench: %v", err)
		a = "unknown"
	}
	b.report.Machine.Accelerator, b.report.Machine.AcceleratorEvidence = a, ev
}

// packerPairs runs `packer-build` of one OS through the pipeline (its Packer run forced by a fresh
// --ssh-timeout) against raw Packer of the same rendered template in interleaved pairs, and adds
// each side's figure, the per-pair ratio held to goal, and the phase and stage tables.
func (b *bench) packerPairs(label string, pairs int, goal float64, pipeline func(bust string) []string, raw func() rawResult) {
	t := b.t
	var pipeRuns, rawRuns []stats.Run
	pv, rv := stats.RunPairs(pairs, func(pair int, side stats.Side) float64 {
		if side == stats.A {
			run := b.measure(label+": packer-build via the pipeline", "pipeline", pair+1, func(run *stats.Run) {
				r := daggerCall(t, 40*time.Minute, pipeline(b.bust())...)
				run.Log = b.saveLog(fmt.Sprintf("%s-pipeline-%d.log", label, pair+1), r.stderr)
				r.mustSucceed(t)
				run.Seconds = r.elapsed.Seconds()
				run.Stages = stats.StageTimes(r.stderr)
				lines, err := stats.PackerRun(r.stderr)
				if err == nil {
					run.Phases, err = stats.PackerPhases(lines)
				}
				b.phases(run, err)
			})
			pipeRuns = append(pipeRuns, run)
			return run.Seconds
		}
		run := b.measure(label+": raw packer build", "raw", pair+1, func(run *stats.Run) {
			res := raw()
			run.Log = b.saveLog(fmt.Sprintf("%s-raw-%d.log", label, pair+1), stats.Text(res.lines))
			run.Seconds = res.elapsed.Seconds()
			var err error
			run.Phases, err = stats.PackerPhases(res.lines)
			b.phases(run, err)
		})
		rawRuns = append(rawRuns, run)
		return run.Seconds
	})
	ratios, err := stats.Ratios(pv, rv)
	if err != nil {
		t.Fatal(err)
	}
	few := ""
	if pairs < 3 {
		few = "; fewer than 3 pairs: the spread means little"
	}
	b.add(stats.NewFigure(label+": `packer-build` through the pipeline, Packer run not cached", "s", pv))
	b.add(stats.NewFigure(label+": raw `packer build` of the same template, host Packer and QEMU", "s", rv))
	b.add(stats.NewFigure(label+": pipeline ÷ raw, per pair", "x", ratios).WithGoal(stats.Goal{AtMost: goal}).
		WithNote("%d interleaved pairs%s", pairs, few))
	b.table(stats.PhaseTable(fmt.Sprintf("Phases of %s's Packer run, pipeline against raw, %d pairs (when Packer wrote each line: "+
		"stamped by the engine for the pipeline, by the harness for raw):", label, pairs),
		"pipeline", "raw", pipeRuns, rawRuns))
	b.table(stats.StageTable(fmt.Sprintf("Stage clock of %s's `packer-build` through the pipeline:", label), pipeRuns))
	b.table(stats.CPUTable(fmt.Sprintf("CPU-seconds used on the machine during %s's runs, pipeline against raw, %d pairs (each process "+
		"read every second: a lower bound):", label, pairs), "pipeline", "raw", pipeRuns, rawRuns))
}

// phases completes a run's phases with what it spent outside Packer, or notes why there are none.
func (b *bench) phases(run *stats.Run, err error) {
	if err != nil {
		run.Phases, run.Note = nil, "no phases: "+err.Error()
		return
	}
	run.Phases[stats.PhaseOutside.Key] = run.Seconds - run.Phases[stats.PhasePacker.Key]
	for _, s := range run.Stages {
		if s.Name == "packer-build" {
			run.Phases[stats.PhaseStageExtra.Key] = s.Seconds - run.Phases[stats.PhasePacker.Key]
		}
	}
}

// finish prints the report as the README's Markdown and writes it, with its JSON, to the output directory.
func (b *bench) finish() {
	b.report.Machine.LoadEnd = loadavg(b.t)
	md := b.report.Markdown()
	fmt.Println("\n" + md)
	if b.out == "" {
		return
	}
	data, err := json.MarshalIndent(b.report, "", "  ")
	if err != nil {
		b.t.Fatal(err)
	}
	for file, content := range map[string][]byte{b.name + ".json": append(data, '\n'), b.name + ".md": []byte(md)} {
		if err := os.WriteFile(filepath.Join(b.out, file), content, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.t.Logf("bench: wrote %s and %s in %s", b.name+".json", b.name+".md", b.out)
}

// benchPairs is CST_BENCH_PAIRS, default 3.
func benchPairs(t *testing.T) int { return envInt(t, "CST_BENCH_PAIRS", 3) }

// envCount is envInt that also takes 0, for a part of the benchmark that can be left out.
func envCount(t *testing.T, name string, def int) int {
	if os.Getenv(name) == "0" {
		return 0
	}
	return envInt(t, name, def)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a whole number of at least 1", name, v)
	}
	return n
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func loadavg(t *testing.T) stats.Load {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Logf("bench: %v", err)
		return stats.Load{}
	}
	l, err := stats.ParseLoadavg(string(b))
	if err != nil {
		t.Logf("bench: %v", err)
	}
	return l
}

func machine(t *testing.T) stats.Machine {
	m := stats.Machine{Cores: runtime.NumCPU(), LoadStart: loadavg(t)}
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemoryBytes, _ = stats.ParseMemTotal(string(b))
	}
	return m
}

// metadataStages reads a build's stage clock and start from the metadata.json it exported.
func metadataStages(t *testing.T, dir string) ([]stats.Stage, time.Time) {
	b, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		t.Logf("bench: %v", err)
		return nil, time.Time{}
	}
	var md artifacts.Metadata
	if err := json.Unmarshal(b, &md); err != nil {
		t.Logf("bench: %s: %v", filepath.Join(dir, "metadata.json"), err)
		return nil, time.Time{}
	}
	var stages []stats.Stage
	for _, s := range md.Build.Stages {
		stages = append(stages, stats.Stage{Name: s.Name, Seconds: s.Seconds})
	}
	return stages, md.Build.StartedAt
}

func allocatedBytes(t *testing.T, path string) int64 {
	var n int64
	fmt.Sscanf(hostRun(t, "du", "-B1", path), "%d", &n)
	return n
}

// rawResult is a raw Packer run: how long the process ran and its output lines, each stamped with
// when it was written (counted from the start), as the engine stamps the pipeline's.
type rawResult struct {
	elapsed time.Duration
	lines   []stats.Line
}

// rawPacker runs d's rendered template with the host's Packer and QEMU, as a hand-written Packer
// repository would, with the flags the pipeline's run script gives `packer build`: its install config
// served from a plain directory and its guest scripts beside it, against the installer (or disk
// image) at iso, whose digest sums lists.
func rawPacker(t *testing.T, d osdefs.Definition, iso, sums string) rawResult {
	t.Helper()
	hcl, err := osdefs.RenderPacker(d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, osdefs.TemplateFile), hcl, 0o644))
	must(os.MkdirAll(filepath.Join(dir, "scripts"), 0o755))
	for _, s := range d.Provisioners {
		b, err := guest.Scripts.ReadFile(s)
		must(err)
		must(os.WriteFile(filepath.Join(dir, "scripts", s), b, 0o755))
	}
	flags, err := stats.PackerBuildFlags(packerrun.Script)
	must(err)
	args := append(append([]string{"build"}, flags...), "-var", "accelerator=tcg", "-var", "iso_url="+iso,
		"-var", "output_dir="+filepath.Join(dir, "output"), "-var", "serial_log="+filepath.Join(dir, "serial.log"))
	if d.HTTPDir != "" {
		files, err := osdefs.HTTPFiles(d)
		must(err)
		must(os.MkdirAll(filepath.Join(dir, "http"), 0o755))
		entries, err := fs.ReadDir(files, ".")
		must(err)
		for _, e := range entries {
			b, err := fs.ReadFile(files, e.Name())
			must(err)
			must(os.WriteFile(filepath.Join(dir, "http", e.Name()), b, 0o644))
		}
		args = append(args, "-var", "http_dir="+filepath.Join(dir, "http"))
	}
	raw, err := os.ReadFile(sums)
	must(err)
	digest, err := checksum.Lookup(raw, "sha256", filepath.Base(iso))
	must(err)
	args = append(args, "-var", "iso_checksum=sha256:"+digest, osdefs.TemplateFile)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "packer", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	pr, pw, err := os.Pipe()
	must(err)
	cmd.Stdout, cmd.Stderr = pw, pw
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("raw packer build of %s: %v", d.ID, err)
	}
	_ = pw.Close()
	// Read until every writer is gone (Packer and the QEMU it started), then reap Packer.
	lines, rerr := stats.ReadStamped(pr, func() time.Duration { return time.Since(t0) })
	_ = pr.Close()
	err = cmd.Wait()
	res := rawResult{elapsed: time.Since(t0), lines: lines}
	if err != nil || rerr != nil {
		t.Fatalf("raw packer build of %s: %v %v\n%s", d.ID, err, rerr, tail(stats.Text(lines), 40))
	}
	_ = os.RemoveAll(filepath.Join(dir, "output")) // the image is not needed: keep the disk free
	return res
}
