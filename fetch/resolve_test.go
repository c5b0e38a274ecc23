package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

const plantedPass = "PLANTED-pass-7731"

func sum256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// A mirror may carry credentials: the plan keeps them to download, its printable form does not, and
// a mirror that cannot be a directory is refused without echoing them.
func TestNewPlanMirrorCredentials(t *testing.T) {
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(d, "https://user:"+plantedPass+"@m.example/isos")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.URL, plantedPass) {
		t.Fatalf("the download URL lost its credentials: %s", p.URL)
	}
	b, _ := json.Marshal(p.Redacted())
	if strings.Contains(string(b), plantedPass) {
		t.Fatalf("redacted plan leaks the password: %s", b)
	}
	if !strings.Contains(string(b), "https://REDACTED@m.example/isos/SHA256SUMS") {
		t.Fatalf("redacted plan = %s", b)
	}
	for _, mirror := range []string{
		"https://m.example/isos?X-Amz-Signature=" + plantedPass,
		"https://u:" + plantedPass + "@m.example/isos#frag",
		"ftp://u:" + plantedPass + "@m.example/",
	} {
		_, err := NewPlan(d, mirror)
		if err == nil {
			t.Errorf("NewPlan(%q) accepted it", mirror)
			continue
		}
		if strings.Contains(err.Error(), plantedPass) {
			t.Errorf("NewPlan error echoes the credential: %v", err)
		}
	}
}

// Resolve against a local mirror: the entry for the file must be unambiguous, and no error names the
// mirror's credentials.
func TestResolveChecksumFile(t *testing.T) {
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	file := d.Source.FileName()
	good := sum256("image")
	tests := []struct {
		name, sums, wantErr string
		status              int
	}{
		{name: "one entry", sums: good + "  " + file + "\n"},
		{name: "two digests for the file", sums: good + "  " + file + "\n" + sum256("other") + "  " + file + "\n",
			wantErr: "two different sha256 digests for the same file: line 1"},
		{name: "wrong length", sums: good[:60] + "  " + file + "\n", wantErr: "a sha256 digest has 64 hex characters, this one 60"},
		{name: "not listed", sums: good + "  other.qcow2\n", wantErr: `no sha256 entry for "` + file + `" (it lists other.qcow2)`},
		{name: "checksum file missing", status: http.StatusNotFound, wantErr: "HTTP 404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status != 0 {
					w.WriteHeader(tc.status)
					return
				}
				_, _ = w.Write([]byte(tc.sums))
			}))
			defer srv.Close()
			mirror := strings.Replace(srv.URL, "http://", "http://cst:"+plantedPass+"@", 1)
			p, err := NewPlan(d, mirror)
			if err != nil {
				t.Fatal(err)
			}
			var logs []string
			c := &Client{Attempts: 1, Backoff: time.Millisecond, Log: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
			p, err = c.Resolve(context.Background(), d, p)
			if !testcheck.Err(t, err, tc.wantErr) {
				if p.Digest != good || p.Verified != "unsigned" {
					t.Fatalf("Resolve = %+v", p)
				}
				return
			}
			if strings.Contains(err.Error(), plantedPass) {
				t.Fatalf("error echoes the mirror's password: %v", err)
			}
			for _, l := range logs {
				if strings.Contains(l, plantedPass) {
					t.Fatalf("log line echoes the mirror's password: %s", l)
				}
			}
		})
	}
}

// Credentials from a secret go on every URL of the plan, reach the server as basic authentication,
// and never show in the printable plan.
func TestPlanWithAuth(t *testing.T) {
	d, err := osdefs.Lookup("testbed")
	if err != nil {
		t.Fatal(err)
	}
	var gotUser, gotPass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		_, _ = w.Write([]byte(sum256("image") + "  " + d.Source.FileName() + "\n"))
	}))
	defer srv.Close()
	p, err := NewPlan(d, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, err = p.WithAuth("cst:" + plantedPass + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Client{Attempts: 1}).Resolve(context.Background(), d, p); err != nil {
		t.Fatal(err)
	}
	if gotUser != "cst" || gotPass != plantedPass {
		t.Fatalf("server saw basic auth %q:%q", gotUser, gotPass)
	}
	b, _ := json.Marshal(p.Redacted())
	if strings.Contains(string(b), plantedPass) {
		t.Fatalf("printable plan leaks the password: %s", b)
	}
	for _, bad := range []string{":" + plantedPass, "a\nb:" + plantedPass} {
		if _, err := p.WithAuth(bad); err == nil || strings.Contains(err.Error(), plantedPass) {
			t.Errorf("WithAuth(%q) = %v, want an error that does not repeat it", bad, err)
		}
	}
	if same, err := p.WithAuth(""); err != nil || same != p {
		t.Errorf("empty credentials changed the plan: %+v, %v", same, err)
	}
}
