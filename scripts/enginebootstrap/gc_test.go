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
