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
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify/sigstoretest"
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
		{"tool without --tool", []string{"tool"}, 1, "missing --tool: give NAME@VERSION, e.g. packer@1.9.4 (tools: packer, trivy)", false},
		{"tool without a version", []string{"tool", "--tool", "packer"}, 1, `--tool "packer": give NAME@VERSION, e.g. packer@1.9.4`, false},
		{"unknown tool", []string{"tool", "--tool", "terraform@1.5.7"}, 1, `no release path for tool "terraform": the tools with one are packer, trivy`, false},
		{"trivy without bundles", []string{"tool", "--tool", "trivy@0.57.1"}, 1, "no verifiable release of trivy 0.57.1: Trivy publishes Sigstore bundles (<asset>.sigstore.json), which verify offline, since v0.68.1; " +
			"earlier releases carry only a cosign .sig and .pem, whose transparency-log entry can only be checked online; use 0.68.1 or later, or build it from source", false},
		{"key without a mirror", []string{"tool", "--tool", "packer@1.9.4", "--key", "/k.asc"}, 1, "--key replaces the vendor's key for a --mirror only: give the mirror too", false},
		{"identity without a mirror", []string{"tool", "--tool", "trivy@0.68.2", "--identity", "https://ci.example/release"}, 1, "--identity and --issuer replace the vendor's signer for a --mirror only: give the mirror too", false},
		{"identity for an OS", []string{"get", "--os", "testbed", "--issuer", "https://ci.example"}, 1, "--identity and --issuer are for the tool command", false},
		{"identity for packer", []string{"tool", "--tool", "packer@1.9.4", "--mirror", "http://127.0.0.1:9/", "--identity", "https://ci.example/release"}, 1,
			"--identity and --issuer name a Sigstore signer, and packer's release is signed with OpenPGP: give its signer's armored key with --key", false},
		{"OpenPGP key for trivy", []string{"tool", "--tool", "trivy@0.68.2", "--mirror", "http://127.0.0.1:9/", "--key", "testdata-key"}, 1,
			"--key KEYFILE: trivy's release is signed with Sigstore, so --key gives a Sigstore trusted root: not a Sigstore trusted root (trusted_root.json): ", true},
		{"credentials without a mirror", []string{"get", "--os", "testbed"}, 1, "CST_MIRROR_AUTH is set but no --mirror was given: the credentials are for a mirror only", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := ""
			if tt.name == "credentials without a mirror" {
				auth = "user:SECRETPASS"
			}
			t.Setenv(mirrorAuthEnv, auth)
			args := append([]string(nil), tt.args...)
			want := tt.want
			for i, a := range args {
				if a == "testdata-key" { // an armored OpenPGP key, in a file
					args[i] = filepath.Join(t.TempDir(), "key.asc")
					os.WriteFile(args[i], []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n"), 0o644)
					want = strings.Replace(want, "KEYFILE", args[i], 1)
				}
			}
			code, stdout, stderr := cli(t, args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if strings.Contains(stdout+stderr, "SECRETPASS") {
				t.Errorf("output shows the password:\n%s%s", stdout, stderr)
			}
			switch {
			case want == "":
			case tt.wantPart && !strings.Contains(stderr, want):
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			case !tt.wantPart && lastLine(stderr) != want:
				t.Errorf("last line\n  %s\nwant\n  %s", lastLine(stderr), want)
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

// trivyMirror serves Trivy 0.68.2 laid out like GitHub's release downloads below /github, its
// checksum file's bundle made by ss for signer (identity, issuer); tamper edits the files after.
func trivyMirror(t *testing.T, ss *sigstoretest.Sigstore, identity, issuer string, tamper func(map[string][]byte)) string {
	t.Helper()
	files := map[string][]byte{}
	for p, b := range ss.TrivyRelease(t, "0.68.2", identity, issuer, []byte("#!/bin/sh\necho Version: 0.68.2\n")) {
		files["/github/"+p] = b
	}
	if tamper != nil {
		tamper(files)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := files[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/github"
}

// cst-fetch tool installs Trivy's release from a mirror whose bundles a virtual Sigstore instance
// made, its trusted root given with --key: as Aqua Security's workflow, or as an organisation's own
// identity given with --identity and --issuer. A bundle of another signer, a modified archive, a
// missing bundle or the public-good root fails with one line naming what did not verify.
func TestToolTrivy(t *testing.T) {
	ss := sigstoretest.New(t)
	const (
		aqua      = "https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v0.68.2"
		gha       = "https://token.actions.githubusercontent.com"
		org       = "https://ci.example/mirror/release@refs/tags/v0.68.2"
		orgIssuer = "https://ci.example"
	)
	rootFile := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(rootFile, ss.TrustedRootJSON(t, false), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		identity, issuer string // the bundle's signer
		tamper           func(map[string][]byte)
		flags            []string
		wantErr          string // in the last line of stderr
	}{
		{"Aqua Security's signature", aqua, gha, nil, []string{"--key", rootFile}, ""},
		{"the organisation's signature", org, orgIssuer, nil, []string{"--key", rootFile, "--identity", org, "--issuer", orgIssuer}, ""},
		{"the organisation's signature, its identity not given", org, orgIssuer, nil, []string{"--key", rootFile},
			"is not signed by Aqua Security's release identity " + aqua + " (issuer " + gha + "): the Sigstore bundle does not verify under the trusted root given for this source: failed to verify certificate identity"},
		{"another identity than the one given", aqua, gha, nil, []string{"--key", rootFile, "--identity", org, "--issuer", orgIssuer},
			"is not signed by the identity " + org + " (issuer " + orgIssuer + ") given for the mirror (--identity, --issuer): the Sigstore bundle does not verify"},
		{"modified archive", aqua, gha, func(f map[string][]byte) {
			p := "/github/aquasecurity/trivy/releases/download/v0.68.2/trivy_0.68.2_Linux-64bit.tar.gz"
			f[p] = append(f[p], 0)
		}, []string{"--key", rootFile}, "but the signed checksum file http://"},
		{"modified checksum file", aqua, gha, func(f map[string][]byte) {
			f["/github/aquasecurity/trivy/releases/download/v0.68.2/trivy_0.68.2_checksums.txt"][0] ^= 1
		}, []string{"--key", rootFile}, "failed to verify signature"},
		{"no bundle", aqua, gha, func(f map[string][]byte) {
			delete(f, "/github/aquasecurity/trivy/releases/download/v0.68.2/trivy_0.68.2_checksums.txt.sigstore.json")
		}, []string{"--key", rootFile}, "Sigstore bundle for trivy-0.68.2: GET http://"},
		{"the public-good root", aqua, gha, nil, nil, "under Sigstore's public-good trusted root: failed to verify log inclusion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := trivyMirror(t, ss, tt.identity, tt.issuer, tt.tamper)
			cache, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
			args := append([]string{"tool", "--tool", "trivy@0.68.2", "--mirror", m, "--cache", cache, "--out", out, "--attempts", "1"}, tt.flags...)
			code, stdout, stderr := cli(t, args...)
			if tt.wantErr == "" {
				if code != 0 {
					t.Fatalf("exit %d; stderr:\n%s", code, stderr)
				}
				if b, err := os.ReadFile(filepath.Join(out, "trivy")); err != nil || !strings.Contains(string(b), "Version: 0.68.2") {
					t.Fatalf("installed %q, %v", b, err)
				}
				if p := plan(t, stdout); p.Verified != "signature" || p.OS != "trivy-0.68.2" || !strings.HasSuffix(p.SignatureURL, "/trivy_0.68.2_checksums.txt.sigstore.json") {
					t.Fatalf("plan %+v", p)
				}
				return
			}
			if code != 1 || !strings.Contains(lastLine(stderr), tt.wantErr) {
				t.Fatalf("exit %d, last line\n  %s\nwant it to contain\n  %s", code, lastLine(stderr), tt.wantErr)
			}
			if _, err := os.Stat(filepath.Join(out, "trivy")); !os.IsNotExist(err) {
				t.Fatalf("a failed install left %s", filepath.Join(out, "trivy"))
			}
		})
	}
}

// A fetch evicts the OS's old installers from the cache (fetch.DefaultEviction): the one fetched and
// the most recently used other stay, older ones go, and another OS's entries are left alone.
func TestGetEvictsOldInstallers(t *testing.T) {
	image := bytes.Repeat([]byte("testbed image\n"), 1000)
	m, _ := mirror(t, image, false)
	t.Setenv(mirrorAuthEnv, "user:SECRETPASS")
	cache := t.TempDir()
	old := func(osID string, c byte, age time.Duration) string {
		p := fetch.Plan{OS: osID, FileName: "old.qcow2", Algorithm: "sha256", Digest: strings.Repeat(string(c), 64)}.CachePath(cache)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, []byte("old"), 0o644)
		if err := fetch.MarkUsed(p, time.Now().Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	previous, older, oldest := old("testbed", 'a', 5*time.Hour), old("testbed", 'b', 10*time.Hour), old("testbed", 'c', 20*time.Hour)
	otherOS := old("rocky-9", 'd', 100*time.Hour)
	code, stdout, stderr := cli(t, "get", "--os", "testbed", "--mirror", m, "--cache", cache)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := plan(t, stdout)
	for path, want := range map[string]bool{p.CachePath(cache): true, previous: true, older: false, oldest: false, otherOS: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: present %v, want %v", path, err == nil, want)
		}
	}
	if !strings.Contains(stderr, "evicted testbed/sha256-"+strings.Repeat("b", 64)) {
		t.Errorf("the eviction is not logged:\n%s", stderr)
	}
}
