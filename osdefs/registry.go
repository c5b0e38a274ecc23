package osdefs

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

var catalogue = map[string]Definition{}

// register adds a definition to the catalogue; each OS file calls it from init. A bad or duplicate
// definition is a programming error caught by the first test run, hence the panic.
func register(d Definition) {
	if err := d.Validate(); err != nil {
		panic(err)
	}
	for _, n := range d.Names() {
		if _, dup := lookupName(n); dup {
			panic(fmt.Sprintf("os name %q registered twice", n))
		}
	}
	if d.File == "" {
		d.File = callerFile(2)
	}
	catalogue[d.ID] = d
}

// callerFile names the catalogue file skip frames up: messages that ask a maintainer to edit a
// definition name the file that registered it.
func callerFile(skip int) string {
	if _, file, _, ok := runtime.Caller(skip); ok {
		return "osdefs/" + filepath.Base(file)
	}
	return "osdefs/"
}

func lookupName(name string) (Definition, bool) {
	for _, d := range catalogue {
		for _, n := range d.Names() {
			if n == name {
				return d, true
			}
		}
	}
	return Definition{}, false
}

// All returns every definition, sorted by ID.
func All() []Definition {
	out := make([]Definition, 0, len(catalogue))
	for _, d := range catalogue {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IDs returns every canonical OS ID, sorted.
func IDs() []string {
	var ids []string
	for _, d := range All() {
		ids = append(ids, d.ID)
	}
	return ids
}

// Lookup finds a definition by ID or alias (case-insensitive). The error names the valid choices.
func Lookup(name string) (Definition, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if d, ok := lookupName(n); ok {
		return d, nil
	}
	if n == "" {
		return Definition{}, fmt.Errorf("no OS given: choose one of %s", choices())
	}
	return Definition{}, fmt.Errorf("unknown OS %q: choose one of %s", name, choices())
}

func choices() string {
	var parts []string
	for _, d := range All() {
		s := d.ID
		if len(d.Aliases) > 0 {
			s += " (" + strings.Join(d.Aliases, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// Select resolves an OS filter: "all" (or empty) is every vendor OS (fixtures need a local mirror, so
// they are built only when named), otherwise a comma-separated list of IDs or aliases. Duplicates
// collapse; order follows the catalogue. Unknown names are an error that lists the valid choices.
func Select(filter string) ([]Definition, error) {
	f := strings.TrimSpace(filter)
	if f == "" || strings.EqualFold(f, "all") {
		var out []Definition
		for _, d := range All() {
			if !d.Fixture {
				out = append(out, d)
			}
		}
		return out, nil
	}
	want := map[string]bool{}
	for _, part := range strings.Split(f, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := Lookup(part)
		if err != nil {
			return nil, err
		}
		want[d.ID] = true
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("empty OS filter %q: use \"all\" or a comma-separated list of %s", filter, choices())
	}
	var out []Definition
	for _, d := range All() {
		if want[d.ID] {
			out = append(out, d)
		}
	}
	return out, nil
}

// ParseFormats resolves a format list ("qcow2,vhd", "all" or empty for the OS's defaults) against what
// the OS supports (Definition.OutputFormats). Unknown or unsupported formats are errors naming the valid choices.
func ParseFormats(d Definition, list string) ([]Format, error) {
	l := strings.TrimSpace(strings.ToLower(list))
	if l == "" || l == "all" {
		return d.OutputFormats(), nil
	}
	seen := map[Format]bool{}
	for _, part := range strings.Split(l, ",") {
		f := Format(strings.TrimSpace(part))
		if f == "" {
			continue
		}
		known := false
		for _, g := range AllFormats() {
			known = known || g == f
		}
		if !known {
			return nil, fmt.Errorf("unknown format %q: choose from %s (comma-separated), or all", part, formatList(AllFormats()))
		}
		if !d.SupportsFormat(f) {
			return nil, fmt.Errorf("format %q is not supported for %s: choose from %s", part, d.ID, formatList(d.OutputFormats()))
		}
		seen[f] = true
	}
	var out []Format
	for _, f := range AllFormats() {
		if seen[f] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty format list %q: choose from %s", list, formatList(d.OutputFormats()))
	}
	return out, nil
}

func formatList(fs []Format) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

// CIMatrix resolves the OS filter of a CI run (as [Select] does) to the IDs CI builds, one job each, in
// catalogue order. Fixtures install from a local mirror that CI runners cannot reach, so naming one is
// an error, as is a name the catalogue does not know (Select's message, which lists the choices): a
// mistyped filter fails the run instead of building nothing. full is true when the IDs are every OS
// "all" selects, whether the filter said "all" or named each of them: only such a run may release.
func CIMatrix(filter string) (ids []string, full bool, err error) {
	defs, err := Select(filter)
	if err != nil {
		return nil, false, err
	}
	var fixtures []string
	for _, d := range defs {
		if d.Fixture {
			fixtures = append(fixtures, d.ID)
		} else {
			ids = append(ids, d.ID)
		}
	}
	buildable, _ := Select("all") // never fails
	var names []string
	for _, d := range buildable {
		names = append(names, d.ID)
	}
	if len(fixtures) > 0 {
		what := "fixture " + fixtures[0] + " is"
		if len(fixtures) > 1 {
			what = "fixtures " + strings.Join(fixtures, ", ") + " are"
		}
		return nil, false, fmt.Errorf("OS filter %q: %s not built in CI: fixtures install from the local testbed mirror (scripts/testbed.sh serve), which CI runners cannot reach; build them where that mirror runs, with --mirror. CI builds all, or any of %s",
			filter, what, strings.Join(names, ", "))
	}
	if len(ids) == 0 {
		return nil, false, fmt.Errorf("OS filter %q: the catalogue has no OS that CI builds", filter)
	}
	return ids, len(ids) == len(buildable), nil
}

// CIMatrixJSON is [CIMatrix] as the module's matrix function prints it, one line of JSON:
// {"os":["almalinux-9",...],"fullCatalogue":true}.
func CIMatrixJSON(filter string) (string, error) {
	ids, full, err := CIMatrix(filter)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(struct {
		OS            []string `json:"os"`
		FullCatalogue bool     `json:"fullCatalogue"`
	}{ids, full})
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}
