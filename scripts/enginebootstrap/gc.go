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

// gcCap prints the cap, the decision, the two measurements and how many clients other than itself
// the engine has (a restart would end their sessions) for scripts/engine.sh:
//
//	<cap bytes> <keep|restart> <avail bytes> <cache bytes> <other clients>
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
		clients, err := c.Engine().Clients(ctx)
		if err != nil {
			return fmt.Errorf("the engine's clients: %w", err)
		}
		capBytes, restart := decideCap(int64(accounted), avail, int64(running), *headroom)
		decision := "keep"
		if restart {
			decision = "restart"
		}
		fmt.Printf("%d %s %d %d %d\n", capBytes, decision, avail, accounted, max(len(clients)-1, 0))
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

// gcPolicies are BuildKit's default policies with every size set to cap: records left by the
// pipeline's uploads, cache volumes and git checkouts go after two days unused, and above cap the
// least recently used records go, whatever they are. The engine reports the last policy's
// maxUsedSpace as its cap (gc-cap compares it). No policy prunes below cap: the collector runs one
// second after every session ends, while other sessions run, and a record one session just
// released can be pruned as another looks it up, which then fails on a snapshot that "does not
// exist". Room for a run is made before it starts instead (settleCap).
func gcPolicies(cap int64) []gcPolicy {
	return []gcPolicy{
		{Filters: []string{"type==source.local,type==exec.cachemount,type==source.git.checkout"}, KeepDuration: "48h", MaxUsedSpace: min(512e6, cap)},
		{MaxUsedSpace: cap},
		{All: true, MaxUsedSpace: cap},
	}
}

// settleCap is the level `engine.sh up` prunes an idle engine's cache down to before a run, so that
// the run can add runRoom bytes before the collector has to prune anything while it runs. The
// least recently used records go first, so what the last run used stays; never above cap, and not
// below minCap unless cap is.
func settleCap(cap, runRoom int64) int64 {
	settled := cap - runRoom
	if settled < minCap {
		settled = min(minCap, cap)
	}
	return settled
}

// gcConfig prints the engine config's "gc" object for a cap, or with --run-room for the level an
// idle engine is pruned to before a run (settleCap).
func gcConfig(args []string) error {
	fs := flag.NewFlagSet("gc-config", flag.ExitOnError)
	cap := fs.Int64("cap", 0, "the cache cap in bytes (gc-cap's first field)")
	runRoom := fs.Int64("run-room", 0, "prune this many bytes under the cap, to make room for a run")
	_ = fs.Parse(args)
	if *cap <= 0 || *runRoom < 0 {
		return fmt.Errorf("gc-config: --cap must be positive and --run-room not negative (got %d and %d)", *cap, *runRoom)
	}
	return json.NewEncoder(os.Stdout).Encode(struct {
		Policies []gcPolicy `json:"policies"`
	}{gcPolicies(settleCap(*cap, *runRoom))})
}
