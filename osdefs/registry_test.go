package osdefs

import (
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestSelect(t *testing.T) {
	vendor := "almalinux-9,centos-stream-9,fedora-41,rocky-9,ubuntu-22.04"
	for _, tc := range []struct {
		filter, want, err string
	}{
		{"all", vendor, ""},
		{"ALL", vendor, ""},
		{"", vendor, ""},
		{"  ", vendor, ""},
		{"testbed", "testbed", ""},
		{"fixture, testbed ,debian-testbed", "testbed", ""},
		{"testbed-4g,testbed,testbed-3g", "testbed,testbed-3g,testbed-4g", ""},
		{"fedora,testbed-3g", "fedora-41,testbed-3g", ""},
		{"rocky,alma,rocky-9", "almalinux-9,rocky-9", ""},
		{"fedora,beos", "", `unknown OS "beos": choose one of almalinux-9 (almalinux, alma, alma9, almalinux9), `},
		{",", "", `empty OS filter ",": use "all" or a comma-separated list of almalinux-9`},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			defs, err := Select(tc.filter)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("Select(%q) error = %v, want prefix %q", tc.filter, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range defs {
				ids = append(ids, d.ID)
			}
			if got := strings.Join(ids, ","); got != tc.want {
				t.Errorf("Select(%q) = %s, want %s", tc.filter, got, tc.want)
			}
		})
	}
}

// CIMatrix is what CI builds for an OS filter: the vendor OSes only, in catalogue order, without
// duplicates; fixtures and unknown names are refused rather than building nothing, and full says
// whether the run builds every OS "all" would (the release condition).
func TestCIMatrix(t *testing.T) {
	vendor := "almalinux-9,centos-stream-9,fedora-41,rocky-9,ubuntu-22.04"
	for _, tc := range []struct {
		filter, want string
		full         bool
		err          []string // the error must contain each
	}{
		{"all", vendor, true, nil},
		{"ALL", vendor, true, nil},
		{"", vendor, true, nil},
		{"  ", vendor, true, nil},
		// Every OS named, in any order, by ID or alias: still the full catalogue.
		{"ubuntu-22.04, rocky-9,fedora-41 ,centos-stream-9,almalinux-9", vendor, true, nil},
		{"jammy,rocky,fedora,centos,alma", vendor, true, nil},
		{"rocky-9", "rocky-9", false, nil},
		{"rocky", "rocky-9", false, nil},
		{"Rocky", "rocky-9", false, nil},
		{"ubuntu,rocky", "rocky-9,ubuntu-22.04", false, nil}, // catalogue order
		{"rocky-9,rocky-9", "rocky-9", false, nil},
		{"rocky,alma,rocky-9,almalinux", "almalinux-9,rocky-9", false, nil},
		{"testbed", "", false, []string{`OS filter "testbed": fixture testbed is not built in CI`, "local testbed mirror", "CI runners cannot reach",
			"CI builds all, or any of almalinux-9, centos-stream-9, fedora-41, rocky-9, ubuntu-22.04"}},
		{"fixture", "", false, []string{"fixture testbed is not built in CI"}},
		{"rocky,rocky-9-fixture", "", false, []string{"fixture rocky-9-fixture is not built in CI"}},
		{"testbed-4g,ubuntu,testbed", "", false, []string{"fixtures testbed, testbed-4g are not built in CI"}},
		{"no-such-os", "", false, []string{`unknown OS "no-such-os": choose one of almalinux-9 (almalinux, alma, alma9, almalinux9), `}},
		{"rocky,no-such-os", "", false, []string{`unknown OS "no-such-os"`}},
		{",", "", false, []string{`empty OS filter ",": use "all" or a comma-separated list of`}},
		{" , ,", "", false, []string{`empty OS filter " , ,"`}},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			ids, full, err := CIMatrix(tc.filter)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("CIMatrix(%q) = %v, want an error", tc.filter, ids)
				}
				testcheck.ContainsAll(t, "CIMatrix error", err.Error(), tc.err...)
				if ids != nil || full {
					t.Errorf("CIMatrix(%q) failed but returned %v, full %t", tc.filter, ids, full)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids, ","); got != tc.want || full != tc.full {
				t.Errorf("CIMatrix(%q) = %s, full %t; want %s, full %t", tc.filter, got, full, tc.want, tc.full)
			}
		})
	}

	// "all" is exactly the catalogue's non-fixture entries, in the order `list` prints them.
	var want []string
	for _, e := range Entries() {
		if !e.Fixture {
			want = append(want, e.ID)
		}
	}
	if ids, _, _ := CIMatrix("all"); strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf(`CIMatrix("all") = %v, want the non-fixture entries in catalogue order %v`, ids, want)
	}
}

// The module's matrix function prints CIMatrixJSON: one line, the keys CI reads with jq.
func TestCIMatrixJSON(t *testing.T) {
	for filter, want := range map[string]string{
		"ubuntu,rocky": `{"os":["rocky-9","ubuntu-22.04"],"fullCatalogue":false}` + "\n",
		"all":          `{"os":["almalinux-9","centos-stream-9","fedora-41","rocky-9","ubuntu-22.04"],"fullCatalogue":true}` + "\n",
	} {
		if got, err := CIMatrixJSON(filter); err != nil || got != want {
			t.Errorf("CIMatrixJSON(%q) = %q, %v; want %q", filter, got, err, want)
		}
	}
	if got, err := CIMatrixJSON("testbed"); err == nil || got != "" {
		t.Errorf(`CIMatrixJSON("testbed") = %q, %v; want an error`, got, err)
	}
}
