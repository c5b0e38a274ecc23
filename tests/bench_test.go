//go:build bench

package tests

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/guest"
)

// benchResult is one measured figure.
type benchResult struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Note  string  `json:"note,omitempty"`
}

// TestBenchmark measures the pipeline on the testbed and prints a table (and writes JSON to
// $CST_BENCH_JSON): cold vs warm build, ISO traffic on a rebuild, overhead against a raw Packer build,
// parallel vs sequential builds, compressed vs raw sizes. It asserts nothing about speed: it reports.
// Run it with scripts/bench.sh.
func TestBenchmark(t *testing.T) {
	var results []benchResult
	add := func(name string, v float64, unit, note string) {
		results = append(results, benchResult{name, v, unit, note})
		t.Logf("bench: %-44s %10.2f %-6s %s", name, v, unit, note)
	}
	mir := startMirror(t, testbedDir(t))
	db := trivyDB(t)
	out := filepath.Join(t.TempDir(), "cold")
	args := append([]string{"build", "--os", "testbed"}, mir.flags()...)
	args = append(args, "--trivy-db", db, "--fail-on", "NONE", "export", "--path")

	if os.Getenv("CST_BENCH_PRUNE") != "0" {
		// A true cold start: no layer, no toolchain build, no cached ISO on the engine.
		if r := daggerCallRaw(t, 10*time.Minute, "core", "engine", "local-cache", "prune"); r.err != nil {
			t.Fatalf("prune the engine cache: %v\n%s", r.err, tail(r.stderr, 20))
		}
	}
	cold := daggerCall(t, 90*time.Minute, append(args, out)...)
	cold.mustSucceed(t)
	req1, bytes1 := mir.count(testbedImage)
	warm := daggerCall(t, 30*time.Minute, append(args, filepath.Join(t.TempDir(), "warm"))...)
	warm.mustSucceed(t)
	req2, bytes2 := mir.count(testbedImage)
	add("build testbed, cold", cold.elapsed.Seconds(), "s", coldNote())
	add("build testbed, warm (nothing changed)", warm.elapsed.Seconds(), "s", fmt.Sprintf("%.1f%% of cold (goal ≤ 3%%)", 100*warm.elapsed.Seconds()/cold.elapsed.Seconds()))
	add("ISO requests on the first build", float64(req1), "req", fmt.Sprintf("%d bytes", bytes1))
	add("ISO requests on the second build", float64(req2-req1), "req", fmt.Sprintf("%d bytes (goal: zero)", bytes2-bytes1))

	// Pipeline overhead: the packer-build function with its toolchain and ISO cached but the Packer
	// run itself forced (a distinct --ssh-timeout changes its cache key) vs raw `packer build` of the
	// same rendered template on this machine.
	bust := fmt.Sprintf("%dm", 20+time.Now().Unix()%1000)
	pipe := daggerCall(t, 30*time.Minute, append(append([]string{"packer-build", "--os", "testbed", "--accel", "tcg", "--ssh-timeout", bust}, mir.flags()...), "entries")...)
	pipe.mustSucceed(t)
	raw := rawPackerBuild(t)
	add("packer-build via the pipeline (Packer run not cached)", pipe.elapsed.Seconds(), "s", "")
	add("raw packer build, same template, same machine", raw.Seconds(), "s", "")
	add("pipeline overhead", pipe.elapsed.Seconds()/raw.Seconds(), "x", "goal ≤ 1.15x")

	// build-all over the three fixtures, one at a time vs all at once. A distinct --ssh-timeout per run
	// changes every Packer cache key, so each run really builds; validation and the scan are left out
	// to keep the benchmark short (they fan out the same way).
	buildAll := func(parallel int, timeout string) time.Duration {
		args := append([]string{"build-all", "--os-filter", "testbed,testbed-3g,testbed-4g", "--parallel", strconv.Itoa(parallel),
			"--formats", "qcow2", "--skip-validation", "--skip-scan", "--accel", "tcg", "--ssh-timeout", timeout}, mir.flags()...)
		r := daggerCall(t, 60*time.Minute, append(args, "export", "--path", filepath.Join(t.TempDir(), "all"))...)
		r.mustSucceed(t)
		return r.elapsed
	}
	seq := buildAll(1, bust+"1s")
	par := buildAll(3, bust+"2s")
	add("build-all, 3 testbeds, --parallel 1", seq.Seconds(), "s", "qcow2 only, no validation or scan")
	add("build-all, 3 testbeds, --parallel 3", par.Seconds(), "s", fmt.Sprintf("%.2fx faster on %d cores", seq.Seconds()/par.Seconds(), runtime.NumCPU()))

	// Sizes: each artifact against the raw disk's allocated bytes.
	rawImg := filepath.Join(t.TempDir(), "disk.raw")
	name := "testbed-12-x86_64"
	if b, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(out, name+".qcow2"), rawImg).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, b)
	}
	allocated := allocatedBytes(t, rawImg)
	add("raw disk, allocated", float64(allocated)/(1<<20), "MiB", "2 GiB virtual")
	for _, f := range []string{".qcow2", ".vhd", ".ova"} {
		st, err := os.Stat(filepath.Join(out, name+f))
		if err != nil {
			t.Fatal(err)
		}
		add(strings.TrimPrefix(f, ".")+" artifact", float64(st.Size())/(1<<20), "MiB", fmt.Sprintf("%.0f%% of raw allocated", 100*float64(st.Size())/float64(allocated)))
	}

	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "MEASURE\tVALUE\tUNIT\tNOTE")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%.2f\t%s\t%s\n", r.Name, r.Value, r.Unit, r.Note)
	}
	_ = w.Flush()
	fmt.Println(b.String())
	if p := os.Getenv("CST_BENCH_JSON"); p != "" {
		data, _ := json.MarshalIndent(map[string]any{"machine": machine(), "date": time.Now().UTC(), "results": results}, "", "  ")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func coldNote() string {
	if os.Getenv("CST_BENCH_PRUNE") == "0" {
		return "engine cache NOT pruned (CST_BENCH_PRUNE=0)"
	}
	return "engine cache pruned first: includes building Packer and Trivy from source"
}

func machine() string {
	out, _ := exec.Command("sh", "-c", "uname -srm; nproc; free -g | awk '/Mem/ {print $2 \" GiB\"}'").Output()
	return strings.Join(strings.Fields(string(out)), " ")
}

func allocatedBytes(t *testing.T, path string) int64 {
	out, err := exec.Command("du", "-B1", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	fmt.Sscanf(string(out), "%d", &n)
	return n
}

// rawPackerBuild runs the testbed's rendered template with the host's Packer, as a hand-written
// Packer repository would.
func rawPackerBuild(t *testing.T) time.Duration {
	t.Helper()
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	return rawPacker(t, d, filepath.Join(testbedDir(t), testbedImage), filepath.Join(testbedDir(t), "SHA256SUMS"))
}

// rawPacker runs d's rendered template with the host's Packer and QEMU, its install config served
// from a plain directory and its guest scripts beside it, against the installer (or disk image) at
// iso, whose digest sums lists.
func rawPacker(t *testing.T, d osdefs.Definition, iso, sums string) time.Duration {
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
	args := []string{"build", "-color=false", "-var", "accelerator=tcg", "-var", "iso_url=" + iso,
		"-var", "output_dir=" + filepath.Join(dir, "output"), "-var", "serial_log=" + filepath.Join(dir, "serial.log")}
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
	digest, err := osdefs.LookupChecksum(raw, "sha256", filepath.Base(iso))
	must(err)
	args = append(args, "-var", "iso_checksum=sha256:"+digest, osdefs.TemplateFile)
	cmd := exec.Command("packer", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("raw packer build of %s: %v\n%s", d.ID, err, tail(string(out), 40))
	}
	return time.Since(t0)
}

// TestBenchmarkReplicas measures the installer path per boot-loader family: `packer-build` of the
// replica through the pipeline (its Packer run not cached) against a raw `packer build` of the same
// rendered template, in interleaved pairs (pipeline, raw, then raw, pipeline, ...), and prints each
// side's median and range and the ratio of the medians. CST_BENCH_PAIRS sets the pairs (default 3).
func TestBenchmarkReplicas(t *testing.T) {
	pairs := 3
	if v, err := strconv.Atoi(os.Getenv("CST_BENCH_PAIRS")); err == nil && v > 0 {
		pairs = v
	}
	mir := startMirror(t, testbedDir(t))
	dir := replicaDir(t)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("bench: machine %s, load %s", machine(), strings.TrimSpace(string(load)))
	for _, id := range []string{"ubuntu-22.04-fixture", "fedora-41-fixture", "rocky-9-fixture"} {
		d, err := osdefs.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		var pipe, raw []float64
		runPipe := func(i int) {
			// A distinct --ssh-timeout changes the Packer run's cache key, so it really builds.
			bust := fmt.Sprintf("%dm", 61+i+int(time.Now().Unix()%500))
			r := daggerCall(t, 40*time.Minute, "packer-build", "--os", id, "--accel", "tcg", "--ssh-timeout", bust,
				"--mirror", fmt.Sprintf("http://testbed-mirror:%d/replicas", mir.port),
				"--mirror-service", fmt.Sprintf("tcp://localhost:%d", mir.port), "entries")
			r.mustSucceed(t)
			pipe = append(pipe, r.elapsed.Seconds())
		}
		runRaw := func() {
			raw = append(raw, rawPacker(t, d, filepath.Join(dir, d.Source.FileName()), filepath.Join(dir, "SHA256SUMS")).Seconds())
		}
		for i := 0; i < pairs; i++ {
			if i%2 == 0 {
				runPipe(i)
				runRaw()
			} else {
				runRaw()
				runPipe(i)
			}
		}
		mp, lp, hp := medianRange(pipe)
		mr, lr, hr := medianRange(raw)
		t.Logf("bench: %-22s pipeline median %.1fs (%.1f-%.1f)  raw median %.1fs (%.1f-%.1f)  ratio %.2fx (goal <= 1.10x), %d pairs",
			id, mp, lp, hp, mr, lr, hr, mp/mr, pairs)
		fmt.Printf("replica %s: pipeline %.1fs [%.1f-%.1f], raw %.1fs [%.1f-%.1f], ratio %.2fx over %d interleaved pairs\n",
			id, mp, lp, hp, mr, lr, hr, mp/mr, pairs)
	}
}

func medianRange(v []float64) (median, lo, hi float64) {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}
