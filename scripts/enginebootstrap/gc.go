package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"

	"dagger.io/dagger"
)

// The engine's garbage collector sizes its default policy from statfs's free blocks and the
// filesystem's total (BuildKit's cache manager compares MinFreeSpace with Bfree). Blocks reserved for
// another user count as free there but no root process can write them: on a host mounted with
// resv_strict,resuid=… (as CI's is, ~160 GB of a 252 GB disk), or simply with ext4's 5 % reserve, the
// engine believes it has room it does not have, never prunes, and fills the disk. A guest whose disk
// image cannot grow is then paused by QEMU and a build waits out its SSH timeout. The cap below is in
// bytes of the engine's own accounting, measured against the space root can actually write.

const gb = int64(1e9)

// capSlack is how far the running cap may sit from the wanted one before the engine is restarted to
// change it: a restart is cheap, but every `engine.sh up` must not cause one.
const capSlack = 5 * gb

// minCap keeps the cap from reaching zero on a nearly full disk: below it the engine would prune what
// the next build needs at once, and the headroom cannot be had anyway.
const minCap = 2 * gb

// decideCap returns the cache cap (maxUsedSpace) that leaves headroom bytes free on the engine's
// filesystem, given what the engine's cache holds now (its own accounting), the bytes root can still
// write there, and the cap the running engine uses; restart says whether the running cap is far
// enough off to restart the engine with the new one. A running cap much above the wanted one would
// let the disk fill; one much below it would prune useful cache for nothing.
func decideCap(accounted, avail, running, headroom int64) (cap int64, restart bool) {
	cap = accounted + avail - headroom
	cap -= cap % gb // whole gigabytes: the config file does not change with every byte written
	if cap < minCap {
		cap = minCap
	}
	switch {
	case running > cap+capSlack: // the engine's default (75 % of the total) lands here
		return cap, true
	case running < cap-4*capSlack:
		return cap, true
	}
	return running, false
}

// gcCap prints the cap, the decision and the two measurements for scripts/engine.sh:
//
//	<cap bytes> <keep|restart> <avail bytes> <cache bytes>
func gcCap(args []string) error {
	fs := flag.NewFlagSet("gc-cap", flag.ExitOnError)
	state := fs.String("state", "/var/lib/dagger", "the engine's state directory")
	headroom := fs.Int64("headroom", 25*gb, "bytes to keep free on the state directory's filesystem")
	_ = fs.Parse(args)
	var st syscall.Statfs_t
	if err := syscall.Statfs(*state, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", *state, err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	return withEngine(func(ctx context.Context, c *dagger.Client) error {
		cache := c.Engine().LocalCache()
		running, err := cache.MaxUsedSpace(ctx)
		if err != nil {
			return fmt.Errorf("the engine's cache cap: %w", err)
		}
		accounted, err := cache.EntrySet().DiskSpaceBytes(ctx)
		if err != nil {
			return fmt.Errorf("the engine's cache size: %w", err)
		}
		capBytes, restart := decideCap(int64(accounted), avail, int64(running), *headroom)
		decision := "keep"
		if restart {
			decision = "restart"
		}
		fmt.Printf("%d %s %d %d\n", capBytes, decision, avail, accounted)
		return nil
	})
}

// gcPolicy is one of the engine's garbage-collection policies as its config file spells them
// (engine/config.GCPolicy in dagger/dagger; sizes in bytes).
type gcPolicy struct {
	All          bool     `json:"all,omitempty"`
	Filters      []string `json:"filters,omitempty"`
	KeepDuration string   `json:"keepDuration,omitempty"`
	MaxUsedSpace int64    `json:"maxUsedSpace"`
}

// settleAfter is how long an entry goes unused before the collector counts it as left over from
// earlier work rather than as part of a run still going.
const settleAfter = "30m"

// gcPolicies are BuildKit's default policies around two levels instead of one. The engine collects
// after every session that ends, while other sessions run; a record one session just released can be
// pruned as another looks it up, and that session then fails on a snapshot that "does not exist".
// So what earlier work left is pruned down to cap-runRoom (the level every `engine.sh up` prunes to
// as well), leaving a run runRoom bytes to grow into before anything it used recently is touched;
// only above cap, where the disk's headroom is at stake, does the collector take recent records,
// least recently used first, as the default policies do. The engine reports the last policy's
// maxUsedSpace as its cap.
func gcPolicies(cap, runRoom int64) []gcPolicy {
	settled := cap - runRoom
	if settled < minCap {
		settled = min(minCap, cap)
	}
	return []gcPolicy{
		// BuildKit's first default: local uploads, cache volumes and git checkouts, once unused for two days.
		{Filters: []string{"type==source.local,type==exec.cachemount,type==source.git.checkout"}, KeepDuration: "48h", MaxUsedSpace: 512e6},
		{KeepDuration: settleAfter, MaxUsedSpace: settled},
		{MaxUsedSpace: cap},
		{All: true, MaxUsedSpace: cap},
	}
}

// gcConfig prints the engine config's "gc" object for a cap and the room a run may take under it.
func gcConfig(args []string) error {
	fs := flag.NewFlagSet("gc-config", flag.ExitOnError)
	cap := fs.Int64("cap", 0, "the cache cap in bytes (gc-cap's first field)")
	runRoom := fs.Int64("run-room", 20*gb, "bytes a run may add to the cache before recent records are collected")
	_ = fs.Parse(args)
	if *cap <= 0 || *runRoom < 0 {
		return fmt.Errorf("gc-config: --cap must be positive and --run-room not negative (got %d and %d)", *cap, *runRoom)
	}
	return json.NewEncoder(os.Stdout).Encode(struct {
		Policies []gcPolicy `json:"policies"`
	}{gcPolicies(*cap, *runRoom)})
}
