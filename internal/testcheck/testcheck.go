// Package testcheck holds the assertions that the table-driven unit tests of this module share,
// so that each test states what a case wants and the wording of a failure is the same everywhere.
package testcheck

import (
	"reflect"
	"strings"
	"testing"
)

// Err checks a call's error against a table case's wanted error text, so a case that wants an
// error and a case that wants none read as one line in the test body.
//
// With want set, the call must fail with an error whose text contains want; the case has nothing
// more to check of the call's result, so Err returns true and the caller returns (or continues).
// With want empty, any error is fatal, because the rest of the case reads the call's result;
// Err returns false.
func Err(t testing.TB, err error, want string) (ended bool) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
	return true
}

// Result checks a call's outcome against a table case: its error as Err does and, when the case
// wants no error, its result against want. Results compare with reflect.DeepEqual, so slices, maps
// and structs need no comparison of their own. call names the call in a failure, e.g. "ParseSize".
func Result[T any](t testing.TB, call string, got T, err error, want T, wantErr string) {
	t.Helper()
	if Err(t, err, wantErr) {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
}

// Refused checks a case of a table whose every case must fail: err must contain want. Unlike Err,
// an empty want is not "no error wanted" but a mistake in the table, so a refusal case can never
// pass on a call that succeeded.
func Refused(t testing.TB, err error, want string) {
	t.Helper()
	if want == "" {
		t.Fatalf("refusal case names no error text; got error %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

// ContainsAll reports each of wants that out lacks, every one in its own error, so a single run
// names all the missing pieces of a rendered text instead of stopping at the first. what names the
// text (for example "summary") and out is printed in full to show what was there instead.
func ContainsAll(t testing.TB, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, out)
		}
	}
}
