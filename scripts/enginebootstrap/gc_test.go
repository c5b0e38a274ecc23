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
	tests := []struct {
		name                  string
		cap, runRoom, settled int64
	}{
		{"CI's cap: earlier work settles 20 GB under it", 32 * gb, 20 * gb, 12 * gb},
		{"no room asked: one level", 55 * gb, 0, 55 * gb},
		{"room larger than the cap: the floor", 10 * gb, 20 * gb, minCap},
		{"a cap under the floor: never above the cap", 1 * gb, 20 * gb, 1 * gb},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := gcPolicies(tc.cap, tc.runRoom)
			// The engine reports the last policy's maxUsedSpace as its cap, and gc-cap compares it.
			if last := p[len(p)-1]; !last.All || last.MaxUsedSpace != tc.cap || last.KeepDuration != "" {
				t.Errorf("last policy %+v: want every record, up to the cap %d, whenever used", last, tc.cap)
			}
			var settling []gcPolicy
			for _, q := range p {
				if q.MaxUsedSpace > tc.cap {
					t.Errorf("policy %+v lets the cache past the cap %d", q, tc.cap)
				}
				if q.KeepDuration == settleAfter && len(q.Filters) == 0 {
					settling = append(settling, q)
				}
			}
			if len(settling) != 1 || settling[0].MaxUsedSpace != tc.settled {
				t.Errorf("policies for records unused for %s: %+v, want one up to %d", settleAfter, settling, tc.settled)
			}
		})
	}
}
