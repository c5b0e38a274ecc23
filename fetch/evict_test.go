package fetch

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestEvict(t *testing.T) {
	digest := func(c byte) string { return strings.Repeat(string(c), 64) }
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	plan := func(c byte) Plan {
		return Plan{OS: "fedora-41", FileName: "f.iso", Algorithm: "sha256", Digest: digest(c)}
	}
	// entries: digest letter → last used, hours before now
	cases := []struct {
		name    string
		entries map[byte]float64
		current byte
		policy  Eviction
		want    []byte // removed
	}{
		{"keeps the one in use and the newest other", map[byte]float64{'a': 0, 'b': 5, 'c': 10, 'd': 20}, 'a', DefaultEviction, []byte{'c', 'd'}},
		{"the entry in use stays even when oldest", map[byte]float64{'a': 50, 'b': 5, 'c': 10}, 'a', DefaultEviction, []byte{'c'}},
		{"entries used within the grace stay", map[byte]float64{'a': 0, 'b': 0.1, 'c': 0.5, 'd': 3}, 'a', DefaultEviction, []byte{'d'}},
		{"keep 1 leaves only the one in use", map[byte]float64{'a': 0, 'b': 5, 'c': 10}, 'a', Eviction{Keep: 1, Grace: time.Hour}, []byte{'b', 'c'}},
		{"nothing to evict", map[byte]float64{'a': 0}, 'a', DefaultEviction, nil},
		{"the entry in use not downloaded yet", map[byte]float64{'b': 5, 'c': 10}, 'a', DefaultEviction, []byte{'c'}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for c, h := range tc.entries {
				p := plan(c).CachePath(root)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("iso"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := MarkUsed(p, now.Add(-time.Duration(h*float64(time.Hour)))); err != nil {
					t.Fatal(err)
				}
			}
			// Another OS's entries are never touched.
			other := Plan{OS: "rocky-9", FileName: "r.iso", Algorithm: "sha256", Digest: digest('z')}.CachePath(root)
			os.MkdirAll(filepath.Dir(other), 0o755)
			os.WriteFile(other, []byte("iso"), 0o644)
			MarkUsed(other, now.Add(-100*time.Hour))

			removed, err := tc.policy.Evict(root, plan(tc.current), now)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range tc.want {
				want = append(want, "fedora-41/sha256-"+digest(c))
			}
			sort.Strings(removed)
			if strings.Join(removed, " ") != strings.Join(want, " ") {
				t.Fatalf("removed %v, want %v", removed, want)
			}
			for c := range tc.entries {
				_, err := os.Stat(plan(c).CachePath(root))
				gone := os.IsNotExist(err)
				wantGone := strings.Contains(string(tc.want), string(c))
				if gone != wantGone {
					t.Errorf("entry %c: gone %v, want %v", c, gone, wantGone)
				}
			}
			if _, err := os.Stat(other); err != nil {
				t.Errorf("another OS's entry was evicted: %v", err)
			}
		})
	}
	if _, err := (Eviction{}).Evict(t.TempDir(), plan('a'), now); err == nil {
		t.Error("a policy keeping nothing was accepted")
	}
}
