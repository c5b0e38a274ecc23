package main

import (
	"context"
	"flag"
	"fmt"
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
