package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

var payload = []byte(strings.Repeat("cloudstack template payload\n", 4096))

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// faultServer serves payload at /iso after failing the first `fail` requests with `status`;
// truncate makes it announce the full length but send half.
type faultServer struct {
	fail     int32
	status   int
	truncate bool
	requests atomic.Int32
}

func (f *faultServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if n <= f.fail {
		w.WriteHeader(f.status)
		return
	}
	if f.truncate {
		sendPrefix(w, len(payload)/2)
		return
	}
	sendPrefix(w, len(payload))
}

// sendPrefix announces the whole payload's length and sends its first n bytes, flushed, so that a
// handler that goes on to stall, wait or return leaves the client in the middle of the body.
func sendPrefix(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	_, _ = w.Write(payload[:n])
	w.(http.Flusher).Flush()
}

func TestDownload(t *testing.T) {
	good := digestOf(payload)
	tests := []struct {
		name         string
		server       *faultServer
		digest       string
		wantErr      string
		wantRequests int32
		wantCached   bool
	}{
		{name: "ok", server: &faultServer{}, digest: good, wantRequests: 1, wantCached: true},
		{name: "503 twice then ok", server: &faultServer{fail: 2, status: 503}, digest: good, wantRequests: 3, wantCached: true},
		{name: "429 is transient", server: &faultServer{fail: 1, status: 429}, digest: good, wantRequests: 2, wantCached: true},
		{name: "404 is permanent", server: &faultServer{fail: 100, status: 404}, digest: good, wantErr: "HTTP 404 Not Found (attempt 1/3)", wantRequests: 1},
		{name: "persistent 503 gives up", server: &faultServer{fail: 100, status: 503}, digest: good, wantErr: "HTTP 503 Service Unavailable (attempt 3/3: gave up after 3 attempts)", wantRequests: 3},
		{name: "truncated body", server: &faultServer{truncate: true}, digest: good, wantErr: "body truncated after 57344 of 114688 bytes (attempt 3/3: gave up after 3 attempts)", wantRequests: 3},
		{name: "wrong checksum", server: &faultServer{}, digest: strings.Repeat("ab", 32), wantErr: "but the test says " + strings.Repeat("ab", 32) + ": the download is corrupt or was tampered with; nothing was cached (attempt 1/3)", wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.server)
			defer srv.Close()
			root := t.TempDir()
			dest := filepath.Join(root, "os", "x.iso")
			c := &Client{Attempts: 3, Backoff: time.Millisecond}
			res, err := c.Download(context.Background(), srv.URL+"/iso", dest, Want{Algorithm: "sha256", Digest: tt.digest, From: "the test"})
			if testcheck.Err(t, err, tt.wantErr) && !strings.Contains(err.Error(), srv.URL+"/iso") {
				t.Errorf("error %q does not name the URL", err)
			}
			if got := tt.server.requests.Load(); got != tt.wantRequests {
				t.Errorf("requests = %d, want %d", got, tt.wantRequests)
			}
			if tt.wantCached {
				if got := dirNames(t, filepath.Dir(dest)); got != ".x.iso.verified x.iso" || res.Bytes != int64(len(payload)) {
					t.Errorf("cache holds %q, result %+v; want only the verified x.iso and its record", got, res)
				}
			} else if got := dirNames(t, root); got != "" {
				t.Errorf("a failed download left %q in the cache root", got)
			}
		})
	}
}

func TestDownloadCacheHitMakesNoRequest(t *testing.T) {
	var fs faultServer
	srv := httptest.NewServer(&fs)
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "x.iso")
	c := &Client{Backoff: time.Millisecond}
	want := Want{Algorithm: "sha256", Digest: digestOf(payload)}
	if _, err := c.Download(context.Background(), srv.URL+"/iso", dest, want); err != nil {
		t.Fatal(err)
	}
	res, err := c.Download(context.Background(), srv.URL+"/iso", dest, want)
	if err != nil || !res.CacheHit || res.Rehashed {
		t.Fatalf("second download: %+v, %v; want a cache hit", res, err)
	}
	if n := fs.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&StatusError{Status: 503}, true},
		{&StatusError{Status: 500}, true},
		{&StatusError{Status: 408}, true},
		{&StatusError{Status: 404}, false},
		{&StatusError{Status: 403}, false},
		{&TruncatedError{}, true},
		{&StallError{}, true},
		{&SlowError{}, true},
		{&TimeoutError{Phase: PhaseHeaders}, true},
		{&AttemptError{Err: &StatusError{Status: 503}}, true},
		{&DigestError{}, false},
		{context.Canceled, false},
		{&CancelledError{Err: context.DeadlineExceeded}, false},
		{errors.New("read tcp: connection reset by peer"), true},
		{errors.New("no such file"), false},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestNewPlanMirror(t *testing.T) {
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mirror, wantURL, wantSums, wantErr string
	}{
		{"", osdefs.TestbedMirror + "/testbed-bookworm.qcow2", osdefs.TestbedMirror + "/SHA256SUMS", ""},
		{"http://m.example:8080/isos", "http://m.example:8080/isos/testbed-bookworm.qcow2", "http://m.example:8080/isos/SHA256SUMS", ""},
		{"https://m.example/isos/", "https://m.example/isos/testbed-bookworm.qcow2", "https://m.example/isos/SHA256SUMS", ""},
		{"ftp://m.example/", "", "", `mirror "ftp://m.example/" is not an http(s) URL`},
		{"m.example", "", "", `mirror "m.example" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.mirror, func(t *testing.T) {
			p, err := NewPlan(d, tt.mirror)
			if !testcheck.Err(t, err, tt.wantErr) && (p.URL != tt.wantURL || p.ChecksumURL != tt.wantSums) {
				t.Errorf("NewPlan(%q) = %+v", tt.mirror, p)
			}
		})
	}
}

func TestCacheKey(t *testing.T) {
	a := Plan{OS: "fedora", URL: "https://x/a.iso", Algorithm: "sha256", Digest: strings.Repeat("1", 64)}
	respin := a
	respin.Digest = strings.Repeat("2", 64)
	otherMirror := a
	otherMirror.URL = "https://y/a.iso"
	sha512 := a
	sha512.Algorithm, sha512.Digest = "sha512", strings.Repeat("1", 128)
	tests := []struct {
		name string
		b    Plan
		same bool
	}{
		{"a re-spin under the same URL", respin, false},
		{"the same file from another mirror", otherMirror, true},
		{"another algorithm", sha512, false},
	}
	for _, tt := range tests {
		if got := a.CacheKey() == tt.b.CacheKey(); got != tt.same {
			t.Errorf("%s: keys %s and %s, same = %v, want %v", tt.name, a.CacheKey(), tt.b.CacheKey(), got, tt.same)
		}
	}
	if want := "fedora/sha256-" + strings.Repeat("1", 64); a.CacheKey() != want {
		t.Errorf("cache key %q, want %q (namespaced by OS, named by digest)", a.CacheKey(), want)
	}
}

func TestResolveUnsigned(t *testing.T) {
	d, _ := osdefs.Lookup("testbed")
	sums := digestOf(payload) + "  testbed-bookworm.qcow2\r\n"
	mux := http.NewServeMux()
	mux.HandleFunc("/SHA256SUMS", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(sums)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p, err := NewPlan(d, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Backoff: time.Millisecond}
	p, err = c.Resolve(context.Background(), d, p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest != digestOf(payload) || p.Verified != "unsigned" {
		t.Errorf("resolved %+v", p)
	}
	// A checksum file without the entry names the file.
	mux.HandleFunc("/other/SHA256SUMS", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(digestOf(payload) + "  something-else.iso\n"))
	})
	p2, _ := NewPlan(d, srv.URL+"/other")
	if _, err := c.Resolve(context.Background(), d, p2); err == nil || !strings.Contains(err.Error(), `no sha256 entry for "testbed-bookworm.qcow2"`) {
		t.Errorf("missing entry error = %v", err)
	}
}

// A peer that stops sending without closing the connection is a stall: retried, then reported, and
// nothing is cached.
func TestDownloadStall(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		sendPrefix(w, 1000)
		select { // hold the connection open, send nothing more
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "x.iso")
	c := &Client{Attempts: 2, Backoff: time.Millisecond, StallTimeout: 200 * time.Millisecond}
	t0 := time.Now()
	_, err := c.Download(context.Background(), srv.URL+"/iso", dest, Want{Algorithm: "sha256", Digest: digestOf(payload)})
	if err == nil || !strings.Contains(err.Error(), "no data for 200ms after 1000 bytes (attempt 2/2: gave up after 2 attempts)") {
		t.Fatalf("error = %v", err)
	}
	if time.Since(t0) > 3*time.Second {
		t.Errorf("stall detection took %s", time.Since(t0))
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 0 {
		t.Errorf("a stalled download left %v", entries)
	}
}

// dirNames lists a directory's entries, space-separated; "" for an empty or missing directory.
func dirNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}
