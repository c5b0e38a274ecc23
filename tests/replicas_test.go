//go:build e2e

package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// The installer path of every vendor OS, proven on its replica: Packer boots the replica ISO, types
// the vendor definition's own boot command into the vendor's boot menu after its boot wait, the
// installer fetches the vendor's install config from Packer's HTTP server (byte for byte what
// osdefs/files holds), installs, reboots into the installed system, and Packer logs in with the
// definition's SSH login and runs the provisioners. Each replica comes from the module itself (the
// replicas function, served under the testbed mirror's name), as `dagger call build --os
// rocky-9-fixture` takes it on any engine: no --mirror, nothing served from this host.
func TestInstallerReplicas(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, d := range osdefs.All() {
		if d.IsReplica() {
			ids = append(ids, d.ID)
		}
	}
	if len(ids) != 5 {
		t.Fatalf("catalogue has %d installer replicas, want 5: %v", len(ids), ids)
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			d, err := osdefs.Lookup(id)
			if err != nil {
				t.Fatal(err)
			}
			// The whole build but the scan (the testbed's build covers it): install, provisioning, and
			// validation with the zone matrix, as for a vendor ISO.
			// One of them ships a zstd-compressed qcow2, the constructor's other choice.
			var ctor []string
			if id == "ubuntu-22.04-fixture" {
				ctor = []string{"--qcow2-compression", "zstd"}
			}
			out := filepath.Join(t.TempDir(), "out")
			r := daggerCall(t, 60*time.Minute, append(ctor,
				"build", "--os", id, "--skip-scan", "--formats", "qcow2", "export", "--path", out)...)
			if r.err != nil {
				t.Fatalf("build %s failed: %v\n%s", id, r.err, tail(r.stderr, 80))
			}
			serial, _ := os.ReadFile(filepath.Join(out, "logs", "serial.log"))
			packerLog, _ := os.ReadFile(filepath.Join(out, "logs", "packer.log"))
			t.Logf("e2e: %s installed, provisioned and validated in %s", id, r.elapsed.Round(time.Second))
			checkReplicaInstall(t, d, string(serial), string(packerLog))
			report, err := os.ReadFile(filepath.Join(out, "validation.txt"))
			if err != nil {
				t.Fatalf("no validation report: %v", err)
			}
			checkZoneMatrix(t, string(report))
			want := "zlib"
			if len(ctor) > 0 {
				want = "zstd"
			}
			if c := qemuImgInfo(t, filepath.Join(out, artifactStem(d)+".qcow2")).FormatSpecific.Data.CompressionType; c != want {
				t.Errorf("qcow2 compression %q, want %s", c, want)
			}
		})
	}
}

var fetchedRe = regexp.MustCompile(`cst-installer: fetched http://[0-9.]+:\d+/(\S+): (\d+) bytes, sha256 ([0-9a-f]{64})`)

// checkReplicaInstall reads what the replica installer and Packer reported.
func checkReplicaInstall(t *testing.T, d osdefs.Definition, serial, packerLog string) {
	t.Helper()
	cmdline := lineWith(serial, "cst-installer: kernel command line: ")
	if cmdline == "" {
		t.Fatalf("the installer never started: no command line on the serial console\n%s", tail(serial, 40))
	}
	// What the boot command typed reached the kernel, {{ .HTTPIP }} and {{ .HTTPPort }} filled in.
	typed := strings.Join(d.BootCommand, "")
	for _, want := range []string{"inst.ks=http://", "ds=nocloud-net;s=http://", "inst.repo=http://", "console=ttyS0,115200n8"} {
		if strings.Contains(strings.ReplaceAll(typed, `\;`, ";"), strings.SplitN(want, "http://", 2)[0]) && !strings.Contains(cmdline, want) {
			t.Errorf("the kernel command line lacks %q:\n%s", want, cmdline)
		}
	}
	// Every file of the vendor's install config arrived byte for byte.
	got := map[string]string{}
	for _, m := range fetchedRe.FindAllStringSubmatch(serial, -1) {
		got[m[1]] = m[3]
	}
	files, err := os.ReadDir(filepath.Join(repoRoot(t), "osdefs", "files", d.HTTPDir))
	if err != nil {
		t.Fatal(err)
	}
	fetched := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "osdefs", "files", d.HTTPDir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if h, ok := got[f.Name()]; ok {
			fetched++
			if h != hex.EncodeToString(sum[:]) {
				t.Errorf("%s arrived with sha256 %s, but osdefs/files/%s/%s has %s", f.Name(), h, d.HTTPDir, f.Name(), hex.EncodeToString(sum[:]))
			}
		}
	}
	if fetched == 0 {
		t.Errorf("the installer fetched none of osdefs/files/%s:\n%s", d.HTTPDir, tail(serial, 40))
	}
	for _, want := range []string{"cst-installer: install config accepted", "cst-installer: account " + d.SSHUsername + ": password set from the install config",
		"rebooting into the installed system"} {
		if !strings.Contains(serial, want) {
			t.Errorf("serial console lacks %q:\n%s", want, tail(serial, 40))
		}
	}
	// Packer logged in to the installed system with the definition's login and ran the provisioners.
	for _, want := range []string{"cloudstack.sh: guest prepared for CloudStack", "cleanup.sh: guest sealed"} {
		if !strings.Contains(packerLog, want) {
			t.Errorf("packer.log lacks %q: the provisioners did not run in the installed system\n%s", want, tail(packerLog, 30))
		}
	}
}

func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, prefix); i >= 0 {
			return strings.TrimSpace(l[i+len(prefix):])
		}
	}
	return ""
}

// A boot command typed into a menu it was not written for fails the build within minutes, with the
// serial console's tail, not after the definition's 60-minute SSH timeout. Here Fedora's keys meet the
// Ubuntu replica's GRUB (served where the Fedora ISO belongs): "e" opens the default entry's editor,
// <down><down> lands on its "set gfxpayload" line instead of the "linux" line, so the kickstart
// arguments never reach the kernel; the installer finds no kickstart, says so and powers off, and the
// pipeline stops Packer as soon as the guest is gone.
//
// Not parallel: Go runs it before every parallel test, with no other guest on the machine. Which keys
// reach the menu decides what the guest does next, and on two cores shared with three TCG guests a
// boot loader busy redrawing its screen can miss keys (a local run under that load: the guest printed
// nothing for 15 minutes, where alone it reaches the installer in about two).
func TestInstallerReplicaWrongMenu(t *testing.T) {
	src := replicaDir(t)
	dir := t.TempDir()
	fedora, err := osdefs.Lookup("fedora-41" + osdefs.ReplicaSuffix)
	if err != nil {
		t.Fatal(err)
	}
	ubuntu, err := osdefs.Lookup("ubuntu-22.04" + osdefs.ReplicaSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(src, ubuntu.Source.FileName()), filepath.Join(dir, fedora.Source.FileName())); err != nil {
		t.Fatal(err)
	}
	hostRun(t, "sh", "-c", `cd "$1" && sha256sum -- *.iso > SHA256SUMS`, "sums", dir)
	mir := startMirror(t, dir)
	r := daggerCall(t, 25*time.Minute, "--mirror", fmt.Sprintf("http://testbed-mirror:%d", mir.port),
		"--mirror-service", fmt.Sprintf("tcp://localhost:%d", mir.port),
		"packer-build", "--os", fedora.ID, "entries")
	r.mustFailWith(t, "the guest powered off before it answered SSH", "guest serial console, last 25 lines",
		"cst-installer: FATAL: no inst.ks= and no autoinstall on the kernel command line")
	if r.elapsed > 15*time.Minute {
		t.Errorf("a boot command that missed its menu took %s to fail (the SSH timeout is %s)", r.elapsed, fedora.SSHTimeout)
	}
}
