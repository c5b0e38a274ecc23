package stats

import (
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/scripts/packerrun"
)

func TestParseDaggerDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "0.6s", want: 600 * time.Millisecond},
		{in: "29.4s", want: 29400 * time.Millisecond},
		{in: "1m38s", want: 98 * time.Second},
		{in: "2m6s", want: 126 * time.Second},
		{in: "1h2m3s", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "1d2h", want: 26 * time.Hour},
		{in: "12ms", want: 12 * time.Millisecond},
		{in: "", wantErr: `not a duration: ""`},
		{in: "s", wantErr: `not a duration: "s"`},
		{in: "1m38", wantErr: `not a duration: "1m38"`},
		{in: "x1s", wantErr: `not a duration: "x1s"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDaggerDuration(tc.in)
			testcheck.Result(t, "ParseDaggerDuration", got, err, tc.want, tc.wantErr)
		})
	}
}

func TestPlainLogs(t *testing.T) {
	out := strings.Join([]string{
		"\x1b[95m66  : \x1b[0m\x1b[90;2m┆ \x1b[0m\x1b[90m[4.0s] \x1b[0m\x1b[90m|\x1b[0m ==> qemu.template: Waiting for SSH to become available...",
		"66  : ┆ [1m38s] | ==> qemu.template: Connected to SSH!",
		"66  : ┆ [1m38s] |",
		"12  : [2m54s] | 2026/11/28 20:03:37 INFO cloudstack-templates: stage done os=testbed stage=packer-build elapsed=59.345s",
		"66  : ┆ Container.withExec DONE [59.3s]",
		"12  : CloudstackTemplates.build(",
		"not a dagger line [1.0s] | text",
	}, "\n")
	got := PlainLogs(out)
	want := map[string][]Line{
		"66": {
			{4 * time.Second, "==> qemu.template: Waiting for SSH to become available..."},
			{98 * time.Second, "==> qemu.template: Connected to SSH!"},
			{98 * time.Second, ""},
		},
		"12": {{174 * time.Second, "2026/11/28 20:03:37 INFO cloudstack-templates: stage done os=testbed stage=packer-build elapsed=59.345s"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PlainLogs =\n%v\nwant\n%v", got, want)
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The phases of real `dagger --progress=plain` outputs of this module: the testbed's build (a disk
// image, 0.1 s stamps throughout) and a replica's packer-build (an installer, minute-and-second
// stamps after the first minute).
func TestPackerPhasesFromDagger(t *testing.T) {
	tests := []struct {
		file string
		want map[string]float64
	}{
		{"build-testbed.plain.log", map[string]float64{
			"vm-start": 1.0, "boot-command": 3.0, "boot-to-ssh": 25.4, "provisioning": 26.5,
			"shutdown": 1.3, "export": 0.9, "packer": 58.1}},
		{"packer-build-rocky.plain.log", map[string]float64{
			"vm-start": 0.9, "boot-command": 33.7, "boot-to-ssh": 63.4, "provisioning": 26,
			"shutdown": 1, "export": 1, "packer": 126}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			lines, err := PackerRun(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := PackerPhases(lines)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, got, tc.want)
			sum := 0.0
			for _, p := range Phases[:6] {
				sum += got[p.Key]
			}
			if math.Abs(sum-got["packer"]) > 1e-6 {
				t.Errorf("the phases add up to %.3f s, Packer ran %.3f s", sum, got["packer"])
			}
		})
	}
}

func approxEqual(t *testing.T, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-6 {
			t.Errorf("%s = %.3f s, want %.3f s (all: %v)", k, g, w, got)
		}
	}
}

// stamped reads a test log written as one "<seconds> <text>" line each, the way the engine stamps
// Packer's output; the source's indentation and blank lines are not part of it.
func stamped(t *testing.T, log string) []Line {
	t.Helper()
	var lines []Line
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimLeft(l, "\t")
		if l == "" {
			continue
		}
		at, text, _ := strings.Cut(l, " ")
		secs, err := strconv.ParseFloat(at, 64)
		if err != nil {
			t.Fatalf("test log line %q: no seconds first: %v", l, err)
		}
		lines = append(lines, Line{At: time.Duration(secs * float64(time.Second)), Text: text})
	}
	return lines
}

func TestPackerPhases(t *testing.T) {
	full := stamped(t, `
		0.5 ==> qemu.template: Retrieving ISO
		1.0 ==> qemu.template: Starting VM, booting from CD-ROM
		12.0 ==> qemu.template: Waiting for SSH to become available...
		90.0 ==> qemu.template: Connected to SSH!
		110.0 ==> qemu.template: Gracefully halting virtual machine...
		111.0 ==> qemu.template: Failed to connect to bus: No such file or directory
		113.0 ==> qemu.template: Converting hard drive...
		118.0 Build 'qemu.template' finished after 1 minute 58 seconds.
		118.5 --> qemu.template: VM files in directory: /work/output`)
	tests := []struct {
		name    string
		lines   []Line
		want    map[string]float64
		wantErr string
	}{
		{name: "installer with disk conversion", lines: full, want: map[string]float64{
			"vm-start": 1, "boot-command": 11, "boot-to-ssh": 78, "provisioning": 20, "shutdown": 3, "export": 5.5, "packer": 118.5}},
		{name: "no conversion: the halt ends at the build's end", lines: stamped(t, `
			1.0 ==> qemu.template: Starting VM, booting disk image
			2.0 ==> qemu.template: Waiting for SSH to become available...
			30.0 ==> qemu.template: Connected to SSH!
			50.0 ==> qemu.template: Halting the virtual machine...
			52.0 Build 'qemu.template' finished after 52 seconds.
			52.0 ==> Builds finished. The artifacts of successful builds are:`), want: map[string]float64{
			"vm-start": 1, "boot-command": 1, "boot-to-ssh": 28, "provisioning": 20, "shutdown": 2, "export": 0, "packer": 52}},
		{name: "a marker before its turn does not count", lines: stamped(t, `
			0.1     qemu.template: echo Connected to SSH! (a provisioner's line would come later)
			1.0 ==> qemu.template: Starting VM
			2.0 ==> qemu.template: Waiting for SSH to become available...
			3.0 ==> qemu.template: Connected to SSH!
			4.0 ==> qemu.template: Gracefully halting virtual machine...
			5.0 ==> qemu.template: Converting hard drive...
			6.0 done`), want: map[string]float64{
			"vm-start": 1, "boot-command": 1, "boot-to-ssh": 1, "provisioning": 1, "shutdown": 1, "export": 1, "packer": 6}},
		{name: "coarser stamps going back count as zero", lines: stamped(t, `
			59.9 ==> qemu.template: Starting VM
			59.9 ==> qemu.template: Waiting for SSH to become available...
			59.0 ==> qemu.template: Connected to SSH!
			70.0 ==> qemu.template: Gracefully halting virtual machine...
			71.0 ==> qemu.template: Converting hard drive...
			72.0 Build 'qemu.template' finished after 1 minute 12 seconds.`), want: map[string]float64{
			"vm-start": 59.9, "boot-command": 0, "boot-to-ssh": 0, "provisioning": 11, "shutdown": 1, "export": 1, "packer": 72}},
		{name: "SSH never answered", lines: full[:3], wantErr: `"Connected to SSH!"`},
		{name: "no output", lines: nil, wantErr: `"Starting VM"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PackerPhases(tc.lines)
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			approxEqual(t, got, tc.want)
		})
	}
}

func TestPackerRun(t *testing.T) {
	one := "60  : ┆ [34.6s] | ==> qemu.template: Waiting for SSH to become available...\n"
	two := one + "61  : ┆ [30.1s] | ==> qemu.template: Waiting for SSH to become available...\n"
	if _, err := PackerRun("12  : [0.6s] | stage done os=x stage=packer-build elapsed=1s\n"); err == nil || !strings.Contains(err.Error(), "no Packer output") {
		t.Errorf("no Packer span: error %v", err)
	}
	if lines, err := PackerRun(one); err != nil || len(lines) != 1 {
		t.Errorf("one Packer span: %v, %v", lines, err)
	}
	if _, err := PackerRun(two); err == nil || !strings.Contains(err.Error(), "2 Packer runs") {
		t.Errorf("two Packer spans: error %v", err)
	}
}

func TestStageTimes(t *testing.T) {
	got := StageTimes(readTestdata(t, "packer-build-rocky.plain.log"))
	want := []Stage{{"accelerator", 0.019}, {"toolchain", 0.038}, {"fetch-iso", 6.429}, {"packer-build", 126.471}}
	if len(got) != len(want) {
		t.Fatalf("StageTimes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || math.Abs(got[i].Seconds-want[i].Seconds) > 1e-9 {
			t.Errorf("stage %d = %v, want %v", i, got[i], want[i])
		}
	}
	if s := StageTimes("stage failed os=x stage=packer-build elapsed=3s\n"); len(s) != 0 {
		t.Errorf("a failed stage counted: %v", s)
	}
}

func TestReadStamped(t *testing.T) {
	tick := time.Duration(0)
	lines, err := ReadStamped(strings.NewReader("a\nb\n\nlast without newline"), func() time.Duration {
		tick += time.Second
		return tick
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{{time.Second, "a"}, {2 * time.Second, "b"}, {3 * time.Second, ""}, {4 * time.Second, "last without newline"}}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("ReadStamped = %v, want %v", lines, want)
	}
	if Text(lines) != "a\nb\n\nlast without newline\n" {
		t.Errorf("Text = %q", Text(lines))
	}
}

func TestPackerBuildFlags(t *testing.T) {
	tests := []struct {
		script  string
		want    []string
		wantErr string
	}{
		{script: `( packer build -color=false "$@" template.pkr.hcl 2>&1 | tee "$W/result/packer.log" ) &`, want: []string{"-color=false"}},
		{script: `packer build -color=false -timestamp-ui "$@" template.pkr.hcl`, want: []string{"-color=false", "-timestamp-ui"}},
		{script: `packer build "$@" template.pkr.hcl`, want: []string{}},
		{script: `packer validate template.pkr.hcl`, wantErr: `no "packer build`},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			got, err := PackerBuildFlags(tc.script)
			testcheck.Result(t, "PackerBuildFlags", got, err, tc.want, tc.wantErr)
		})
	}
}

// The pipeline's own run script: the benchmark gives raw Packer the same flags.
func TestPackerBuildFlagsOfTheRunScript(t *testing.T) {
	flags, err := PackerBuildFlags(packerrun.Script)
	if err != nil {
		t.Fatalf("scripts/packerrun/run.sh: %v", err)
	}
	for _, f := range flags {
		if !strings.HasPrefix(f, "-") {
			t.Errorf("flag %q", f)
		}
	}
}
