package stats

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CPU groups: who used the machine's CPUs during a run. On a two-core machine a TCG guest wants both
// cores, so every CPU-second the engine, the CLI or anything else takes is one the guest waits for.
var CPUGroups = []PhaseKey{
	{Key: "guest", Label: "the guest (QEMU)"},
	{Key: "engine", Label: "the Dagger engine (dagger-engine, runc, shims)"},
	{Key: "cli", Label: "the dagger CLI"},
	{Key: "packer", Label: "Packer"},
	{Key: "other", Label: "everything else"},
}

// cpuGroup places a process, by its command name, in one of CPUGroups.
func cpuGroup(comm string) string {
	switch {
	case strings.HasPrefix(comm, "qemu-system"), strings.HasPrefix(comm, "qemu-img"):
		return "guest"
	case comm == "dagger-engine", comm == "runc", strings.HasPrefix(comm, "containerd"), strings.HasPrefix(comm, "dagger-shim"),
		comm == "buildkitd", comm == "dumb-init":
		return "engine"
	case comm == "dagger":
		return "cli"
	case comm == "packer":
		return "packer"
	}
	return "other"
}

// ProcStat is the part of /proc/<pid>/stat CPU accounting needs.
type ProcStat struct {
	Comm  string
	Ticks int64 // utime + stime, in clock ticks
}

// ParseProcStat reads one /proc/<pid>/stat line. The command name is between the first "(" and the
// last ")", since it may itself hold spaces and parentheses.
func ParseProcStat(line string) (ProcStat, bool) {
	open, closing := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return ProcStat{}, false
	}
	// After ") ": state(3) ppid(4) ... utime(14) stime(15), counted from 1 over the whole line.
	f := strings.Fields(line[closing+1:])
	if len(f) < 13 {
		return ProcStat{}, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return ProcStat{}, false
	}
	return ProcStat{Comm: line[open+1 : closing], Ticks: u + s}, true
}

// clockTicks is the kernel's USER_HZ, which is 100 on every Linux architecture the project runs on.
const clockTicks = 100

// CPUSampler reads every process's CPU time while a run lasts and reports the CPU-seconds each group
// used from its start to its stop. Processes are sampled each interval, so one that lives shorter
// than that, or the last interval of one that exits, is missed: the figures are a lower bound.
type CPUSampler struct {
	proc     string
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	baseline map[int]int64 // ticks at the start, for processes that existed then
	latest   map[int]ProcStat
}

// StartCPU starts sampling procDir ("/proc") every interval.
func StartCPU(procDir string, interval time.Duration) *CPUSampler {
	s := &CPUSampler{proc: procDir, stop: make(chan struct{}), done: make(chan struct{}),
		baseline: map[int]int64{}, latest: map[int]ProcStat{}}
	for pid, st := range s.read() {
		s.baseline[pid] = st.Ticks
		s.latest[pid] = st
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *CPUSampler) read() map[int]ProcStat {
	out := map[int]ProcStat{}
	entries, err := os.ReadDir(s.proc)
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.proc, e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		if st, ok := ParseProcStat(string(b)); ok {
			out[pid] = st
		}
	}
	return out
}

func (s *CPUSampler) sample() {
	now := s.read()
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, st := range now {
		if old, ok := s.latest[pid]; ok && old.Comm != st.Comm && st.Ticks < old.Ticks {
			continue // a reused PID would count a stranger's time: keep the first owner's
		}
		s.latest[pid] = st
	}
}

// Stop ends the sampling and returns the CPU-seconds per group (CPUGroups keys).
func (s *CPUSampler) Stop() map[string]float64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return CPUByGroup(s.baseline, s.latest)
}

// CPUByGroup is the CPU-seconds each group used between a baseline (ticks per PID at the start) and
// the latest reading of every PID seen.
func CPUByGroup(baseline map[int]int64, latest map[int]ProcStat) map[string]float64 {
	out := map[string]float64{}
	for _, g := range CPUGroups {
		out[g.Key] = 0
	}
	for pid, st := range latest {
		used := st.Ticks - baseline[pid]
		if used <= 0 {
			continue
		}
		out[cpuGroup(st.Comm)] += float64(used) / clockTicks
	}
	return out
}
