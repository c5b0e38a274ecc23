package fetch

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Eviction bounds the download cache: every vendor re-spin (and every rebuilt test fixture) is a new
// entry, and an engine that builds for months would otherwise keep every installer it ever fetched.
// Per OS the cache keeps the entry in use, the most recently used others up to Keep in all, and any
// entry used within Grace (another build may be reading it right now).
type Eviction struct {
	// Keep is how many entries of one OS stay, the one in use included.
	Keep int
	// Grace protects entries used this recently, whatever Keep says.
	Grace time.Duration
}

// DefaultEviction keeps the installer in use and the one before it (a rollback needs no download).
var DefaultEviction = Eviction{Keep: 2, Grace: time.Hour}

// MarkUsed records that the cache entry holding path was just used, so eviction keeps it longest.
func MarkUsed(path string, now time.Time) error {
	return os.Chtimes(filepath.Dir(path), now, now)
}

// Evict removes the entries of p's OS below root that the policy does not keep, never p's own. It
// returns the cache keys it removed. An entry is a directory <root>/<os>/<algorithm>-<digest>; its
// modification time is when it was last used (MarkUsed).
func (e Eviction) Evict(root string, p Plan, now time.Time) ([]string, error) {
	if e.Keep < 1 {
		return nil, fmt.Errorf("cache eviction must keep at least the entry in use, not %d", e.Keep)
	}
	dir := filepath.Join(root, p.OS)
	current := filepath.Base(filepath.Dir(p.CachePath(root)))
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	type entry struct {
		name string
		used time.Time
	}
	var others []entry
	for _, de := range entries {
		if !de.IsDir() || de.Name() == current || !strings.Contains(de.Name(), "-") {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed meanwhile by another build's eviction
		}
		others = append(others, entry{de.Name(), info.ModTime()})
	}
	sort.Slice(others, func(i, j int) bool { return others[i].used.After(others[j].used) })
	var removed []string
	for i, o := range others {
		if i < e.Keep-1 || now.Sub(o.used) < e.Grace {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, o.name)); err != nil {
			return removed, fmt.Errorf("evict %s/%s from the download cache: %w", p.OS, o.name, err)
		}
		removed = append(removed, p.OS+"/"+o.name)
	}
	return removed, nil
}
