//go:build e2e

package tests

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"
)

// connect opens a session on the engine scripts/engine.sh started (or the one the environment names).
func connect(t *testing.T) (*dagger.Client, context.Context) {
	t.Helper()
	requireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	c, err := dagger.Connect(ctx, dagger.WithLogOutput(os.Stderr))
	if err != nil {
		t.Fatalf("connect to the engine: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ctx
}

// The images pipeline code names resolve by their ordinary names, and they are what they claim.
func TestEngineResolvesImagesByName(t *testing.T) {
	t.Parallel()
	c, ctx := connect(t)
	tests := []struct {
		image string
		cmd   []string
		want  string
	}{
		{"debian:bookworm-slim", []string{"sh", "-c", ". /etc/os-release; echo $ID $VERSION_CODENAME"}, "debian bookworm"},
		{"golang:1.25.4-bookworm", []string{"go", "version"}, "go version go1.25.4 linux/amd64"},
	}
	for _, tt := range tests {
		out, err := c.Container().From(tt.image).WithExec(tt.cmd).Stdout(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s: %q, want %q", tt.image, out, tt.want)
		}
	}
}

// Containers reach Debian's mirror (apt works), as the toolchain stage needs.
func TestEngineContainersInstallPackages(t *testing.T) {
	t.Parallel()
	c, ctx := connect(t)
	out, err := c.Container().From("debian:bookworm-slim").
		WithExec([]string{"sh", "-c", "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends jq >/dev/null && echo '{\"ok\":1}' | jq .ok"}).
		Stdout(ctx)
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("apt-get in a container: %q, %v", out, err)
	}
}

// Privileged execs get the host's KVM device when there is one (the probe then decides whether KVM
// can run guests); unprivileged ones never get a usable one.
func TestEnginePrivilegedExecKVMDevice(t *testing.T) {
	t.Parallel()
	_, hostErr := os.Stat("/dev/kvm")
	c, ctx := connect(t)
	base := c.Container().From("debian:bookworm-slim").WithEnvVariable("NONCE", time.Now().String())
	const probe = "if [ -c /dev/kvm ] && ( : <>/dev/kvm ) 2>/dev/null; then echo usable; else echo unusable; fi"
	out, err := base.WithExec([]string{"sh", "-c", probe}, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).Stdout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "unusable"
	if hostErr == nil {
		want = "usable"
	}
	if strings.TrimSpace(out) != want {
		t.Errorf("privileged exec: /dev/kvm %s, want %s (host /dev/kvm: %v)", strings.TrimSpace(out), want, hostErr)
	}
	out, err = base.WithExec([]string{"sh", "-c", probe}).Stdout(ctx)
	if err != nil || strings.TrimSpace(out) != "unusable" {
		t.Errorf("unprivileged exec: /dev/kvm %q, %v; want unusable", out, err)
	}
}

// Cache volumes keep files across execs and sessions: the ISO cache depends on it.
func TestEngineCacheVolumePersists(t *testing.T) {
	t.Parallel()
	c, ctx := connect(t)
	vol := c.CacheVolume("cloudstack-templates-test-persist")
	nonce := time.Now().Format(time.RFC3339Nano)
	_, err := c.Container().From("debian:bookworm-slim").WithMountedCache("/cache", vol).
		WithExec([]string{"sh", "-c", "echo " + nonce + " > /cache/nonce"}).Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Container().From("debian:bookworm-slim").WithMountedCache("/cache", vol).
		WithEnvVariable("READ", nonce).
		WithExec([]string{"cat", "/cache/nonce"}).Stdout(ctx)
	if err != nil || strings.TrimSpace(out) != nonce {
		t.Fatalf("cache volume read back %q, %v; want %q", out, err, nonce)
	}
}

// The engine's cache cannot grow until its disk is full: its cap stays well inside what its disk can
// hold. Without the cap scripts/engine.sh sets, the engine sizes its collector from blocks it cannot
// write (reserved for another user) and fills the disk; QEMU then pauses guests mid-install.
func TestEngineCacheLeavesRoom(t *testing.T) {
	t.Parallel()
	c, ctx := connect(t)
	cache := c.Engine().LocalCache()
	capBytes, err := cache.MaxUsedSpace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := cache.EntrySet().DiskSpaceBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A container's root is a snapshot on the engine's state filesystem: df there is the engine's disk.
	out, err := c.Container().From("debian:bookworm-slim").
		WithEnvVariable("CST_NOW", time.Now().String()).
		WithExec([]string{"df", "-P", "-B1", "/"}).Stdout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) < 4 {
		t.Fatalf("df printed %q", out)
	}
	avail, err := strconv.ParseInt(fields[3], 10, 64)
	if err != nil {
		t.Fatalf("df printed %q: %v", out, err)
	}
	const margin = 10e9 // what builds write before the collector runs at the end of their session
	t.Logf("engine cache %.1f GB, cap %.1f GB, %.1f GB writable", float64(cached)/1e9, float64(capBytes)/1e9, float64(avail)/1e9)
	if int64(capBytes)+margin > int64(cached)+avail {
		t.Errorf("the engine may grow its cache to %.1f GB, but its disk holds %.1f GB cached + %.1f GB writable: it can fill the disk (run scripts/engine.sh up to cap it)",
			float64(capBytes)/1e9, float64(cached)/1e9, float64(avail)/1e9)
	}
}
