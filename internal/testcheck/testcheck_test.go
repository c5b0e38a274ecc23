package testcheck

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// recorder stands in for a test: it keeps what an assertion reports instead of failing the real
// test, so each case can check which failures the assertion raised.
type recorder struct {
	testing.TB
	helper bool
	calls  []string // "Errorf: <message>" or "Fatalf: <message>"
}

func (r *recorder) Helper() { r.helper = true }

func (r *recorder) Errorf(format string, args ...any) {
	r.calls = append(r.calls, "Errorf: "+fmt.Sprintf(format, args...))
}

// Fatalf ends the goroutine as testing.T's does, so code after a fatal check never runs.
func (r *recorder) Fatalf(format string, args ...any) {
	r.calls = append(r.calls, "Fatalf: "+fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// record runs check against a fresh recorder on its own goroutine (Fatalf may end it) and reports
// whether check ran to its end.
func record(check func(testing.TB)) (r *recorder, finished bool) {
	r = &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
		finished = true
	}()
	<-done
	return r, finished
}

// expect checks what an assertion named fn reported to r: that it marked itself a helper, the
// calls it made, and that it stopped the case exactly when it called Fatalf.
func expect(t *testing.T, fn string, r *recorder, finished bool, wantCalls []string) {
	t.Helper()
	if !r.helper {
		t.Errorf("%s did not call t.Helper, so failures point into testcheck", fn)
	}
	if !slices.Equal(r.calls, wantCalls) {
		t.Errorf("calls = %q, want %q", r.calls, wantCalls)
	}
	fatal := slices.ContainsFunc(wantCalls, func(c string) bool { return strings.HasPrefix(c, "Fatalf: ") })
	if finished == fatal {
		t.Errorf("%s ran to its end = %v, want %v (a Fatalf must stop the case, an Errorf must not)", fn, finished, !fatal)
	}
}

func TestErr(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		want      string
		wantCalls []string
		wantEnded bool
	}{
		{"no error wanted, none", nil, "", nil, false},
		{"no error wanted, one came", errors.New("disk on fire"), "", []string{"Fatalf: unexpected error: disk on fire"}, false},
		{"error wanted, none came", nil, "on fire", []string{`Fatalf: error = <nil>, want one containing "on fire"`}, false},
		{"error wanted, another came", errors.New("disk full"), "on fire", []string{`Fatalf: error = disk full, want one containing "on fire"`}, false},
		{"error wanted and came", errors.New("disk on fire"), "on fire", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ended bool
			r, finished := record(func(tb testing.TB) { ended = Err(tb, tc.err, tc.want) })
			expect(t, "Err", r, finished, tc.wantCalls)
			if ended != tc.wantEnded {
				t.Errorf("ended = %v, want %v", ended, tc.wantEnded)
			}
		})
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		name, got, want, wantErr string
		err                      error
		wantCalls                []string
	}{
		{name: "result as wanted", got: "a", want: "a"},
		{name: "another result", got: "b", want: "a", wantCalls: []string{"Errorf: Parse = b, want a"}},
		{name: "error wanted and came", err: errors.New("disk on fire"), wantErr: "on fire"},
		// A wanted error ends the case: the zero result it comes with is not compared.
		{name: "error wanted, result not read", got: "partial", want: "a", err: errors.New("disk on fire"), wantErr: "on fire"},
		{name: "error unwanted", got: "a", want: "a", err: errors.New("disk on fire"),
			wantCalls: []string{"Fatalf: unexpected error: disk on fire"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, finished := record(func(tb testing.TB) { Result(tb, "Parse", tc.got, tc.err, tc.want, tc.wantErr) })
			expect(t, "Result", r, finished, tc.wantCalls)
		})
	}
}

func TestRefused(t *testing.T) {
	tests := []struct {
		name, want string
		err        error
		wantCalls  []string
	}{
		{"refused as wanted", "on fire", errors.New("disk on fire"), nil},
		{"not refused", "on fire", nil, []string{`Fatalf: error = <nil>, want one containing "on fire"`}},
		{"refused for another reason", "on fire", errors.New("disk full"), []string{`Fatalf: error = disk full, want one containing "on fire"`}},
		{"a case that names no error cannot pass on success", "", nil, []string{"Fatalf: refusal case names no error text; got error <nil>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, finished := record(func(tb testing.TB) { Refused(tb, tc.err, tc.want) })
			expect(t, "Refused", r, finished, tc.wantCalls)
		})
	}
}

func TestContainsAll(t *testing.T) {
	const out = "alpha beta"
	tests := []struct {
		name      string
		wants     []string
		wantCalls []string
	}{
		{"nothing wanted", nil, nil},
		{"all there", []string{"alpha", "beta", "a b"}, nil},
		{"one missing", []string{"alpha", "gamma"}, []string{"Errorf: summary lacks \"gamma\":\nalpha beta"}},
		{"each missing one reported", []string{"gamma", "beta", "delta"},
			[]string{"Errorf: summary lacks \"gamma\":\nalpha beta", "Errorf: summary lacks \"delta\":\nalpha beta"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, finished := record(func(tb testing.TB) { ContainsAll(tb, "summary", out, tc.wants...) })
			expect(t, "ContainsAll", r, finished, tc.wantCalls)
		})
	}
}
