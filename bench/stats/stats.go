// Package stats is the benchmark's arithmetic and log reading, kept apart from the engine so that plain
// `go test` covers it: the median and range of repeated runs, interleaved pairs and their per-pair
// ratios, Packer's phases read from its output (as `dagger --progress=plain` shows it, or as the
// harness stamps it line by line), the module's stage clock, the machine's load, and the tables
// printed for the README. tests/bench_test.go (build tag bench) runs the measurements.
package stats

import (
	"fmt"
	"math"
	"sort"
)

// Summary is the median and range of a figure's values.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// Summarize returns the median (the mean of the two middle values for an even count), minimum,
// maximum and count of v. NaN values are left out; an empty v gives N = 0.
func Summarize(v []float64) Summary {
	s := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return Summary{}
	}
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Summary{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Side is one of the two things a pair compares.
type Side int

const (
	// A is the first side of a comparison (the pipeline, say).
	A Side = iota
	// B is the second side (raw Packer, say).
	B
)

func (s Side) String() string {
	if s == A {
		return "A"
	}
	return "B"
}

// Step is one run of an interleaved series: which pair (from 0) and which side.
type Step struct {
	Pair int
	Side Side
}

// Order is the run order of n interleaved pairs, alternating which side goes first so that a drift
// of the machine over time (a build warming the page cache, load that comes and goes) falls on both
// sides alike: A B, B A, A B, ...
func Order(pairs int) []Step {
	var steps []Step
	for i := 0; i < pairs; i++ {
		if i%2 == 0 {
			steps = append(steps, Step{i, A}, Step{i, B})
		} else {
			steps = append(steps, Step{i, B}, Step{i, A})
		}
	}
	return steps
}

// RunPairs runs n interleaved pairs in Order and returns each side's values by pair.
func RunPairs(pairs int, run func(pair int, side Side) float64) (a, b []float64) {
	a, b = make([]float64, pairs), make([]float64, pairs)
	for _, s := range Order(pairs) {
		v := run(s.Pair, s.Side)
		if s.Side == A {
			a[s.Pair] = v
		} else {
			b[s.Pair] = v
		}
	}
	return a, b
}

// Ratios divides each pair's values: a[i]/b[i]. A pair whose b is zero gives NaN (which Summarize
// leaves out).
func Ratios(a, b []float64) ([]float64, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("%d values on one side, %d on the other: not pairs", len(a), len(b))
	}
	r := make([]float64, len(a))
	for i := range a {
		if b[i] == 0 {
			r[i] = math.NaN()
			continue
		}
		r[i] = a[i] / b[i]
	}
	return r, nil
}

// Goal is an upper bound a figure is held to: its median (or, with OfMax, its maximum) at most AtMost.
type Goal struct {
	AtMost float64 `json:"atMost"`
	// OfMax holds the maximum to the bound instead of the median: every run must meet it (bytes
	// downloaded on a rebuild, say).
	OfMax bool `json:"ofMax,omitempty"`
}

// Figure is one measured quantity: its values (one per run or pair) and their summary.
type Figure struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
	Summary
	Values []float64 `json:"values"`
	Goal   *Goal     `json:"goal,omitempty"`
	// Met says whether the goal was met; absent without a goal or values.
	Met  *bool  `json:"met,omitempty"`
	Note string `json:"note,omitempty"`
}

// NewFigure summarizes values under a name and unit (s, x, %, B, MiB, req).
func NewFigure(name, unit string, values []float64) Figure {
	return Figure{Name: name, Unit: unit, Summary: Summarize(values), Values: append([]float64(nil), values...)}
}

// WithGoal holds the figure to g and records whether it met it.
func (f Figure) WithGoal(g Goal) Figure {
	f.Goal = &g
	f.Met = nil
	if f.N > 0 {
		v := f.Median
		if g.OfMax {
			v = f.Max
		}
		met := v <= g.AtMost
		f.Met = &met
	}
	return f
}

// WithNote sets the figure's note.
func (f Figure) WithNote(format string, args ...any) Figure {
	f.Note = fmt.Sprintf(format, args...)
	return f
}

// Straddles says the range crosses the goal: some runs met it and some did not, so one run of each
// side could have told either story.
func (f Figure) Straddles() bool {
	return f.Goal != nil && f.N > 1 && f.Min <= f.Goal.AtMost && f.Max > f.Goal.AtMost
}
