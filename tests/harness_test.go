//go:build e2e || bench

// Package tests runs cloudstack-templates for real: Go code against the engine, `dagger call` on the
// module, whole template builds of the offline testbed OS. scripts/test.sh brings up the engine and
// the testbed first; these tests fail (never skip) when something they need is missing.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// repoRoot is the module's directory (tests/ is one level down).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

func requireEnv(t *testing.T, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: %s", name, hint)
	}
	return v
}

// hostRun runs a tool on this host (qemu-img, debugfs, bzip2, …) and returns what it printed, stdout
// and stderr together; when the tool fails, so does the test, with the command line and that output.
func hostRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// requireEngine fails the test unless the CLI has an engine to talk to (every dagger call, and the SDK
// client of the engine tests, reads this variable).
func requireEngine(t *testing.T) {
	t.Helper()
	requireEnv(t, "_EXPERIMENTAL_DAGGER_RUNNER_HOST", "run: eval \"$(scripts/engine.sh up)\"")
}

// testbedDir is where scripts/fixtures.sh put the testbed image and its SHA256SUMS.
func testbedDir(t *testing.T) string {
	d := requireEnv(t, "CST_TESTBED_DIR", "export CST_TESTBED_DIR=$(scripts/fixtures.sh)")
	if _, err := os.Stat(filepath.Join(d, "SHA256SUMS")); err != nil {
		t.Fatalf("no testbed in %s: %v (run scripts/fixtures.sh)", d, err)
	}
	return d
}

// replicaDir is where scripts/fixtures.sh put the installer replicas (below the testbed mirror).
func replicaDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(testbedDir(t), "replicas")
	if _, err := os.Stat(filepath.Join(d, "SHA256SUMS")); err != nil {
		t.Fatalf("no installer replicas in %s: %v (run scripts/fixtures.sh)", d, err)
	}
	return d
}

type callResult struct {
	stdout, stderr string
	err            error
	elapsed        time.Duration
}

// daggerCall runs `dagger call ARGS...` in the repository, as a user would. This engine reaches no
// vendor site, so Packer is compiled from source (--tools source) unless the call says otherwise.
func daggerCall(t *testing.T, timeout time.Duration, args ...string) callResult {
	t.Helper()
	for _, a := range args {
		if a == "--tools" || strings.HasPrefix(a, "--tools=") {
			return daggerCallRaw(t, timeout, append([]string{"call"}, args...)...)
		}
	}
	return daggerCallRaw(t, timeout, append([]string{"call", "--tools", "source"}, args...)...)
}

// lostSession is how the engine reports a client session it dropped or has not registered yet: a
// known engine flake (dagger/dagger#9557), never an answer from the module, so a call that hits it is
// run again.
const lostSession = "failed to get requester session"

// daggerCallRaw runs `dagger ARGS...` in the repository, once more when the engine lost the session.
func daggerCallRaw(t *testing.T, timeout time.Duration, args ...string) callResult {
	t.Helper()
	r := daggerRun(t, timeout, args...)
	if r.err != nil && strings.Contains(r.stderr, lostSession) {
		t.Logf("e2e: the engine lost the CLI's session (%s); running the call again", lostSession)
		r = daggerRun(t, timeout, args...)
	}
	return r
}

// daggerRun runs `dagger ARGS...` in the repository, once.
func daggerRun(t *testing.T, timeout time.Duration, args ...string) callResult {
	t.Helper()
	requireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dagger", append([]string{"--progress=plain"}, args...)...)
	cmd.Dir = repoRoot(t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	r := callResult{stdout: out.String(), stderr: errb.String(), err: err, elapsed: time.Since(t0)}
	t.Logf("e2e: dagger %s: %s (err=%v)", strings.Join(args, " "), r.elapsed.Round(time.Millisecond), err)
	return r
}

func (r callResult) mustSucceed(t *testing.T) string {
	t.Helper()
	if r.err != nil {
		t.Fatalf("dagger call failed: %v\nstderr (tail):\n%s", r.err, tail(r.stderr, 80))
	}
	return r.stdout
}

// mustFailWith asserts a failed call whose output contains every want.
func (r callResult) mustFailWith(t *testing.T, wants ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("dagger call succeeded, want failure containing %q\nstdout:\n%s", wants, tail(r.stdout, 40))
	}
	all := r.stdout + r.stderr
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q\nstderr (tail):\n%s", w, tail(r.stderr, 60))
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// mirror is a local ISO mirror that counts what it serves and fails on demand, to prove retries,
// caching and error messages against a real HTTP peer.
type mirror struct {
	dir  string
	port int
	srv  *http.Server

	mu       sync.Mutex
	requests map[string]int
	bytes    map[string]int64
	faults   map[string][]fault
	auth     map[string]string // the basic-auth credentials of the last request per path
}

// fault is what the mirror does to the next request for a path.
type fault struct {
	status   int  // answer this status instead of the file
	truncate bool // announce the full length, send half
	corrupt  bool // flip the content (a checksum mismatch)
}

func startMirror(t *testing.T, dir string) *mirror {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mirror{dir: dir, port: ln.Addr().(*net.TCPAddr).Port, requests: map[string]int{}, bytes: map[string]int64{}, faults: map[string][]fault{}, auth: map[string]string{}}
	m.srv = &http.Server{Handler: m}
	go func() { _ = m.srv.Serve(ln) }()
	t.Cleanup(func() { _ = m.srv.Close() })
	return m
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	m.mu.Lock()
	m.requests[name]++
	if u, p, ok := r.BasicAuth(); ok {
		m.auth[name] = u + ":" + p
	}
	var f fault
	if q := m.faults[name]; len(q) > 0 {
		f, m.faults[name] = q[0], q[1:]
	}
	m.mu.Unlock()
	if f.status != 0 {
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	data, err := os.ReadFile(filepath.Join(m.dir, filepath.FromSlash(path.Clean("/"+name))))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if f.corrupt {
		data = append([]byte(nil), data...)
		for i := 0; i < len(data) && i < 4096; i++ {
			data[i] ^= 0xff
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if f.truncate {
		data = data[:len(data)/2]
	}
	n, _ := w.Write(data)
	m.mu.Lock()
	m.bytes[name] += int64(n)
	m.mu.Unlock()
}

// inject queues faults for the next requests of a path.
func (m *mirror) inject(path string, faults ...fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults[path] = append(m.faults[path], faults...)
}

// authOf returns the basic-auth credentials the last request for path carried ("" for none).
func (m *mirror) authOf(path string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.auth[path]
}

func (m *mirror) count(path string) (requests int, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[path], m.bytes[path]
}

// flags are the dagger call flags that route the testbed's downloads to this mirror.
func (m *mirror) flags() []string {
	return []string{"--mirror", fmt.Sprintf("http://testbed-mirror:%d", m.port), "--mirror-service", fmt.Sprintf("tcp://localhost:%d", m.port)}
}

// trivyDB generates the test vulnerability DB (with the planted openssh CVE) once per run.
var (
	trivyOnce sync.Once
	trivyDir  string
	trivyErr  error
)

func trivyDB(t *testing.T) string {
	t.Helper()
	trivyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cst-trivydb-")
		if err != nil {
			trivyErr = err
			return
		}
		cmd := exec.Command("go", "run", ".", dir)
		cmd.Dir = filepath.Join(repoRoot(t), "scripts", "trivydb")
		out, err := cmd.CombinedOutput()
		if err != nil {
			trivyErr = fmt.Errorf("generate trivy DB: %v\n%s", err, out)
		}
		trivyDir = dir
	})
	if trivyErr != nil {
		t.Fatal(trivyErr)
	}
	return trivyDir
}

// artifactStem is the stem of a build's artifact names (the pipeline's artifactName).
func artifactStem(d osdefs.Definition) string {
	return fmt.Sprintf("%s-%s-x86_64", d.ID, d.Version)
}
