package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// lastLine is the final error line, which the pipeline quotes.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// The command is checked before anything else, and each usage error says what is wrong.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // the last line of stderr, or a part of stderr when wantPart
		wantPart bool
	}{
		{"no command", nil, 2, "usage: cst-fetch resolve|download|get --os ID [flags]", true},
		{"unknown command", []string{"frobnicate", "--os", "testbed"}, 2, `unknown command "frobnicate": use resolve, download, get or tool`, false},
		{"unknown command without flags", []string{"fetch"}, 2, `unknown command "fetch": use resolve, download, get or tool`, false},
		{"missing --os", []string{"resolve"}, 1, "missing --os: choose one of " + strings.Join(osdefs.IDs(), ", "), false},
		{"unknown OS", []string{"get", "--os", "beos"}, 1, `unknown OS "beos": choose one of`, true},
		{"download without --digest", []string{"download", "--os", "testbed"}, 1, "missing --digest: download needs the expected digest (cst-fetch resolve prints it)", false},
		{"bad --digest", []string{"download", "--os", "testbed", "--digest", "abc"}, 1, "--digest: sha256 digest must be 64 hex characters, got 3", false},
		{"zero timeout", []string{"get", "--os", "testbed", "--header-timeout", "0s"}, 1, "--header-timeout must be positive, got 0s", false},
		{"negative rate", []string{"get", "--os", "testbed", "--min-rate", "-1"}, 1, "--min-rate must be 0 (off) or a rate in bytes/s, got -1", false},
		{"stray argument", []string{"resolve", "--os", "testbed", "extra"}, 2, `unexpected argument "extra": every option is a flag (see cst-fetch help)`, false},
		{"unknown flag", []string{"resolve", "--bogus"}, 2, "flag provided but not defined: -bogus", true},
		{"help", []string{"help"}, 0, "", false},
		{"tool without --tool", []string{"tool"}, 1, "missing --tool: give NAME@VERSION, e.g. packer@1.9.4 (tools: packer)", false},
		{"tool without a version", []string{"tool", "--tool", "packer"}, 1, `--tool "packer": give NAME@VERSION, e.g. packer@1.9.4`, false},
		{"unknown tool", []string{"tool", "--tool", "terraform@1.5.7"}, 1, `no release path for tool "terraform": the tools with one are packer`, false},
		{"key without a mirror", []string{"tool", "--tool", "packer@1.9.4", "--key", "/k.asc"}, 1, "--key replaces the vendor's key for a --mirror only: give the mirror too", false},
		{"credentials without a mirror", []string{"get", "--os", "testbed"}, 1, "CST_MIRROR_AUTH is set but no --mirror was given: the credentials are for a mirror only", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := ""
			if tt.name == "credentials without a mirror" {
				auth = "user:SECRETPASS"
			}
			t.Setenv(mirrorAuthEnv, auth)
			code, stdout, stderr := cli(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if strings.Contains(stdout+stderr, "SECRETPASS") {
				t.Errorf("output shows the password:\n%s%s", stdout, stderr)
			}
			switch {
			case tt.want == "":
			case tt.wantPart && !strings.Contains(stderr, tt.want):
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			case !tt.wantPart && lastLine(stderr) != tt.want:
				t.Errorf("last line\n  %s\nwant\n  %s", lastLine(stderr), tt.want)
			}
			if tt.name == "help" && !strings.Contains(stdout, "--min-rate") && !strings.Contains(stdout, "-min-rate") {
				t.Errorf("help lacks the flags:\n%s", stdout)
			}
			if tt.name == "no command" && !strings.Contains(stderr, "-header-timeout") {
				t.Errorf("usage lacks the flags:\n%s", stderr)
			}
		})
	}
}

// mirror serves the testbed image and its checksum file; corrupt serves a different image than the
// checksum file lists. It counts requests without the mirror's credentials (user:SECRETPASS).
func mirror(t *testing.T, image []byte, corrupt bool) (string, *atomic.Int32) {
	sum := sha256.Sum256(image)
	served := image
	if corrupt {
		served = bytes.Repeat([]byte{'x'}, len(image))
	}
	var unauthorised atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, _ := r.BasicAuth(); pass != "SECRETPASS" {
			unauthorised.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/SHA256SUMS":
			_, _ = w.Write([]byte(hex.EncodeToString(sum[:]) + "  testbed-bookworm.qcow2\n"))
		case "/testbed-bookworm.qcow2":
			_, _ = w.Write(served)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &unauthorised
}

// Plans are printed redacted, results are right, and a digest mismatch says where the expected
// digest came from; no credential of the mirror URL shows anywhere.
func TestCommands(t *testing.T) {
	image := bytes.Repeat([]byte("testbed image\n"), 1000)
	sum := sha256.Sum256(image)
	good := hex.EncodeToString(sum[:])
	wrong := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		corrupt bool
		args    []string // after --os testbed --mirror M --cache C --out O
		// inURL puts the credentials in the --mirror URL rather than in CST_MIRROR_AUTH.
		inURL    bool
		wantCode int
		check    func(t *testing.T, stdout, stderr, host, cache, out string)
	}{
		{
			name: "resolve", args: []string{"resolve"}, inURL: true,
			check: func(t *testing.T, stdout, _, host, _, _ string) {
				p := plan(t, stdout)
				if p.Digest != good || p.URL != "http://REDACTED@"+host+"/testbed-bookworm.qcow2" || p.ChecksumURL != "http://REDACTED@"+host+"/SHA256SUMS" {
					t.Errorf("plan %+v", p)
				}
			},
		},
		{
			name: "resolve with CST_MIRROR_AUTH", args: []string{"resolve"},
			check: func(t *testing.T, stdout, _, host, _, _ string) {
				if p := plan(t, stdout); p.Digest != good || p.URL != "http://REDACTED@"+host+"/testbed-bookworm.qcow2" {
					t.Errorf("plan %+v", p)
				}
			},
		},
		{
			name: "get", args: []string{"get"},
			check: func(t *testing.T, stdout, _, _, cache, _ string) {
				p := plan(t, stdout)
				if b, err := os.ReadFile(p.CachePath(cache)); err != nil || !bytes.Equal(b, image) {
					t.Errorf("cache holds no verified image at %s: %v", p.CachePath(cache), err)
				}
			},
		},
		{
			name: "download", args: []string{"download", "--digest", good},
			check: func(t *testing.T, stdout, _, _, _, out string) {
				var res struct {
					Path     string
					CacheHit bool
				}
				if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Path != filepath.Join(out, "testbed-bookworm.qcow2") {
					t.Errorf("result %q: %v", stdout, err)
				}
				if b, err := os.ReadFile(filepath.Join(out, "testbed-bookworm.qcow2")); err != nil || !bytes.Equal(b, image) {
					t.Errorf("no copy in --out: %v", err)
				}
			},
		},
		{
			name: "download with a wrong --digest", args: []string{"download", "--digest", wrong}, wantCode: 1,
			check: func(t *testing.T, _, stderr, host, _, _ string) {
				want := "sha256 of http://REDACTED@" + host + "/testbed-bookworm.qcow2 is " + good + ", but the --digest argument says " + wrong +
					": the download is corrupt or was tampered with; nothing was cached (attempt 1/5)"
				if lastLine(stderr) != want {
					t.Errorf("last line\n  %s\nwant\n  %s", lastLine(stderr), want)
				}
			},
		},
		{
			name: "download names where its digest came from", args: []string{"download", "--digest", wrong, "--digest-from", "the resolved plan"}, wantCode: 1,
			check: func(t *testing.T, _, stderr, _, _, _ string) {
				if !strings.Contains(lastLine(stderr), "but the resolved plan says "+wrong) {
					t.Errorf("last line %s", lastLine(stderr))
				}
			},
		},
		{
			name: "get of a corrupt image", corrupt: true, args: []string{"get"}, wantCode: 1,
			check: func(t *testing.T, _, stderr, host, _, _ string) {
				want := ", but the checksum file http://REDACTED@" + host + "/SHA256SUMS says " + good + ": the download is corrupt"
				if !strings.Contains(lastLine(stderr), want) || !strings.HasPrefix(lastLine(stderr), "sha256 of http://REDACTED@") {
					t.Errorf("last line\n  %s\nwant it to contain\n  %s", lastLine(stderr), want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, unauthorised := mirror(t, image, tt.corrupt)
			host := strings.TrimPrefix(m, "http://")
			if tt.inURL {
				m = "http://user:SECRETPASS@" + host
			} else {
				t.Setenv(mirrorAuthEnv, "user:SECRETPASS\n")
			}
			cache, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
			args := append([]string{tt.args[0], "--os", "testbed", "--mirror", m, "--cache", cache, "--out", out}, tt.args[1:]...)
			code, stdout, stderr := cli(t, args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if strings.Contains(stdout+stderr, "SECRETPASS") {
				t.Errorf("the mirror password shows:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
			if n := unauthorised.Load(); n != 0 {
				t.Errorf("%d requests came without the mirror's credentials", n)
			}
			tt.check(t, stdout, stderr, host, cache, out)
		})
	}
}

func plan(t *testing.T, stdout string) fetch.Plan {
	t.Helper()
	var p fetch.Plan
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("plan %q: %v", stdout, err)
	}
	return p
}
