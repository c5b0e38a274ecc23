//go:build e2e

package tests

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace receiver (protobuf), as a collector's otlp receiver would be.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][]map[string]string // span name → attribute sets
	url   string
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{spans: map[string][]map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" {
			w.WriteHeader(http.StatusOK) // logs and metrics are not looked at
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		var msg coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					attrs := map[string]string{}
					for _, kv := range sp.Attributes {
						attrs[kv.Key] = kv.Value.GetStringValue()
					}
					r.spans[sp.Name] = append(r.spans[sp.Name], attrs)
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *otlpReceiver) find(name string, want map[string]string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, attrs := range r.spans[name] {
		ok := true
		for k, v := range want {
			ok = ok && attrs[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

func (r *otlpReceiver) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n []string
	for k := range r.spans {
		if strings.HasPrefix(k, "stage ") {
			n = append(n, k)
		}
	}
	return n
}

// Each stage is a span with its OS, stage and outcome, and the dagger CLI sends it to the OTLP
// collector OTEL_EXPORTER_OTLP_ENDPOINT names (docs/monitoring.md). Here a build whose checksum file
// arrives corrupt on every attempt (the installer itself may be cached by digest; the checksum file is
// read on every build): the fetch-iso span ends as a failure.
func TestTracesReachOTLPCollector(t *testing.T) {
	t.Parallel()
	rcv := startOTLPReceiver(t)
	mir := startMirror(t, testbedDir(t))
	for i := 0; i < 10; i++ {
		mir.inject("SHA256SUMS", fault{corrupt: true})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	args := append(append([]string{"--progress=plain", "call", "--tools", "source"}, mir.flags()...),
		"build", "--os", "testbed", "--skip-scan", "--formats", "qcow2")
	cmd := exec.CommandContext(ctx, "dagger", args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.url, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("a build with a corrupt installer succeeded:\n%s", tail(out.String(), 30))
	}
	// The CLI flushes its exporters before it exits; allow a moment for the last batch.
	deadline := time.Now().Add(30 * time.Second)
	for !rcv.find("stage fetch-iso", map[string]string{"cst.os": "testbed", "cst.stage": "fetch-iso", "cst.outcome": "failure"}) {
		if time.Now().After(deadline) {
			t.Fatalf("the collector got no failed fetch-iso span for testbed; stage spans seen: %v\n%s", rcv.names(), tail(out.String(), 20))
		}
		time.Sleep(time.Second)
	}
	if !rcv.find("stage accelerator", map[string]string{"cst.os": "testbed", "cst.outcome": "success"}) {
		t.Errorf("no successful accelerator span; stage spans seen: %v", rcv.names())
	}
	t.Logf("e2e: stage spans at the collector: %s", fmt.Sprint(rcv.names()))
}
