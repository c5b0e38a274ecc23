// Package fetch downloads installer ISOs into a cache directory safely: the file is written under a
// temporary name, its digest is computed while it streams, and only a verified file is renamed into
// place, with a verification record beside it. A mismatch, a truncated body or an interrupted run
// therefore leaves nothing in the cache; the partial file of a killed run is removed by the next one.
// A file found at the cache path is used only if its record matches it; otherwise it is re-hashed
// first, and discarded and fetched again if it is not the expected file.
//
// Every phase of a request is bounded: connecting, the TLS handshake, the wait for response headers,
// a body that goes silent and a body that trickles below a minimum rate. Those failures, connection
// resets and 408/429/5xx responses are retried with exponential backoff; permanent ones (404, 403, a
// digest mismatch) fail at once. Errors and log lines name the URL with its credentials masked (see
// package redact) and the attempt that failed.
package fetch

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// Defaults of the Client's limits; cst-fetch uses them as its flag defaults.
const (
	DefaultAttempts = 5
	DefaultBackoff  = time.Second
	// DefaultConnectTimeout bounds name resolution and the TCP connect. A reachable mirror answers in
	// well under a second; 30s leaves room for a slow resolver and a few lost SYNs (net/http's own
	// dialer uses the same).
	DefaultConnectTimeout = 30 * time.Second
	// DefaultTLSHandshakeTimeout is three times net/http's 10s: an air-gapped mirror behind an
	// inspecting proxy can be slow to handshake, and a dead one still fails in half a minute.
	DefaultTLSHandshakeTimeout = 30 * time.Second
	// DefaultHeaderTimeout bounds the wait for the status line once the request is sent. A CDN may
	// take a while to open a cold multi-gigabyte object, but a server that has said nothing for a
	// minute is not going to.
	DefaultHeaderTimeout = time.Minute
	// DefaultStallTimeout aborts a body that receives nothing for this long.
	DefaultStallTimeout = time.Minute
	// DefaultMinRate and DefaultRateWindow end a body that trickles: a peer that sends a byte now and
	// then re-arms the stall timer forever. 8 KiB/s is far below any link that can usefully carry an
	// installer (a 4 GiB DVD would take six days), so a slow but working mirror never trips it; averaged
	// over two minutes, neither does a congestion dip or a TCP recovery in a healthy transfer.
	DefaultMinRate    = 8 << 10
	DefaultRateWindow = 2 * time.Minute
)

// Logger receives progress lines (retries, cache hits). It may be nil. The lines it gets are already
// scrubbed of credentials.
type Logger func(format string, args ...any)

// Client downloads with retries. Zero fields take the Default values; set them before first use (the
// default HTTP client is built once from them).
type Client struct {
	// HTTP replaces the default client. Its transport's own timeouts then stand in for ConnectTimeout,
	// TLSHandshakeTimeout and HeaderTimeout; the stall, rate and attempt limits apply to either.
	HTTP *http.Client
	// Attempts is the total number of tries for transient failures.
	Attempts int
	// Backoff is the first retry delay; it doubles after each retry.
	Backoff time.Duration
	// ConnectTimeout bounds DNS and the TCP connect of one attempt.
	ConnectTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake of one attempt.
	TLSHandshakeTimeout time.Duration
	// HeaderTimeout bounds the wait for response headers after the request is sent; without it, a
	// server that accepts the connection and never answers hangs the build (the stall timer only
	// starts with the body).
	HeaderTimeout time.Duration
	// StallTimeout aborts a transfer that receives nothing for this long: a peer that stops sending
	// without closing the connection must not hang the build.
	StallTimeout time.Duration
	// MinRate (bytes per second, averaged over RateWindow) aborts a transfer that keeps sending, but
	// too little to ever finish. Negative disables the check.
	MinRate int64
	// RateWindow is how long MinRate is averaged over: long enough that a healthy transfer's dips
	// pass, short enough that a trickle ends within minutes.
	RateWindow time.Duration
	Log        Logger
	// VerifyBundle authenticates the checksum file of an osdefs.SigningSigstore source by its Sigstore
	// bundle. Without it such a source fails to resolve. It is a field rather than an import so that
	// this package, and the pipeline module that imports it, do not link a Sigstore client: cst-fetch
	// sets it to sigstoreverify.Verify.
	VerifyBundle osdefs.BundleVerifier

	once        sync.Once
	defaultHTTP *http.Client
}

// orDefault is a Client setting, or its default when the setting is zero (or negative).
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// limit is a phase's limit, PhaseConnect, PhaseTLS or PhaseHeaders, with the default applied.
func (c *Client) limit(phase string) time.Duration {
	switch phase {
	case PhaseConnect:
		return orDefault(c.ConnectTimeout, DefaultConnectTimeout)
	case PhaseTLS:
		return orDefault(c.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	}
	return orDefault(c.HeaderTimeout, DefaultHeaderTimeout)
}

func (c *Client) minRate() int64 {
	switch {
	case c.MinRate < 0:
		return 0
	case c.MinRate == 0:
		return DefaultMinRate
	}
	return c.MinRate
}

// logf is the one way out for log lines: whatever the caller formatted in, URLs included, leaves
// scrubbed.
func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log("%s", redact.Text(fmt.Sprintf(format, args...)))
	}
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	c.once.Do(func() { c.defaultHTTP = &http.Client{Transport: c.transport()} })
	return c.defaultHTTP
}

// transport is net/http's default transport with every phase before the body bounded. It is a clone,
// so it keeps what the default gets right: HTTP(S)_PROXY and NO_PROXY, HTTP/2, keep-alive. There is
// no overall request timeout: a multi-gigabyte download may rightly take hours, and the stall and rate
// limits end the bodies that will not finish.
func (c *Client) transport() *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.DialContext = (&net.Dialer{Timeout: c.limit(PhaseConnect), KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = c.limit(PhaseTLS)
	t.ResponseHeaderTimeout = c.limit(PhaseHeaders)
	return t
}

// StatusError is an HTTP response that is not 200.
type StatusError struct {
	URL    string // redacted
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Transient reports whether retrying may help.
func (e *StatusError) Transient() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Phases of a request before its body, for TimeoutError.
const (
	PhaseConnect = "connect"
	PhaseTLS     = "TLS handshake"
	PhaseHeaders = "response headers"
)

// TimeoutError is a request that did not get through a phase before its body in time.
type TimeoutError struct {
	URL   string // redacted
	Phase string // PhaseConnect, PhaseTLS or PhaseHeaders
	// After is the limit that ran out; zero when a caller-supplied HTTP client set it.
	After time.Duration
	Err   error
}

func (e *TimeoutError) Error() string {
	what := map[string]string{
		PhaseConnect: "no connection",
		PhaseTLS:     "no TLS handshake",
		PhaseHeaders: "no response headers",
	}[e.Phase]
	if e.After > 0 {
		return fmt.Sprintf("GET %s: %s within %s", e.URL, what, e.After)
	}
	return fmt.Sprintf("GET %s: %s in time (%s)", e.URL, what, redact.Text(e.Err.Error()))
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout marks the error as a timeout for callers that classify by the net.Error convention.
func (e *TimeoutError) Timeout() bool { return true }

// StallError is a transfer that stopped making progress.
type StallError struct {
	URL   string // redacted
	After time.Duration
	Got   int64
}

func (e *StallError) Error() string {
	return fmt.Sprintf("GET %s: no data for %s after %d bytes", e.URL, e.After, e.Got)
}

// SlowError is a transfer that kept sending, but below the minimum rate.
type SlowError struct {
	URL      string // redacted
	Got      int64  // bytes in all
	InWindow int64  // bytes in the window that fell short
	Window   time.Duration
	MinRate  int64 // bytes per second
}

func (e *SlowError) Error() string {
	return fmt.Sprintf("GET %s: only %d bytes in %s (%d B/s), below the minimum rate of %d B/s, after %d bytes",
		e.URL, e.InWindow, e.Window, int64(float64(e.InWindow)/e.Window.Seconds()), e.MinRate, e.Got)
}

// TruncatedError is a body shorter than the Content-Length the server announced.
type TruncatedError struct {
	URL       string // redacted
	Got, Want int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("GET %s: body truncated after %d of %d bytes", e.URL, e.Got, e.Want)
}

// CancelledError is a transfer the caller stopped (an interrupt, a deadline), not the network. It
// wraps the context's error, so errors.Is(err, context.Canceled) holds.
type CancelledError struct {
	URL string // redacted
	Got int64
	// Waiting is true when the cancel came between attempts, while waiting to retry.
	Waiting bool
	Err     error // context.Canceled or context.DeadlineExceeded
	// Cause is context.Cause, when it says more than Err (which signal, which deadline).
	Cause error
}

func (e *CancelledError) Error() string {
	how := "cancelled"
	if errors.Is(e.Err, context.DeadlineExceeded) {
		how = "deadline exceeded"
	}
	if e.Cause != nil && e.Cause != e.Err {
		how += " (" + redact.Text(e.Cause.Error()) + ")"
	}
	if e.Waiting {
		return fmt.Sprintf("GET %s: %s while waiting to retry", e.URL, how)
	}
	return fmt.Sprintf("GET %s: %s after %d bytes", e.URL, how, e.Got)
}

func (e *CancelledError) Unwrap() error { return e.Err }

func cancelled(ctx context.Context, u string, got int64) *CancelledError {
	return &CancelledError{URL: u, Got: got, Err: ctx.Err(), Cause: context.Cause(ctx)}
}

// DigestError is a download whose digest does not match the expected one.
type DigestError struct {
	URL, Algorithm, Got, Want string
	// WantFrom says where Want came from ("the --digest argument", "the checksum file https://…"): a
	// mismatch is a bad download or a wrong expectation, and the reader has to be able to tell which.
	WantFrom string
}

func (e *DigestError) Error() string {
	expected := e.Want + " was expected"
	if e.WantFrom != "" {
		expected = e.WantFrom + " says " + e.Want
	}
	return fmt.Sprintf("%s of %s is %s, but %s: the download is corrupt or was tampered with; nothing was cached",
		e.Algorithm, e.URL, e.Got, expected)
}

// netError is any other transport failure (refused, reset, DNS, certificate). Its text is scrubbed
// because net/http quotes URLs in its messages, a redirect target's or a proxy's among them.
type netError struct {
	URL string // redacted
	Err error
}

func (e *netError) Error() string { return "GET " + e.URL + ": " + redact.Text(e.Err.Error()) }
func (e *netError) Unwrap() error { return e.Err }

// AttemptError is the failure of a request after retries: the last attempt's error and its number.
type AttemptError struct {
	Err               error
	Attempt, Attempts int
	// GaveUp is true when the failure was transient and the attempts ran out.
	GaveUp bool
}

func (e *AttemptError) Error() string {
	// The scrub is a last line of defence: each error type already redacts its own URL.
	msg := redact.Text(e.Err.Error())
	if e.GaveUp {
		plural := "s"
		if e.Attempts == 1 {
			plural = ""
		}
		return fmt.Sprintf("%s (attempt %d/%d: gave up after %d attempt%s)", msg, e.Attempt, e.Attempts, e.Attempts, plural)
	}
	return fmt.Sprintf("%s (attempt %d/%d)", msg, e.Attempt, e.Attempts)
}

func (e *AttemptError) Unwrap() error { return e.Err }

// IsTransient classifies an error from one attempt.
func IsTransient(err error) bool {
	var ce *CancelledError
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Transient()
	}
	var de *DigestError
	if errors.As(err, &de) {
		return false
	}
	var te *TruncatedError
	var st *StallError
	var sl *SlowError
	var to *TimeoutError
	if errors.As(err, &te) || errors.As(err, &st) || errors.As(err, &sl) || errors.As(err, &to) {
		return true
	}
	// Network-level failures (reset, refused, timeout, DNS hiccup) may pass.
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "unexpected EOF") || errors.Is(err, io.ErrUnexpectedEOF)
}

// retry runs op until it succeeds, fails permanently, the caller cancels or the attempts are used up.
func (c *Client) retry(ctx context.Context, rawURL string, op func() error) error {
	delay := orDefault(c.Backoff, DefaultBackoff)
	n := orDefault(c.Attempts, DefaultAttempts)
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			var ce *CancelledError
			if !errors.As(err, &ce) {
				err = cancelled(ctx, redact.URL(rawURL), 0)
			}
			return &AttemptError{Err: err, Attempt: attempt, Attempts: n}
		}
		if !IsTransient(err) {
			return &AttemptError{Err: err, Attempt: attempt, Attempts: n}
		}
		if attempt >= n {
			return &AttemptError{Err: err, Attempt: attempt, Attempts: n, GaveUp: true}
		}
		c.logf("attempt %d/%d failed (%v); retrying in %s", attempt, n, err, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			ce := cancelled(ctx, redact.URL(rawURL), 0)
			ce.Waiting = true
			return &AttemptError{Err: ce, Attempt: attempt, Attempts: n}
		case <-t.C:
		}
		delay *= 2
	}
}

// checkURL rejects what no attempt can fetch, before any attempt is counted.
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text quotes the whole URL
		}
		return fmt.Errorf("bad URL %s: %s", redact.URL(rawURL), redact.Text(err.Error()))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bad URL %s: not an http(s) URL", redact.URL(rawURL))
	}
	return nil
}

// Get returns a small document (a checksum file or signature), retrying transient failures.
func (c *Client) Get(ctx context.Context, rawURL string, limit int64) ([]byte, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, err
	}
	var body []byte
	err := c.retry(ctx, rawURL, func() error {
		var e error
		body, e = c.getOnce(ctx, rawURL, limit)
		return e
	})
	return body, err
}

func (c *Client) getOnce(ctx context.Context, rawURL string, limit int64) ([]byte, error) {
	u := redact.URL(rawURL)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.open(ctx, actx, rawURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := c.newMonitor(resp.Body, cancel)
	b, err := io.ReadAll(io.LimitReader(m, limit+1))
	m.stop()
	if err != nil {
		return nil, c.bodyError(ctx, u, m, int64(len(b)), resp.ContentLength, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes; is this really a checksum file?", u, limit)
	}
	if resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		return nil, &TruncatedError{URL: u, Got: int64(len(b)), Want: resp.ContentLength}
	}
	return b, nil
}

// open sends the request under actx (which the body monitor may cancel) and classifies a failure
// before the body; ctx is the caller's, to tell its cancel from a timeout.
func (c *Client) open(ctx, actx context.Context, rawURL string) (*http.Response, error) {
	u := redact.URL(rawURL)
	// The phase a timeout struck in names the limit that ran out; the transport's errors do not.
	var phase atomic.Value
	phase.Store(PhaseConnect)
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		TLSHandshakeStart: func() { phase.Store(PhaseTLS) },
		GotConn:           func(httptrace.GotConnInfo) { phase.Store(PhaseHeaders) },
	})
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL %s: %s", u, redact.Text(unwrapURLError(err).Error()))
	}
	req.Header.Set("User-Agent", "cloudstack-templates")
	resp, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, cancelled(ctx, u, 0)
		}
		// *url.Error quotes the full URL, credentials and all: keep only what went wrong.
		inner := unwrapURLError(err)
		var t interface{ Timeout() bool }
		if errors.As(inner, &t) && t.Timeout() {
			p := phase.Load().(string)
			return nil, &TimeoutError{URL: u, Phase: p, After: c.phaseLimit(p), Err: inner}
		}
		return nil, &netError{URL: u, Err: inner}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &StatusError{URL: u, Status: resp.StatusCode}
	}
	return resp, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// phaseLimit is the configured limit of a phase, or 0 when a caller-supplied client decides it.
func (c *Client) phaseLimit(phase string) time.Duration {
	if c.HTTP != nil {
		return 0
	}
	return c.limit(phase)
}

// bodyError classifies a failed read of a body after got bytes.
func (c *Client) bodyError(ctx context.Context, u string, m *monitor, got, contentLength int64, err error) error {
	switch m.tripped() {
	case tripStall:
		return &StallError{URL: u, After: m.stall, Got: got}
	case tripSlow:
		return &SlowError{URL: u, Got: got, InWindow: m.shortfall(), Window: m.window, MinRate: m.minRate}
	}
	if ctx.Err() != nil {
		return cancelled(ctx, u, got)
	}
	if contentLength >= 0 && got < contentLength {
		return &TruncatedError{URL: u, Got: got, Want: contentLength}
	}
	return &netError{URL: u, Err: err}
}

// Result describes a file placed in the cache.
type Result struct {
	Path     string `json:"path"`
	Digest   string `json:"digest"`
	Bytes    int64  `json:"bytes"`
	CacheHit bool   `json:"cacheHit"`
	// Rehashed is true for a cache hit that had no matching verification record and was hashed again.
	Rehashed bool `json:"rehashed,omitempty"`
}

// NewHash returns the hash for "sha256" or "sha512".
func NewHash(algorithm string) (hash.Hash, error) {
	switch algorithm {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q: use sha256 or sha512", algorithm)
}

// Want is what a download must hash to.
type Want struct {
	Algorithm string // "sha256" or "sha512"
	Digest    string // lower-case hex
	// From says where Digest came from, for the error when the download does not match: "the --digest
	// argument", "the checksum file https://…" (redacted). Empty says only what was expected.
	From string
}

// Download places rawURL at dest, verified against want, unless dest already holds that file (see
// cached). The body streams to a locked partial file beside dest; on any failure that file is
// removed, and so are the directories this call created for dest if they are left empty.
func (c *Client) Download(ctx context.Context, rawURL, dest string, want Want) (res Result, err error) {
	if _, err := NewHash(want.Algorithm); err != nil {
		return Result{}, err
	}
	if err := checkURL(rawURL); err != nil {
		return Result{}, err
	}
	c.removeStale(dest)
	if hit, ok, err := c.cached(dest, want); err != nil || ok {
		return hit, err
	}
	created, err := mkdirAll(filepath.Dir(dest))
	if err != nil {
		return Result{}, err
	}
	defer func() {
		if err != nil {
			removeEmptyDirs(created)
		}
	}()
	err = c.retry(ctx, rawURL, func() error {
		var e error
		res, e = c.downloadOnce(ctx, rawURL, dest, want)
		return e
	})
	return res, err
}

func (c *Client) downloadOnce(ctx context.Context, rawURL, dest string, want Want) (Result, error) {
	h, err := NewHash(want.Algorithm)
	if err != nil {
		return Result{}, err
	}
	u := redact.URL(rawURL)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.open(ctx, actx, rawURL)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	m := c.newMonitor(resp.Body, cancel)
	defer m.stop()
	part, err := createPart(filepath.Dir(dest), partPrefix(dest))
	if err != nil {
		return Result{}, err
	}
	keep := false
	defer func() {
		if !keep {
			// Remove before closing: the lock marks the file as alive until it is gone.
			os.Remove(part.Name())
			part.Close()
		}
	}()
	start := time.Now()
	n, err := io.Copy(io.MultiWriter(part, h), m)
	m.stop()
	if err != nil {
		return Result{}, c.bodyError(ctx, u, m, n, resp.ContentLength, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return Result{}, &TruncatedError{URL: u, Got: n, Want: resp.ContentLength}
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want.Digest {
		return Result{}, &DigestError{URL: u, Algorithm: want.Algorithm, Got: got, Want: want.Digest, WantFrom: want.From}
	}
	if err := part.Sync(); err != nil {
		return Result{}, err
	}
	st, err := part.Stat()
	if err != nil {
		return Result{}, err
	}
	if err := os.Rename(part.Name(), dest); err != nil {
		return Result{}, err
	}
	keep = true
	if err := part.Close(); err != nil {
		return Result{}, err
	}
	c.writeRecord(dest, want, st)
	c.logf("downloaded %s: %d bytes in %s, %s verified", u, n, time.Since(start).Round(time.Millisecond), want.Algorithm)
	return Result{Path: dest, Digest: want.Digest, Bytes: n}, nil
}
