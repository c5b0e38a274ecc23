//go:build e2e

package tests

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// Bad input fails fast with a message that names the input and the valid choices.
func TestFaultsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"unknown OS", []string{"build", "--os", "plan9"},
			[]string{`unknown OS "plan9": choose one of almalinux`, "testbed (fixture, debian-testbed)", "ubuntu-22.04 (ubuntu, jammy"}},
		{"unknown format", []string{"build", "--os", "testbed", "--formats", "qcow2,iso"},
			[]string{`unknown format "iso": choose from qcow2, vhd, ova`}},
		{"unknown severity", []string{"build", "--os", "testbed", "--fail-on", "SEVERE"},
			[]string{`invalid argument "SEVERE" for "--fail-on" flag: value should be one of CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN,NONE`}},
		{"conflicting flags", []string{"--trivy-db", ".", "build", "--os", "testbed", "--skip-scan"},
			[]string{"--skip-scan and --trivy-db contradict each other"}},
		{"bad source commit", []string{"--source-commit", "main", "list"},
			[]string{`--source-commit "main" is not a git commit ID (40 or 64 lower-case hex digits)`}},
		{"unknown accelerator", []string{"--accel", "hvf", "list"},
			[]string{`invalid argument "hvf" for "--accel" flag: value should be one of AUTO,KVM,TCG`}},
		{"bad mirror", []string{"--mirror", "ftp://isos.example", "fetch-iso", "--os", "testbed"},
			[]string{`mirror "ftp://isos.example" is not an http(s) URL`}},
		{"credentials in the mirror URL", []string{"--mirror", "http://u:pw@isos.example/x", "list"},
			[]string{`--mirror "http://REDACTED@isos.example/x" carries credentials`, "--mirror-auth env:MIRROR_AUTH"}},
		{"bad Debian mirror", []string{"--debian-mirror", "deb.debian.org/debian", "testbed"},
			[]string{`--debian-mirror "deb.debian.org/debian" is not an http(s) URL like http://deb.debian.org/debian`}},
		{"credentials in the Debian mirror", []string{"--debian-mirror", "http://u:pw@apt.example/debian", "list"},
			[]string{`--debian-mirror "http://REDACTED@apt.example/debian" carries credentials`}},
		{"credentials in the publish URL", []string{"publish", "--metadata", "README.md", "--url", "https://u:pw@files.example/t.qcow2?X-Amz-Signature=abc",
			"--endpoint", "https://cloud.example/client/api", "--api-key", "env:HOME", "--secret-key", "env:HOME", "--zone", "z1"},
			[]string{`--url "https://REDACTED@files.example/t.qcow2?REDACTED" carries credentials`, "--signed-url env:SIGNED_URL"}},
		{"unknown zone case", []string{"build", "--os", "testbed", "--skip-zone-cases", "vmware-vr"},
			[]string{`--skip-zone-cases: zone case "vmware-vr" does not exist; the cases are config-drive, kvm-vr, xen-vr`}},
		{"every zone case skipped", []string{"validate", "--image", "README.md", "--skip-zone-cases", "config-drive,kvm-vr,xen-vr"},
			[]string{"--skip-zone-cases skips every zone case (config-drive, kvm-vr, xen-vr): turn the boot test off instead (validate --boot-test=false, build --skip-validation)"}},
		{"unknown qcow2 compression", []string{"--qcow2-compression", "lz4", "list"},
			[]string{`invalid argument "lz4" for "--qcow-2-compression" flag: value should be one of ZLIB,ZSTD`}},
		{"unknown tools source", []string{"--tools", "binary", "list"},
			[]string{`invalid argument "binary" for "--tools" flag: value should be one of RELEASE,SOURCE`}},
		{"tools key without release", []string{"--tools", "source", "--tools-key", "README.md", "list"},
			[]string{"--tools-mirror, --tools-mirror-service and --tools-key are for --tools release"}},
		{"tools mirror with credentials", []string{"--tools", "release", "--tools-mirror", "https://u:pw@mirror.example/hc", "list"},
			[]string{`tools mirror "https://REDACTED@mirror.example/hc" is not an http(s) directory URL without credentials`}},
		{"pushgateway with credentials", []string{"--metrics-push", "http://u:pw@push.example:9091", "list"},
			[]string{`--metrics-push "http://REDACTED@push.example:9091" is not an http(s) Pushgateway URL without credentials or query`}},
		{"unknown OS in filter", []string{"build-all", "--os-filter", "fedora,beos"},
			[]string{`unknown OS "beos": choose one of`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := daggerCall(t, 10*time.Minute, tt.args...)
			r.mustFailWith(t, tt.wants...)
			// Rejected before anything slow: no stage ran.
			if strings.Contains(r.stderr, "stage started") {
				t.Errorf("bad input was rejected only after a stage started:\n%s", tail(r.stderr, 30))
			}
		})
	}
}

// --accel kvm follows the probe: where KVM cannot run a guest it fails after the probe alone, with its
// evidence, and auto falls back to TCG; where it can, both use KVM. What the evidence says depends on
// the host: a device that does not boot guests (nested or paravirtual KVM), or no KVM driver at all.
func TestFaultsKVMUnusable(t *testing.T) {
	t.Parallel()
	dec := hostAccel(t)
	// The call's timeout is the hang guard: on a cold engine the probe image is built first, which
	// takes minutes when the other suites run beside it.
	r := daggerCall(t, 25*time.Minute, "--accel", "kvm", "accelerator")
	if dec.boots {
		if out := r.mustSucceed(t); !strings.Contains(out, "accelerator: kvm") {
			t.Errorf("--accel kvm on a host where KVM boots guests:\n%s", out)
		}
		return
	}
	r.mustFailWith(t, "--accel kvm: KVM cannot run a guest on this engine", dec.reason, "use --accel tcg")
	auto := daggerCall(t, 15*time.Minute, "accelerator").mustSucceed(t)
	if !strings.Contains(auto, "accelerator: tcg") || !strings.Contains(auto, "boots a guest: false") || !strings.Contains(auto, dec.reason) {
		t.Errorf("auto decision on this host:\n%s", auto)
	}
}

// Downloads: transient failures are retried, permanent ones named, corrupt ones leave nothing cached.
func TestFaultsDownloads(t *testing.T) {
	t.Parallel()
	// Each case has its own installer (random bytes with their own SHA256SUMS) under its own path:
	// the ISO cache is keyed by digest, so no case can be answered from another's cache entry.
	prefix := fmt.Sprintf("%d", time.Now().UnixNano())
	const size = 16 << 20
	root := t.TempDir()
	for _, sub := range []string{"flaky", "gone", "truncated", "wrong-checksum"} {
		dir := filepath.Join(root, prefix+"-"+sub)
		data := make([]byte, size)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, osdefs.TestbedImage), data, 0o644); err != nil {
			t.Fatal(err)
		}
		writeChecksumFile(t, dir, data)
	}
	mir := startMirror(t, root)
	fetchArgs := func(sub string) []string {
		return []string{"--mirror", fmt.Sprintf("http://testbed-mirror:%d/%s-%s", mir.port, prefix, sub),
			"--mirror-service", fmt.Sprintf("tcp://localhost:%d", mir.port),
			"fetch-iso", "--os", "testbed", "--stall-timeout", "10s", "size"}
	}
	iso := prefix + "-%s/" + osdefs.TestbedImage
	sums := prefix + "-%s/SHA256SUMS"

	t.Run("503 twice then success", func(t *testing.T) {
		mir.inject(fmt.Sprintf(iso, "flaky"), fault{status: 503}, fault{status: 503})
		r := daggerCall(t, 20*time.Minute, fetchArgs("flaky")...)
		if got := fetchedSize(t, r.mustSucceed(t)); got != size {
			t.Errorf("fetched %d bytes, want %d", got, size)
		}
		if n, _ := mir.count(fmt.Sprintf(iso, "flaky")); n != 3 {
			t.Errorf("ISO requests %d, want 3 (two 503s, one success)", n)
		}
		if !strings.Contains(r.stderr, "HTTP 503 Service Unavailable); retrying in") {
			t.Errorf("retries were not logged:\n%s", tail(r.stderr, 40))
		}
	})

	// A mirror that asks for credentials gets them from a secret (--mirror-auth): they reach the
	// mirror, and nothing the call prints (the engine's progress, cst-fetch's log, the error) has them.
	t.Run("persistent 404 behind a password", func(t *testing.T) {
		const auth = "cst:PLANTED-mirror-pass-4417"
		env := fmt.Sprintf("CST_TEST_MIRROR_AUTH_%s", prefix)
		if err := os.Setenv(env, auth); err != nil { // t.Setenv refuses parallel tests
			t.Fatal(err)
		}
		mir.inject(fmt.Sprintf(sums, "gone"), fault{status: 404})
		r := daggerCall(t, 10*time.Minute, append([]string{"--mirror-auth", "env:" + env}, fetchArgs("gone")...)...)
		r.mustFailWith(t, fmt.Sprintf("checksum file for testbed: GET http://REDACTED@testbed-mirror:%d/%s-gone/SHA256SUMS: HTTP 404 Not Found", mir.port, prefix))
		if n, _ := mir.count(fmt.Sprintf(sums, "gone")); n != 1 {
			t.Errorf("a 404 was requested %d times, want 1 (no retries for permanent errors)", n)
		}
		if got := mir.authOf(fmt.Sprintf(sums, "gone")); got != auth {
			t.Errorf("the mirror saw credentials %q, want the --mirror-auth secret", got)
		}
		if strings.Contains(r.stdout+r.stderr, "PLANTED-mirror-pass") {
			t.Errorf("the mirror's password appears in the call's output:\n%s", tail(r.stderr, 40))
		}
	})

	for _, c := range []struct {
		name  string
		f     fault
		tries int
		want  string
	}{
		// A truncated body is transient (retried five times), a bad digest is not. Through the
		// engine's tunnel to the host the short body shows as a stall: the peer stops sending.
		{"truncated", fault{truncate: true}, 5, "gave up after 5 attempts"},
		{"wrong checksum", fault{corrupt: true}, 1, "the download is corrupt or was tampered with; nothing was cached"},
	} {
		t.Run(c.name+" caches nothing", func(t *testing.T) {
			sub := strings.ReplaceAll(c.name, " ", "-")
			path := fmt.Sprintf(iso, sub)
			for i := 0; i < c.tries; i++ {
				mir.inject(path, c.f)
			}
			daggerCall(t, 20*time.Minute, fetchArgs(sub)...).mustFailWith(t, c.want)
			before, _ := mir.count(path)
			// A later good run downloads again: nothing half-written was left in the cache.
			r := daggerCall(t, 20*time.Minute, fetchArgs(sub)...)
			if got := fetchedSize(t, r.mustSucceed(t)); got != size {
				t.Errorf("fetched %d bytes after the failure, want %d", got, size)
			}
			if after, _ := mir.count(path); after != before+1 {
				t.Errorf("the good run made %d requests, want 1 (the failed one must not have cached anything)", after-before)
			}
		})
	}
}

// fetchedSize reads `fetch-iso ... size` output (the CLI may print large integers as floats).
func fetchedSize(t *testing.T, out string) int64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		t.Fatalf("fetch-iso size printed %q", out)
	}
	return int64(f)
}

// brokenMirror serves an image that boots nothing, with a valid checksum file.
func brokenMirror(t *testing.T) *mirror {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, osdefs.TestbedImage)
	hostRun(t, "qemu-img", "create", "-q", "-f", "qcow2", img, "1G")
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	writeChecksumFile(t, dir, data)
	return startMirror(t, dir)
}

// writeChecksumFile writes the SHA256SUMS that lists data as the testbed image in dir.
func writeChecksumFile(t *testing.T, dir string, data []byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(hex.EncodeToString(sum[:])+"  "+osdefs.TestbedImage+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A guest that never answers SSH fails within the configured timeout, quoting its serial console;
// nothing is exported.
func TestFaultsGuestNeverAnswersSSH(t *testing.T) {
	t.Parallel()
	mir := brokenMirror(t)
	out := filepath.Join(t.TempDir(), "out")
	args := append(mir.flags(), "build", "--os", "testbed", "--ssh-timeout", "45s", "--skip-scan")
	r := daggerCall(t, 20*time.Minute, append(args, "export", "--path", out)...)
	// A blank disk: SeaBIOS finds nothing to boot and, writing only to the screen, leaves the serial
	// console empty; the error says so rather than showing nothing.
	r.mustFailWith(t, "packer build of testbed (accelerator "+hostAccel(t).accel+")", "Timeout waiting for SSH", "guest serial console, last 25 lines", "(empty: the guest printed nothing)")
	if r.elapsed > 10*time.Minute {
		t.Errorf("an SSH timeout of 45s took %s to surface", r.elapsed)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed build exported %s", out)
	}
}

// The boot test fails on a broken image, naming the check and showing the console.
func TestFaultsValidateBrokenImage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := filepath.Join(dir, "blank.qcow2")
	hostRun(t, "qemu-img", "create", "-q", "-f", "qcow2", img, "1G")
	r := daggerCall(t, 20*time.Minute, "--accel", "tcg", "validate", "--image", img, "--boot-timeout", "60s",
		"--skip-zone-cases", "kvm-vr,xen-vr")
	r.mustFailWith(t, "validation failed", "zone config-drive: cloud-init finishes", "no cloud-init final message within 60s",
		"guest filesystem readable", "zone config-drive: SSH key from metadata logs in")

}

// build-all with one broken OS: the others finish, the summary names the failure, the call fails.
func TestFaultsBuildAllOneBroken(t *testing.T) {
	t.Parallel()
	mir := startMirror(t, testbedDir(t))
	db := trivyDB(t)
	args := append(mir.flags(), "--trivy-db", db, "build-all", "--os-filter", "testbed,fedora", "--formats", "qcow2", "--fail-on", "NONE")
	r := daggerCall(t, 60*time.Minute, append(args, "entries")...)
	// fedora's files are not on the testbed mirror: it fails; testbed builds.
	r.mustFailWith(t, "1 of 2 builds failed", "HTTP 404 Not Found", "1 built, 1 failed")
	summary := map[string]string{}
	for _, line := range strings.Split(r.stderr, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && (f[0] == "testbed" || f[0] == "fedora-41") {
			summary[f[0]] = f[1]
		}
	}
	if summary["testbed"] != "ok" || summary["fedora-41"] != "FAILED" {
		t.Errorf("summary rows: %v; want testbed ok, fedora-41 FAILED", summary)
	}
}
