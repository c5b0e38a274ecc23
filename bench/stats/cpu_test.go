package stats

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// statLine is a /proc/<pid>/stat line with the given command name and CPU ticks (utime, stime).
func statLine(comm string, utime, stime int64) string {
	return fmt.Sprintf("123 (%s) S 1 123 123 0 -1 4194560 100 0 0 0 %d %d 0 0 20 0 1 0 100 1000 10 18446744073709551615", comm, utime, stime)
}

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       ProcStat
		ok         bool
	}{
		{"plain", statLine("qemu-system-x86", 250, 50), ProcStat{"qemu-system-x86", 300}, true},
		{"spaces and parentheses in the name", statLine("a (b) c", 1, 2), ProcStat{"a (b) c", 3}, true},
		{"no name", "123 S 1 2 3", ProcStat{}, false},
		{"cut short", "123 (x) S 1 2 3", ProcStat{}, false},
		{"not a number", "123 (x) S 1 123 123 0 -1 4194560 100 0 0 0 u s 0", ProcStat{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseProcStat(tc.line)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseProcStat = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCPUByGroup(t *testing.T) {
	got := CPUByGroup(map[int]int64{1: 100, 2: 1000}, map[int]ProcStat{
		1: {"dagger-engine", 150}, // 0.5 s since the start
		2: {"qemu-system-x86", 3000},
		3: {"qemu-img", 100}, // started during the run
		4: {"dagger", 30},
		5: {"packer", 20},
		6: {"sshd", 10},
		7: {"runc", 10},
	})
	want := map[string]float64{"engine": 0.6, "guest": 21, "cli": 0.3, "packer": 0.2, "other": 0.1}
	for k, v := range want {
		if d := got[k] - v; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: %.2f CPU-s, want %.2f (all: %v)", k, got[k], v, got)
		}
	}
	for _, g := range CPUGroups {
		if _, ok := got[g.Key]; !ok {
			t.Errorf("group %s missing from %v", g.Key, got)
		}
	}
}

// The sampler follows real files: a process that gains ticks, one that starts and one that exits
// between samples (whose last reading still counts).
func TestCPUSampler(t *testing.T) {
	proc := t.TempDir()
	write := func(pid int, comm string, ticks int64) {
		dir := filepath.Join(proc, fmt.Sprint(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(statLine(comm, ticks, 0)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(10, "dagger-engine", 500)
	write(11, "qemu-system-x86", 0)
	if err := os.MkdirAll(filepath.Join(proc, "self"), 0o755); err != nil { // not a PID: ignored
		t.Fatal(err)
	}
	s := StartCPU(proc, 5*time.Millisecond)
	write(10, "dagger-engine", 700)
	write(11, "qemu-system-x86", 400)
	write(12, "dagger", 50)
	time.Sleep(50 * time.Millisecond)
	if err := os.RemoveAll(filepath.Join(proc, "11")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	got := s.Stop()
	if got["engine"] != 2 || got["guest"] != 4 || got["cli"] != 0.5 {
		t.Errorf("CPU by group = %v, want engine 2, guest 4, cli 0.5", got)
	}
}
