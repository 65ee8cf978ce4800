package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cpuSample is a point-in-time reading of the CPU time this process and
// the whole machine have used, to tell how much of a run's CPU went to
// other processes (the machine is shared, and that is its noise).
type cpuSample struct {
	at      time.Time
	self    time.Duration // user+system time of this process and its helpers
	machine time.Duration // non-idle time of all CPUs (from /proc/stat); 0 where unknown
}

// cpuUse is CPU consumption over an interval, in cores.
type cpuUse struct {
	Self, Others float64
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.self += helpersBusy()
	s.machine = machineBusy()
	return s
}

// since is the CPU used between an earlier sample a and s.
func (s cpuSample) since(a cpuSample) cpuUse {
	wall := s.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	u := cpuUse{Self: (s.self - a.self).Seconds() / wall}
	if s.machine > 0 && a.machine > 0 {
		u.Others = max(0, (s.machine-a.machine).Seconds()/wall-u.Self)
	}
	return u
}

// machineBusy is the time all CPUs spent outside idle and iowait since
// boot, read from the first line of /proc/stat (in USER_HZ ticks).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseUint(v, 10, 64)
		if i != 3 && i != 4 {
			busy += n
		}
	}
	const userHZ = 100
	return time.Duration(busy) * time.Second / userHZ
}

// helpers are child processes that belong to the system under test (the
// bench's redis-server): their CPU counts as this process's, not as
// other processes' noise.
var helpers struct {
	mu   sync.Mutex
	pids []int
}

// addHelper counts the CPU of process pid as this process's from now on.
func addHelper(pid int) {
	helpers.mu.Lock()
	helpers.pids = append(helpers.pids, pid)
	helpers.mu.Unlock()
}

// removeHelper stops counting pid (before it exits, so that the CPU
// samples of one measurement never see it appear or vanish).
func removeHelper(pid int) {
	helpers.mu.Lock()
	for i, p := range helpers.pids {
		if p == pid {
			helpers.pids = append(helpers.pids[:i], helpers.pids[i+1:]...)
			break
		}
	}
	helpers.mu.Unlock()
}

// helpersBusy is the user+system time the helpers have used, from
// /proc/<pid>/stat (in USER_HZ ticks); 0 for a helper it cannot read.
func helpersBusy() time.Duration {
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	var ticks uint64
	for _, pid := range helpers.pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces: the
		// fields after it start at the last ')'. utime and stime are
		// fields 14 and 15, the 12th and 13th after it.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		ticks += u + st
	}
	const userHZ = 100
	return time.Duration(ticks) * time.Second / userHZ
}
