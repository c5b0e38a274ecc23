package main

import "testing"

func TestDecideCap(t *testing.T) {
	tests := []struct {
		name                                string
		accounted, avail, running, headroom int64
		wantCap                             int64
		wantRestart                         bool
	}{
		// CI's disk at the failure: 56.7 GB cached, 0.5 GB writable, the default cap of 189 GB.
		{"default cap on a full disk", 56_700_000_000, 540_000_000, 189 * gb, 25 * gb, 32 * gb, true},
		{"our cap, still right", 30 * gb, 28 * gb, 33 * gb, 25 * gb, 33 * gb, false},
		{"our cap, disk shrank under it", 30 * gb, 10 * gb, 33 * gb, 25 * gb, 15 * gb, true},
		{"our cap far below what the disk allows", 10 * gb, 100 * gb, 20 * gb, 25 * gb, 85 * gb, true},
		{"within the slack either way", 40 * gb, 20 * gb, 38 * gb, 25 * gb, 38 * gb, false},
		{"nothing writable: the floor, not zero", 1 * gb, 0, 189 * gb, 25 * gb, minCap, true},
		{"rounded down to whole gigabytes", 12_345_678_901, 20 * gb, 189 * gb, 25 * gb, 7 * gb, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cap, restart := decideCap(tc.accounted, tc.avail, tc.running, tc.headroom)
			if cap != tc.wantCap || restart != tc.wantRestart {
				t.Errorf("decideCap(%d, %d, %d, %d) = %d, %v; want %d, %v",
					tc.accounted, tc.avail, tc.running, tc.headroom, cap, restart, tc.wantCap, tc.wantRestart)
			}
			// Whatever is kept, the disk may not fill by more than the slack.
			if cap+tc.headroom > tc.accounted+tc.avail+capSlack && cap != minCap {
				t.Errorf("cap %d plus headroom %d exceeds the %d bytes the engine can have by more than the slack", cap, tc.headroom, tc.accounted+tc.avail)
			}
		})
	}
}

func TestGCPolicies(t *testing.T) {
	for _, cap := range []int64{1 * gb, 32 * gb, 55 * gb} {
		p := gcPolicies(cap)
		// The engine reports the last policy's maxUsedSpace as its cap, and gc-cap compares it.
		if last := p[len(p)-1]; !last.All || last.MaxUsedSpace != cap || last.KeepDuration != "" {
			t.Errorf("cap %d: last policy %+v, want every record, up to the cap, whenever used", cap, last)
		}
		for _, q := range p {
			if q.MaxUsedSpace > cap {
				t.Errorf("cap %d: policy %+v lets the cache past the cap", cap, q)
			}
			// Only the uploads, cache volumes and checkouts of two days ago may go below the cap while
			// sessions run; anything else pruned there can be a record another session is looking up.
			if q.MaxUsedSpace < cap && (len(q.Filters) == 0 || q.KeepDuration != "48h") {
				t.Errorf("cap %d: policy %+v prunes below the cap records a run may be using", cap, q)
			}
		}
	}
}

func TestSettleCap(t *testing.T) {
	tests := []struct {
		name                  string
		cap, runRoom, settled int64
	}{
		{"CI's cap: a run gets 6 GB before anything it used is collected", 34 * gb, 6 * gb, 28 * gb},
		{"no room asked: the cap", 55 * gb, 0, 55 * gb},
		{"room larger than the cap: the floor", 10 * gb, 20 * gb, minCap},
		{"a cap under the floor: never above the cap", 1 * gb, 20 * gb, 1 * gb},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := settleCap(tc.cap, tc.runRoom); got != tc.settled {
				t.Errorf("settleCap(%d, %d) = %d, want %d", tc.cap, tc.runRoom, got, tc.settled)
			}
		})
	}
}
