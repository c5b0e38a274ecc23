// Package fetch downloads installer ISOs into a cache directory safely: the file is written under a
// temporary name, its digest is computed while it streams, and only a verified file is renamed into
// place. A mismatch, a truncated body or an interrupted run therefore leaves nothing in the cache.
// Transient failures (timeouts, connection resets, 408/429/5xx) are retried with exponential backoff;
// permanent ones (404, 403, ...) fail at once with the URL in the error.
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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Logger receives progress lines (retries, cache hits). It may be nil.
type Logger func(format string, args ...any)

// Client downloads with retries.
type Client struct {
	HTTP *http.Client
	// Attempts is the total number of tries for transient failures (default 5).
	Attempts int
	// Backoff is the first retry delay; it doubles after each retry (default 1s).
	Backoff time.Duration
	// StallTimeout aborts a transfer that receives nothing for this long (default 60s): a peer that
	// stops sending without closing the connection must not hang the build.
	StallTimeout time.Duration
	Log          Logger
}

func (c *Client) stallTimeout() time.Duration {
	if c.StallTimeout > 0 {
		return c.StallTimeout
	}
	return time.Minute
}

// StallError is a transfer that stopped making progress.
type StallError struct {
	URL   string
	After time.Duration
	Got   int64
}

func (e *StallError) Error() string {
	return fmt.Sprintf("GET %s: no data for %s after %d bytes", e.URL, e.After, e.Got)
}

// watchdog cancels a transfer when no byte arrives for d; every Read re-arms it.
type watchdog struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
	fired atomic.Bool
}

func newWatchdog(r io.Reader, d time.Duration, cancel context.CancelFunc) *watchdog {
	w := &watchdog{r: r, d: d}
	w.timer = time.AfterFunc(d, func() { w.fired.Store(true); cancel() })
	return w
}

func (w *watchdog) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.d)
	}
	return n, err
}

func (w *watchdog) stop() { w.timer.Stop() }

func (c *Client) attempts() int {
	if c.Attempts > 0 {
		return c.Attempts
	}
	return 5
}

func (c *Client) backoff() time.Duration {
	if c.Backoff > 0 {
		return c.Backoff
	}
	return time.Second
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 0}
}

// StatusError is an HTTP response that is not 200.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Transient reports whether retrying may help.
func (e *StatusError) Transient() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// TruncatedError is a body shorter than the Content-Length the server announced.
type TruncatedError struct {
	URL       string
	Got, Want int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("GET %s: body truncated after %d of %d bytes", e.URL, e.Got, e.Want)
}

// DigestError is a download whose digest does not match the expected one.
type DigestError struct {
	URL, Algorithm, Got, Want string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s of %s is %s, but the checksum file says %s: the download is corrupt or was tampered with; nothing was cached",
		e.Algorithm, e.URL, e.Got, e.Want)
}

// IsTransient classifies an error from one attempt.
func IsTransient(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Transient()
	}
	var te *TruncatedError
	if errors.As(err, &te) {
		return true
	}
	var st *StallError
	if errors.As(err, &st) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	// Network-level failures (reset, refused, timeout, DNS hiccup) may pass.
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) {
		return true
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "unexpected EOF") || errors.Is(err, io.ErrUnexpectedEOF)
}

// retry runs op until it succeeds, fails permanently or the attempts are used up.
func (c *Client) retry(ctx context.Context, what string, op func() error) error {
	delay := c.backoff()
	var err error
	for attempt := 1; ; attempt++ {
		err = op()
		if err == nil || !IsTransient(err) || attempt >= c.attempts() {
			break
		}
		c.logf("%s: attempt %d/%d failed (%v); retrying in %s", what, attempt, c.attempts(), err, delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
	if err != nil && IsTransient(err) {
		return fmt.Errorf("%w (gave up after %d attempts)", err, c.attempts())
	}
	return err
}

// Get returns a small document (a checksum file or signature), retrying transient failures.
func (c *Client) Get(ctx context.Context, url string, limit int64) ([]byte, error) {
	var body []byte
	err := c.retry(ctx, "GET "+url, func() error {
		var e error
		body, e = c.getOnce(ctx, url, limit)
		return e
	})
	return body, err
}

func (c *Client) getOnce(ctx context.Context, url string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	wd := newWatchdog(resp.Body, c.stallTimeout(), cancel)
	defer wd.stop()
	b, err := io.ReadAll(io.LimitReader(wd, limit+1))
	if err != nil {
		if wd.fired.Load() {
			return nil, &StallError{URL: url, After: c.stallTimeout(), Got: int64(len(b))}
		}
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes; is this really a checksum file?", url, limit)
	}
	if resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		return nil, &TruncatedError{URL: url, Got: int64(len(b)), Want: resp.ContentLength}
	}
	return b, nil
}

func (c *Client) open(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %w", url, err)
	}
	req.Header.Set("User-Agent", "cloudstack-templates")
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &StatusError{URL: url, Status: resp.StatusCode}
	}
	return resp, nil
}

// Result describes a file placed in the cache.
type Result struct {
	Path     string `json:"path"`
	Digest   string `json:"digest"`
	Bytes    int64  `json:"bytes"`
	CacheHit bool   `json:"cacheHit"`
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

// Download places url at dest, verified against the hex digest, unless dest already exists (it can
// only exist verified). The body streams to a temporary file beside dest; on any failure the
// temporary file is removed.
func (c *Client) Download(ctx context.Context, url, dest, algorithm, digest string) (Result, error) {
	if st, err := os.Stat(dest); err == nil {
		c.logf("cache hit: %s (%d bytes)", filepath.Base(dest), st.Size())
		return Result{Path: dest, Digest: digest, Bytes: st.Size(), CacheHit: true}, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Result{}, err
	}
	var res Result
	err := c.retry(ctx, "GET "+url, func() error {
		var e error
		res, e = c.downloadOnce(ctx, url, dest, algorithm, digest)
		return e
	})
	return res, err
}

func (c *Client) downloadOnce(ctx context.Context, url, dest, algorithm, digest string) (Result, error) {
	h, err := NewHash(algorithm)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.open(ctx, url)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	wd := newWatchdog(resp.Body, c.stallTimeout(), cancel)
	defer wd.stop()
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return Result{}, err
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	start := time.Now()
	n, err := io.Copy(io.MultiWriter(tmp, h), wd)
	if err != nil {
		if wd.fired.Load() {
			return Result{}, &StallError{URL: url, After: c.stallTimeout(), Got: n}
		}
		if resp.ContentLength >= 0 && n < resp.ContentLength {
			return Result{}, &TruncatedError{URL: url, Got: n, Want: resp.ContentLength}
		}
		return Result{}, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return Result{}, &TruncatedError{URL: url, Got: n, Want: resp.ContentLength}
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != digest {
		return Result{}, &DigestError{URL: url, Algorithm: algorithm, Got: got, Want: digest}
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, err
	}
	if err := tmp.Close(); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return Result{}, err
	}
	keep = true
	c.logf("downloaded %s: %d bytes in %s, %s verified", url, n, time.Since(start).Round(time.Millisecond), algorithm)
	return Result{Path: dest, Digest: digest, Bytes: n}, nil
}
