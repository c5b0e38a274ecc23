package stats

import (
	"math"
	"reflect"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"none", nil, Summary{}},
		{"one", []float64{7}, Summary{7, 7, 7, 1}},
		{"odd count, unsorted", []float64{151, 110, 128}, Summary{128, 110, 151, 3}},
		{"even count: mean of the middle two", []float64{4, 1, 3, 2}, Summary{2.5, 1, 4, 4}},
		{"NaN left out", []float64{2, math.NaN(), 4}, Summary{3, 2, 4, 2}},
		{"only NaN", []float64{math.NaN()}, Summary{}},
		{"ties", []float64{5, 5, 5}, Summary{5, 5, 5, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := Summarize(tc.in); got != tc.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
			for i := range in { // the caller's slice is not reordered
				if in[i] != tc.in[i] && !(math.IsNaN(in[i]) && math.IsNaN(tc.in[i])) {
					t.Errorf("Summarize reordered its input: %v", tc.in)
				}
			}
		})
	}
}

func TestOrder(t *testing.T) {
	tests := []struct {
		pairs int
		want  []Step
	}{
		{0, nil},
		{1, []Step{{0, A}, {0, B}}},
		{3, []Step{{0, A}, {0, B}, {1, B}, {1, A}, {2, A}, {2, B}}},
		{4, []Step{{0, A}, {0, B}, {1, B}, {1, A}, {2, A}, {2, B}, {3, B}, {3, A}}},
	}
	for _, tc := range tests {
		if got := Order(tc.pairs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Order(%d) = %v, want %v", tc.pairs, got, tc.want)
		}
	}
}

func TestRunPairs(t *testing.T) {
	var calls []string
	clock := 0.0
	// Each run takes longer than the one before (a machine that drifts): alternating the order puts
	// the drift on both sides, so the per-pair ratios straddle 1 instead of all leaning one way.
	a, b := RunPairs(4, func(pair int, side Side) float64 {
		calls = append(calls, side.String())
		clock++
		return 100 + clock
	})
	if want := []string{"A", "B", "B", "A", "A", "B", "B", "A"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("run order %v, want %v", calls, want)
	}
	if want := []float64{101, 104, 105, 108}; !reflect.DeepEqual(a, want) {
		t.Errorf("A = %v, want %v", a, want)
	}
	if want := []float64{102, 103, 106, 107}; !reflect.DeepEqual(b, want) {
		t.Errorf("B = %v, want %v", b, want)
	}
	r, err := Ratios(a, b)
	if err != nil {
		t.Fatal(err)
	}
	below, above := 0, 0
	for _, x := range r {
		if x < 1 {
			below++
		} else {
			above++
		}
	}
	if below != 2 || above != 2 {
		t.Errorf("ratios %v: want the drift split evenly between the sides", r)
	}
}

func TestRatios(t *testing.T) {
	r, err := Ratios([]float64{120, 90, 50}, []float64{100, 100, 0})
	if err != nil {
		t.Fatal(err)
	}
	if r[0] != 1.2 || r[1] != 0.9 || !math.IsNaN(r[2]) {
		t.Errorf("Ratios = %v, want [1.2 0.9 NaN]", r)
	}
	if s := Summarize(r); s.N != 2 || math.Abs(s.Median-1.05) > 1e-9 {
		t.Errorf("Summarize(ratios) = %+v, want median 1.05 of 2", s)
	}
	if _, err := Ratios([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("Ratios of unequal sides: want an error")
	}
}

func TestFigureGoal(t *testing.T) {
	tests := []struct {
		name      string
		values    []float64
		goal      Goal
		wantMet   *bool
		straddles bool
	}{
		{"median under", []float64{1.05, 0.95, 1.19}, Goal{AtMost: 1.15}, ptr(true), true},
		{"median over", []float64{1.62, 1.3, 1.4}, Goal{AtMost: 1.15}, ptr(false), false},
		{"all under", []float64{1.0, 1.1}, Goal{AtMost: 1.15}, ptr(true), false},
		{"exactly at the bound", []float64{1.15}, Goal{AtMost: 1.15}, ptr(true), false},
		{"of max: one miss fails", []float64{0, 0, 4096}, Goal{AtMost: 0, OfMax: true}, ptr(false), true},
		{"of max: all zero", []float64{0, 0, 0}, Goal{AtMost: 0, OfMax: true}, ptr(true), false},
		{"no values", nil, Goal{AtMost: 1}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFigure("x", "x", tc.values).WithGoal(tc.goal)
			if (f.Met == nil) != (tc.wantMet == nil) || (f.Met != nil && *f.Met != *tc.wantMet) {
				t.Errorf("Met = %v, want %v", deref(f.Met), deref(tc.wantMet))
			}
			if f.Straddles() != tc.straddles {
				t.Errorf("Straddles = %v, want %v", f.Straddles(), tc.straddles)
			}
		})
	}
}

func ptr(b bool) *bool { return &b }

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
