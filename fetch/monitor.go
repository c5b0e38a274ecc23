package fetch

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Why a monitor cancelled a transfer.
const (
	tripNone int32 = iota
	tripStall
	tripSlow
)

// monitor watches a response body and cancels the transfer when nothing arrives for stall, or when
// less than minRate*window arrives in a window: a trickle re-arms the stall timer forever, so silence
// alone does not catch it. Windows are consecutive, the first starting when the response headers arrive.
type monitor struct {
	r       io.Reader
	cancel  context.CancelFunc
	stall   time.Duration
	minRate int64 // bytes per second; 0 disables the rate check
	window  time.Duration

	n      atomic.Int64
	why    atomic.Int32
	stallT *time.Timer

	mu      sync.Mutex
	rateT   *time.Timer
	mark    int64 // n at the start of the current window
	short   int64 // bytes in the window that fell short
	stopped bool
}

func (c *Client) newMonitor(r io.Reader, cancel context.CancelFunc) *monitor {
	m := &monitor{r: r, cancel: cancel, stall: orDefault(c.StallTimeout, DefaultStallTimeout), minRate: c.minRate(),
		window: orDefault(c.RateWindow, DefaultRateWindow)}
	m.stallT = time.AfterFunc(m.stall, func() { m.trip(tripStall) })
	if m.minRate > 0 {
		m.rateT = time.AfterFunc(m.window, m.checkRate)
	}
	return m
}

func (m *monitor) Read(p []byte) (int, error) {
	k, err := m.r.Read(p)
	if k > 0 {
		m.n.Add(int64(k))
		m.stallT.Reset(m.stall)
	}
	return k, err
}

// trip cancels the transfer once; the first reason sticks.
func (m *monitor) trip(why int32) {
	if m.why.CompareAndSwap(tripNone, why) {
		m.cancel()
	}
}

func (m *monitor) checkRate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	n := m.n.Load()
	if got := n - m.mark; float64(got) < float64(m.minRate)*m.window.Seconds() {
		m.short = got
		m.trip(tripSlow)
		return
	}
	m.mark = n
	m.rateT.Reset(m.window)
}

// tripped says why the monitor cancelled the transfer, if it did.
func (m *monitor) tripped() int32 { return m.why.Load() }

// shortfall is the byte count of the window that fell below the minimum rate.
func (m *monitor) shortfall() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.short
}

// stop disarms the timers; it may be called more than once.
func (m *monitor) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	m.stallT.Stop()
	if m.rateT != nil {
		m.rateT.Stop()
	}
}
