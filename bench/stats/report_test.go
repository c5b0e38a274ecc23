package stats

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{63.24, "s", "63.2 s"},
		{128.8, "s", "129 s"},
		{1495.4, "s", "1495 s (24 min 55 s)"},
		{1.0512, "x", "1.05×"},
		{0.83, "%", "0.8 %"},
		{0, "B", "0 B"},
		{200998912, "B", "201.0 MB"},
		{192.25, "MiB", "192 MiB"},
		{1, "req", "1 requests"},
	}
	for _, tc := range tests {
		if got := FormatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
	ranges := []struct {
		s    Summary
		unit string
		want string
	}{
		{Summary{N: 0}, "s", "—"},
		{Summary{Median: 5, Min: 5, Max: 5, N: 1}, "s", "—"},
		{Summary{Median: 128, Min: 110.2, Max: 151.04, N: 3}, "s", "110–151 s"},
		{Summary{Median: 1.05, Min: 0.95, Max: 1.19, N: 3}, "x", "0.95–1.19×"},
		{Summary{Median: 0, Min: 0, Max: 2e6, N: 3}, "B", "0 B–2.0 MB"},
	}
	for _, tc := range ranges {
		if got := FormatRange(tc.s, tc.unit); got != tc.want {
			t.Errorf("FormatRange(%+v, %q) = %q, want %q", tc.s, tc.unit, got, tc.want)
		}
	}
	goals := []struct {
		g    *Goal
		unit string
		want string
	}{
		{nil, "x", ""},
		{&Goal{AtMost: 1.15}, "x", "≤ 1.15×"},
		{&Goal{AtMost: 1}, "%", "≤ 1.0 %"},
		{&Goal{AtMost: 0, OfMax: true}, "B", "0 B, every run"},
	}
	for _, tc := range goals {
		if got := FormatGoal(tc.g, tc.unit); got != tc.want {
			t.Errorf("FormatGoal(%+v, %q) = %q, want %q", tc.g, tc.unit, got, tc.want)
		}
	}
}

func sampleReport() Report {
	load := func(one float64) Load { return Load{One: one, Five: 1, Fifteen: 1, Running: 1, Total: 100} }
	pipe := []Run{
		{Figure: "p", Side: "pipeline", Pair: 1, Seconds: 130, LoadBefore: load(2.1), LoadAfter: load(3.9),
			Phases: map[string]float64{"vm-start": 1.0, "boot-to-ssh": 60, "outside-packer": 12},
			Stages: []Stage{{"accelerator", 0.02}, {"fetch-iso", 6.4}, {"packer-build", 118}}},
		{Figure: "p", Side: "pipeline", Pair: 2, Seconds: 120, LoadBefore: load(1.1), LoadAfter: load(2.0),
			Phases: map[string]float64{"vm-start": 1.2, "boot-to-ssh": 50, "outside-packer": 10},
			Stages: []Stage{{"accelerator", 0.03}, {"fetch-iso", 5.4}, {"packer-build", 110}}},
	}
	raw := []Run{
		{Figure: "r", Side: "raw", Pair: 1, Seconds: 110, Phases: map[string]float64{"vm-start": 0.5, "boot-to-ssh": 55, "outside-packer": 0.1}},
		{Figure: "r", Side: "raw", Pair: 2, Seconds: 100, Phases: map[string]float64{"vm-start": 0.7, "boot-to-ssh": 45, "outside-packer": 0.1}},
	}
	return Report{
		Title: "### Benchmark",
		Date:  time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC),
		Machine: Machine{Cores: 2, Kernel: "Linux 6.18.44 x86_64", MemoryBytes: 23 << 30, Accelerator: "tcg",
			AcceleratorEvidence: "kvm device: false, boots a guest: false (0.0s)", LoadStart: load(2.33), LoadEnd: load(1.5)},
		Settings:  []string{"2 pairs"},
		Reproduce: "`scripts/bench.sh`",
		Figures: []Figure{
			NewFigure("pipeline | raw, per pair", "x", []float64{130.0 / 110, 120.0 / 100}).WithGoal(Goal{AtMost: 1.15}),
			NewFigure("cold build", "s", []float64{1495.4}).WithNote("engine cache pruned first"),
			NewFigure("ISO bytes per rebuild", "B", []float64{0, 0, 0}).WithGoal(Goal{AtMost: 0, OfMax: true}),
		},
		Tables: []Table{
			PhaseTable("Phases:", "pipeline", "raw", pipe, raw),
			StageTable("Stages:", pipe),
		},
		Runs: append(pipe, raw...),
	}
}

func TestMarkdown(t *testing.T) {
	md := sampleReport().Markdown()
	testcheck.ContainsAll(t, "Markdown", md,
		"### Benchmark\n\n| figure | median | range | n | goal | met? / note |\n|---|---|---|---|---|---|\n",
		"| pipeline \\| raw, per pair | 1.19× | 1.18–1.20× | 2 | ≤ 1.15× | **missed** |\n",
		"| cold build | 1495 s (24 min 55 s) | — | 1 |  | engine cache pruned first |\n",
		"| ISO bytes per rebuild | 0 B | 0 B–0 B | 3 | 0 B, every run | met |\n",
		"Phases:\n\n| phase | pipeline, median (range) | raw, median (range) | difference of medians | n |\n|---|---|---|---|---|\n",
		"| start → QEMU launched (exec or process start, ISO check, disk) | 1.1 s (1.0–1.2 s) | 0.6 s (0.5–0.7 s) | +0.5 s | 2 · 2 |\n",
		"| boot to SSH (waiting for SSH → connected) | 55.0 s (50.0–60.0 s) | 50.0 s (45.0–55.0 s) | +5.0 s | 2 · 2 |\n",
		"| outside Packer in all (CLI, module, stages, container, result) | 11.0 s (10.0–12.0 s) | 0.1 s (0.1–0.1 s) | +10.9 s | 2 · 2 |\n",
		"| fetch-iso | 5.9 s | 5.4–6.4 s | 2 |\n",
		"Measured 2026-11-30 09:05 UTC on 2 cores (Linux 6.18.44 x86_64, 23 GiB), accelerator tcg by the module's probe "+
			"(kvm device: false, boots a guest: false (0.0s)); 1-min load 2.33 at the start, 1.10–3.90 around the runs, 1.50 at the end. "+
			"Settings: 2 pairs. Reproduce: `scripts/bench.sh`.",
	)
	// Phases no run measured are left out of the table.
	if strings.Contains(md, "provisioning") {
		t.Errorf("a phase without values is shown:\n%s", md)
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Machine struct {
			Cores       int    `json:"cores"`
			Accelerator string `json:"accelerator"`
			LoadStart   Load   `json:"loadStart"`
		} `json:"machine"`
		Figures []struct {
			Name   string    `json:"name"`
			Met    *bool     `json:"met"`
			Median float64   `json:"median"`
			Min    float64   `json:"min"`
			Max    float64   `json:"max"`
			N      int       `json:"n"`
			Values []float64 `json:"values"`
		} `json:"figures"`
		Runs []Run `json:"runs"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Machine.Cores != 2 || back.Machine.Accelerator != "tcg" || back.Machine.LoadStart.One != 2.33 {
		t.Errorf("machine %+v", back.Machine)
	}
	f := back.Figures[0]
	if f.N != 2 || f.Min >= f.Median || f.Max <= f.Median || len(f.Values) != 2 || f.Met == nil || *f.Met {
		t.Errorf("figure %+v", f)
	}
	if len(back.Runs) != 4 || back.Runs[0].LoadAfter.One != 3.9 || back.Runs[0].Phases["boot-to-ssh"] != 60 {
		t.Errorf("runs %+v", back.Runs)
	}
}
