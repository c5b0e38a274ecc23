package osdefs

import (
	"strings"
	"testing"
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
