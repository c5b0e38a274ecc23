//go:build e2e

package tests

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// A build pushes its metrics to the Pushgateway --metrics-push names, as the Pushgateway's API takes
// them (PUT /metrics/job/<job>/<label>/<value>, text format): here a local server in its place,
// which parses the body with Prometheus's own parser.
func TestMetricsPushToPushgateway(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	pushed := map[string][]string{} // path → metric family names
	var parseErr error
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		parser := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
		mu.Lock()
		defer mu.Unlock()
		if err != nil || r.Method != http.MethodPut {
			parseErr = fmt.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
			http.Error(w, "bad push", http.StatusBadRequest)
			return
		}
		for name := range fams {
			pushed[r.URL.Path] = append(pushed[r.URL.Path], name)
		}
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	args := []string{"--metrics-push", fmt.Sprintf("http://pushgateway:%d", port),
		"--metrics-push-service", fmt.Sprintf("tcp://localhost:%d", port), "build", "--os", "testbed", "--skip-scan", "--formats", "qcow2"}
	daggerCall(t, 40*time.Minute, append(args, "export", "--path", t.TempDir())...).mustSucceed(t)

	mu.Lock()
	defer mu.Unlock()
	if parseErr != nil {
		t.Fatalf("the push was not Prometheus text: %v", parseErr)
	}
	names := strings.Join(pushed["/metrics/job/cloudstack_templates/os/testbed"], " ")
	for _, want := range []string{"cloudstack_template_build_success", "cloudstack_template_stage_duration_seconds"} {
		if !strings.Contains(names, want) {
			t.Errorf("the Pushgateway got no %s under job cloudstack_templates, os testbed: %v", want, pushed)
		}
	}
}
