package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// Secrets planted in every URL of these tests: the userinfo of a mirror login and the query of a
// pre-signed URL. None may reach an error or a log line.
var secrets = []string{"SECRETPASS", "SECRETSIG", "SECRETCRED"}

// withSecrets adds a login and a signed query to a plain URL.
func withSecrets(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("user", "SECRETPASS")
	u.RawQuery = "X-Amz-Credential=SECRETCRED&X-Amz-Signature=SECRETSIG"
	return u.String()
}

func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks %s:\n%s", what, s, text)
		}
	}
}

// logSink collects a Client's log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// hold keeps a handler's connection open without answering, until the client goes away or a few
// seconds pass, so that no test server outlives its test.
func hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// counted serves h and counts its requests.
func counted(t *testing.T, h http.HandlerFunc) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func countedISO(t *testing.T, h http.HandlerFunc) (string, *atomic.Int32) {
	base, n := counted(t, h)
	return base + "/iso", n
}

// silentListener accepts TCP connections and never says a word (a TLS handshake never completes).
func silentListener(t *testing.T) (string, *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), &n
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testClient has limits small enough for tests; the rate check is off unless a case turns it on.
func testClient(logs *logSink) *Client {
	return &Client{
		Attempts: 2, Backoff: time.Millisecond, ConnectTimeout: 300 * time.Millisecond,
		TLSHandshakeTimeout: 200 * time.Millisecond, HeaderTimeout: 200 * time.Millisecond,
		StallTimeout: 200 * time.Millisecond, MinRate: -1, Log: logs.logf,
	}
}

type failureCase struct {
	name string
	// The server is one of: fault, a faultServer; handler, serving the ISO path; or serve, which
	// starts a server of its own and returns the URL to fetch (before secrets are added) and a
	// request counter.
	fault        *faultServer
	handler      http.HandlerFunc
	serve        func(t *testing.T) (string, *atomic.Int32)
	tune         func(c *Client)
	digest       string
	wantErr      []string // substrings; "<URL>" stands for the redacted URL fetched
	wantRequests int32
	downloadOnly bool
	// rawURL, if set, is fetched as is (it carries its own secrets).
	rawURL string
}

func failureCases() []failureCase {
	bad := strings.Repeat("ab", 32)
	return []failureCase{
		{
			name:         "404",
			fault:        &faultServer{fail: 100, status: 404},
			wantErr:      []string{"GET <URL>: HTTP 404 Not Found (attempt 1/2)"},
			wantRequests: 1,
		},
		{
			name:         "503 gives up",
			fault:        &faultServer{fail: 100, status: 503},
			wantErr:      []string{"GET <URL>: HTTP 503 Service Unavailable (attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			name:         "truncated body",
			fault:        &faultServer{truncate: true},
			wantErr:      []string{"GET <URL>: body truncated after 57344 of 114688 bytes (attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			name: "stall",
			handler: func(w http.ResponseWriter, r *http.Request) {
				sendPrefix(w, 1000)
				hold(r)
			},
			wantErr:      []string{"GET <URL>: no data for 200ms after 1000 bytes (attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			// Accepts the connection, reads the request, never answers: before the header timeout
			// this hung forever, because the stall timer starts with the body.
			name:         "no response headers",
			handler:      func(w http.ResponseWriter, r *http.Request) { hold(r) },
			wantErr:      []string{"GET <URL>: no response headers within 200ms (attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			name: "no TLS handshake",
			serve: func(t *testing.T) (string, *atomic.Int32) {
				addr, n := silentListener(t)
				return "https://" + addr + "/iso", n
			},
			wantErr:      []string{"GET <URL>: no TLS handshake within 200ms (attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			// A byte now and then re-arms the stall timer forever; only the rate floor ends it.
			name: "trickle",
			handler: func(w http.ResponseWriter, r *http.Request) {
				sendPrefix(w, 0)
				for i := 0; i < 500; i++ {
					if _, err := w.Write(payload[:64]); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			},
			tune: func(c *Client) {
				c.StallTimeout, c.MinRate, c.RateWindow = 2*time.Second, 64<<10, 300*time.Millisecond
			},
			wantErr:      []string{"GET <URL>: only ", "in 300ms", "below the minimum rate of 65536 B/s", "(attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			name:         "digest mismatch",
			fault:        &faultServer{},
			digest:       bad,
			wantErr:      []string{"sha256 of <URL> is " + digestOf(payload) + ", but the --digest argument says " + bad + ": the download is corrupt or was tampered with; nothing was cached (attempt 1/2)"},
			wantRequests: 1,
			downloadOnly: true,
		},
		{
			// net/http's own error quotes the redirect target, signature and all.
			name: "redirect to a signed URL that refuses",
			serve: func(t *testing.T) (string, *atomic.Int32) {
				target := "http://" + closedPort(t) + "/blob?X-Amz-Signature=SECRETSIG"
				return countedISO(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) })
			},
			wantErr:      []string{"GET <URL>: ", "connection refused (attempt 2/2: gave up after 2 attempts)"},
			wantRequests: 2,
		},
		{
			name:    "bad URL",
			rawURL:  "http://user:SECRETPASS@127.0.0.1:1/%zz?X-Amz-Signature=SECRETSIG",
			wantErr: []string{`bad URL http://REDACTED@127.0.0.1:1/%zz?REDACTED: invalid URL escape "%zz"`},
		},
	}
}

func serveFault(t *testing.T, f *faultServer) (string, *atomic.Int32) {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL + "/iso", &f.requests
}

// Every failure names the redacted URL and the attempt, is bounded in time, leaks no credential into
// the error or the log, and leaves nothing in the cache, not even the directories it created.
func TestFailures(t *testing.T) {
	// Each op gets fresh cases: a case's fault server counts its requests.
	for _, op := range []string{"Download", "Get"} {
		for _, tt := range failureCases() {
			if op == "Get" && tt.downloadOnly {
				continue
			}
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				raw, requests := tt.rawURL, (*atomic.Int32)(nil)
				var plain string
				switch {
				case tt.fault != nil:
					plain, requests = serveFault(t, tt.fault)
				case tt.handler != nil:
					plain, requests = countedISO(t, tt.handler)
				case tt.serve != nil:
					plain, requests = tt.serve(t)
				}
				if plain != "" {
					raw = withSecrets(t, plain)
				}
				logs := &logSink{}
				c := testClient(logs)
				if tt.tune != nil {
					tt.tune(c)
				}
				root := t.TempDir()
				t0 := time.Now()
				var err error
				if op == "Download" {
					digest := tt.digest
					if digest == "" {
						digest = digestOf(payload)
					}
					p := Plan{OS: "testbed", Algorithm: "sha256", Digest: digest, FileName: "x.iso"}
					_, err = c.Download(context.Background(), raw, p.CachePath(root),
						Want{Algorithm: "sha256", Digest: digest, From: "the --digest argument"})
				} else {
					_, err = c.Get(context.Background(), raw, 1<<20)
				}
				checkFailure(t, err, raw, tt.wantErr, logs)
				if d := time.Since(t0); d > 5*time.Second {
					t.Errorf("the failure took %s", d)
				}
				if requests != nil && requests.Load() != tt.wantRequests {
					t.Errorf("requests = %d, want %d", requests.Load(), tt.wantRequests)
				}
				if got := dirNames(t, root); got != "" {
					t.Errorf("the failure left %q in the cache root", got)
				}
			})
		}
	}
}

func checkFailure(t *testing.T, err error, raw string, wantErr []string, logs *logSink) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	red := redact.URL(raw)
	if !strings.Contains(red, redact.Mask) {
		t.Fatalf("test URL %q carries no secret", raw)
	}
	for _, w := range wantErr {
		if w = strings.ReplaceAll(w, "<URL>", red); !strings.Contains(err.Error(), w) {
			t.Errorf("error\n  %s\nlacks\n  %s", err, w)
		}
	}
	assertNoSecrets(t, "error", err.Error())
	assertNoSecrets(t, "log", logs.String())
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "retrying") && !strings.Contains(line, red) {
			t.Errorf("retry line %q does not name the URL", line)
		}
	}
}

// A cancel is not a network failure: not retried, reported with what was done so far, and still
// recognisable as context.Canceled.
func TestCancel(t *testing.T) {
	tests := []struct {
		name    string
		handler func(started func()) http.HandlerFunc
		backoff time.Duration
		want    string // regexp; <URL> stands for the redacted URL
	}{
		{
			name: "waiting for headers",
			handler: func(started func()) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { started(); hold(r) }
			},
			want: `^GET <URL>: cancelled \(stopped by the test\) after 0 bytes \(attempt 1/3\)$`,
		},
		{
			name: "mid-body",
			handler: func(started func()) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					sendPrefix(w, 1000)
					started()
					hold(r)
				}
			},
			want: `^GET <URL>: cancelled \(stopped by the test\) after \d+ bytes \(attempt 1/3\)$`,
		},
		{
			name: "waiting to retry",
			handler: func(started func()) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503); started() }
			},
			backoff: 10 * time.Second,
			want:    `^GET <URL>: cancelled \(stopped by the test\) while waiting to retry \(attempt 1/3\)$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			var once sync.Once
			started := func() {
				once.Do(func() {
					// Let the client take in what was sent before pulling the plug.
					time.AfterFunc(50*time.Millisecond, func() { cancel(errors.New("stopped by the test")) })
				})
			}
			plain, requests := counted(t, tt.handler(started))
			raw := withSecrets(t, plain+"/iso")
			logs := &logSink{}
			c := &Client{Attempts: 3, Backoff: tt.backoff, StallTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, Log: logs.logf}
			root := t.TempDir()
			dest := Plan{OS: "testbed", Algorithm: "sha256", Digest: digestOf(payload), FileName: "x.iso"}.CachePath(root)
			t0 := time.Now()
			_, err := c.Download(ctx, raw, dest, Want{Algorithm: "sha256", Digest: digestOf(payload)})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(%v, context.Canceled) = false", err)
			}
			re := strings.ReplaceAll(tt.want, "<URL>", regexp.QuoteMeta(redact.URL(raw)))
			if !regexp.MustCompile(re).MatchString(err.Error()) {
				t.Errorf("error\n  %s\ndoes not match\n  %s", err, re)
			}
			assertNoSecrets(t, "error", err.Error())
			assertNoSecrets(t, "log", logs.String())
			if d := time.Since(t0); d > 3*time.Second {
				t.Errorf("the cancel took %s to take effect", d)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("requests = %d, want 1 (a cancel is not retried)", n)
			}
			if got := dirNames(t, root); got != "" {
				t.Errorf("the cancelled download left %q in the cache root", got)
			}
		})
	}
}

// The rate floor ends trickles, not transfers that are slow but steady: about 100 KiB/s against a
// floor of 16 KiB/s, over several windows.
func TestSteadyTransferAboveMinRate(t *testing.T) {
	plain, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		sendPrefix(w, 0)
		for off := 0; off < len(payload); off += 2 << 10 {
			if _, err := w.Write(payload[off:min(off+2<<10, len(payload))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	c := &Client{Attempts: 1, MinRate: 16 << 10, RateWindow: 250 * time.Millisecond}
	res, err := c.Download(context.Background(), plain+"/iso", t.TempDir()+"/x.iso", Want{Algorithm: "sha256", Digest: digestOf(payload)})
	if err != nil || res.Bytes != int64(len(payload)) {
		t.Fatalf("%+v, %v", res, err)
	}
}

// The default client bounds every phase before the body and still honours the proxy environment.
func TestDefaultTransport(t *testing.T) {
	c := &Client{HeaderTimeout: 7 * time.Second}
	tr, ok := c.http().Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", c.http().Transport)
	}
	if tr.TLSHandshakeTimeout != DefaultTLSHandshakeTimeout || tr.ResponseHeaderTimeout != 7*time.Second || tr.DialContext == nil {
		t.Errorf("TLS %s, header %s, dialer set %v", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.DialContext != nil)
	}
	if tr.Proxy == nil {
		t.Error("the proxy environment is ignored")
	}
	if c.http() != c.http() {
		t.Error("each request gets a new client: no connection reuse")
	}
	if c.http().Timeout != 0 {
		t.Error("an overall timeout would kill long downloads")
	}
}

// A caller's HTTP client is used as is: its transport's limits apply, reported without a duration
// this package does not know.
func TestHTTPOverride(t *testing.T) {
	plain, requests := counted(t, func(w http.ResponseWriter, r *http.Request) { hold(r) })
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 150 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	raw := withSecrets(t, plain+"/SHA256SUMS")
	logs := &logSink{}
	c := &Client{HTTP: &http.Client{Transport: tr}, Attempts: 1, HeaderTimeout: time.Hour, Log: logs.logf}
	_, err := c.Get(context.Background(), raw, 1<<20)
	checkFailure(t, err, raw, []string{"GET <URL>: no response headers in time (net/http: timeout awaiting response headers) (attempt 1/1: gave up after 1 attempt)"}, logs)
	if requests.Load() != 1 {
		t.Errorf("requests = %d", requests.Load())
	}
}
