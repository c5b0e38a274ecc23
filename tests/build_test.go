//go:build e2e

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// The main job: a full template build of the testbed through `dagger call`, exported and checked
// from the outside: formats, OVA structure, checksums, metadata, the scan's planted CVE, the
// validation (offline inspection and boot test) and the provisioner's mark inside the image.
func TestBuildTestbedEndToEnd(t *testing.T) {
	t.Parallel()
	mir := startMirror(t, testbedDir(t))
	db := trivyDB(t)
	out := filepath.Join(t.TempDir(), "out")
	args := append(mir.flags(), "--trivy-db", db, "--source-commit", testCommit,
		"build", "--os", "testbed", "--fail-on", "NONE", "export", "--path", out)

	cold := daggerCall(t, 70*time.Minute, args...)
	cold.mustSucceed(t)
	isoRequests, isoBytes := mir.count(osdefs.TestbedImage)
	t.Logf("e2e: cold build %s; mirror served %d ISO request(s), %d bytes", cold.elapsed.Round(time.Second), isoRequests, isoBytes)

	name := "testbed-12-x86_64"
	for _, f := range []string{name + ".qcow2", name + ".vhd.bz2", name + ".ova", name + ".qcow2.sha256", name + ".qcow2.sha512",
		name + ".vhd.bz2.sha256", name + ".ova.sha512", "metadata.json", "validation.txt", "scan/scan.json", "scan/sbom.cdx.json",
		"scan/scan.txt", "scan/scan.sarif", "logs/packer.log", "logs/serial.log", "provenance.json", "record.json", "metrics.prom", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("export lacks %s: %v", f, err)
		}
	}

	t.Run("formats", func(t *testing.T) {
		// The VHD ships bzip2-compressed, as CloudStack takes it: unpack a copy to read it.
		vhd := filepath.Join(t.TempDir(), name+".vhd")
		hostRun(t, "sh", "-c", `bzip2 -dc "$1" >"$2"`, "unpack", filepath.Join(out, name+".vhd.bz2"), vhd)
		for file, want := range map[string]string{filepath.Join(out, name+".qcow2"): "qcow2", vhd: "vpc"} {
			info := qemuImgInfo(t, file)
			if info.Format != want {
				t.Errorf("%s: format %q, want %q", file, info.Format, want)
			}
			// disk_size is 2 GiB; VHD rounds up to its CHS geometry (under 1 MiB more).
			if info.VirtualSize < 2<<30 || info.VirtualSize > 2<<30+1<<20 {
				t.Errorf("%s: virtual size %d, want 2 GiB (disk_size)", file, info.VirtualSize)
			}
		}
		// zlib by default: every KVM host's QEMU reads it (zstd is asked for in TestInstallerReplicas).
		if c := qemuImgInfo(t, filepath.Join(out, name+".qcow2")).FormatSpecific.Data.CompressionType; c != "zlib" {
			t.Errorf("qcow2 compression %q, want zlib", c)
		}
	})

	t.Run("ova", func(t *testing.T) {
		f, err := os.Open(filepath.Join(out, name+".ova"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, err := artifacts.InspectOVA(f) // re-hashes every member against the manifest
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range info.Members {
			names = append(names, m.Name)
		}
		want := []string{name + ".ovf", name + ".mf", name + "-disk1.vmdk"}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("OVA members %v, want %v", names, want)
		}
	})

	var md artifacts.Metadata
	t.Run("metadata", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(out, "metadata.json"))
		if err != nil {
			t.Fatal(err)
		}
		if md, err = artifacts.DecodeMetadata(raw); err != nil { // schema + cross-field checks
			t.Fatal(err)
		}
		if err := artifacts.CheckArtifacts(md, out); err != nil { // sizes and digests of the real files
			t.Fatal(err)
		}
		if md.OS.ID != "testbed" || md.Build.SourceCommit != testCommit || md.Build.Accelerator != hostAccel(t).accel {
			t.Errorf("metadata os/commit/accelerator: %+v %+v", md.OS, md.Build)
		}
		stages := map[string]bool{}
		for _, s := range md.Build.Stages {
			stages[s.Name] = true
		}
		for _, s := range []string{"accelerator", "fetch-iso", "toolchain", "packer-build", "validate", "scan", "convert", "checksums"} {
			if !stages[s] {
				t.Errorf("metadata lacks stage %q: %+v", s, md.Build.Stages)
			}
		}
		if len(md.CloudStack) != 3 || md.Build.Tools["packer"] != "1.9.4" || md.Build.Tools["trivy"] != "0.68.2" {
			t.Errorf("metadata cloudStack/tools: %+v %+v", md.CloudStack, md.Build.Tools)
		}
		for _, s := range md.Build.Stages {
			t.Logf("e2e: stage %-12s %6.1fs", s.Name, s.Seconds)
		}
		for _, a := range md.Artifacts {
			t.Logf("e2e: artifact %-28s %6.1f MiB (virtual %d MiB)", a.Name, float64(a.SizeBytes)/(1<<20), a.VirtualSizeBytes>>20)
		}
	})

	t.Run("scan finds the planted CVE", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(out, "scan", "scan.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "CVE-9999-0001") {
			t.Fatalf("scan.json does not report the planted CVE-9999-0001")
		}
		found := false
		if md.Scan != nil {
			for _, v := range md.Scan.Vulnerabilities {
				found = found || (v.ID == "CVE-9999-0001" && strings.HasPrefix(v.Package, "openssh"))
			}
		}
		if !found {
			t.Errorf("metadata scan summary lacks CVE-9999-0001 in openssh: %+v", md.Scan)
		}
		sbom, _ := os.ReadFile(filepath.Join(out, "scan", "sbom.cdx.json"))
		if !strings.Contains(string(sbom), `"bomFormat": "CycloneDX"`) || !strings.Contains(string(sbom), "pkg:deb/debian/openssh-server") {
			t.Errorf("sbom.cdx.json is not a CycloneDX SBOM listing openssh-server")
		}
		// The same findings as SARIF 2.1.0, what GitHub code scanning takes.
		var sarif struct {
			Version string `json:"version"`
			Runs    []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
				} `json:"results"`
			} `json:"runs"`
		}
		sarifRaw, _ := os.ReadFile(filepath.Join(out, "scan", "scan.sarif"))
		if err := json.Unmarshal(sarifRaw, &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
			t.Fatalf("scan.sarif is not SARIF 2.1.0 with one run: %v %q", err, sarif.Version)
		}
		planted := false
		for _, r := range sarif.Runs[0].Results {
			planted = planted || r.RuleID == "CVE-9999-0001"
		}
		if !planted {
			t.Errorf("scan.sarif has no result for the planted CVE-9999-0001")
		}
	})

	t.Run("validation passed", func(t *testing.T) {
		raw, _ := os.ReadFile(filepath.Join(out, "validation.txt"))
		testcheck.ContainsAll(t, "validation.txt", string(raw), "PASS  qemu-img check", "PASS  CloudStack datasource configured",
			"PASS  no SSH host keys", "PASS  machine-id empty", "PASS  provisioner ran (release mark)")
		checkZoneMatrix(t, string(raw))
		// Registration claims what the boot test proved.
		for _, rt := range md.CloudStack {
			if !rt.PasswordEnabled || !rt.SSHKeyEnabled {
				t.Errorf("%s: passwordEnabled=%v sshKeyEnabled=%v after a boot test that proved both", rt.Artifact, rt.PasswordEnabled, rt.SSHKeyEnabled)
			}
		}
	})

	t.Run("provisioner mark inside the image", func(t *testing.T) {
		mark := readGuestFile(t, filepath.Join(out, name+".qcow2"), "/etc/cloudstack-template-release")
		if !strings.Contains(mark, "testbed") {
			t.Errorf("/etc/cloudstack-template-release = %q, want the testbed's build record", mark)
		}
	})

	t.Run("warm rebuild", func(t *testing.T) {
		out2 := filepath.Join(t.TempDir(), "out")
		warmArgs := append(append([]string{}, args[:len(args)-1]...), out2)
		warm := daggerCall(t, 30*time.Minute, warmArgs...)
		warm.mustSucceed(t)
		req2, bytes2 := mir.count(osdefs.TestbedImage)
		t.Logf("e2e: warm build %s (%.1f%% of cold); new ISO requests %d, bytes %d",
			warm.elapsed.Round(time.Second), 100*warm.elapsed.Seconds()/cold.elapsed.Seconds(), req2-isoRequests, bytes2-isoBytes)
		if req2 != isoRequests {
			t.Errorf("the warm build downloaded the ISO again (%d requests before, %d after)", isoRequests, req2)
		}
		a, _ := os.ReadFile(filepath.Join(out, name+".qcow2.sha256"))
		b, _ := os.ReadFile(filepath.Join(out2, name+".qcow2.sha256"))
		if string(a) != string(b) {
			t.Errorf("a warm rebuild with nothing changed produced a different image: %s vs %s", a, b)
		}
	})

	// The gated build names itself in the audit log by this origin.
	gateOrigin := fmt.Sprintf("https://ci.example/runs/%d", time.Now().UnixNano())
	t.Run("severity gate trips", func(t *testing.T) {
		gated := filepath.Join(t.TempDir(), "gated")
		gateArgs := append([]string{"--actor", "e2e-gate", "--origin", gateOrigin}, mir.flags()...)
		gateArgs = append(gateArgs, "--trivy-db", db, "--source-commit", testCommit,
			"build", "--os", "testbed", "--fail-on", "HIGH", "export", "--path", gated)
		daggerCall(t, 30*time.Minute, gateArgs...).mustFailWith(t, "CVE-9999-0001", "openssh")
		if _, err := os.Stat(gated); !os.IsNotExist(err) {
			t.Errorf("a build that failed its gate exported %s (err %v)", gated, err)
		}
	})

	// Provenance: verify passes on the export as it is, and names every change to a copy of it.
	t.Run("provenance verifies", func(t *testing.T) {
		daggerCall(t, 20*time.Minute, "verify", "--dir", out).mustSucceed(t)
		tampered := filepath.Join(t.TempDir(), "tampered")
		hostRun(t, "cp", "-al", out, tampered)
		os.Remove(filepath.Join(tampered, "validation.txt")) // a hard link: replace, never edit in place
		os.WriteFile(filepath.Join(tampered, "validation.txt"), []byte("validation\n  PASS  everything\n"), 0o644)
		os.WriteFile(filepath.Join(tampered, "extra.sh"), []byte("#!/bin/sh\n"), 0o755)
		os.Remove(filepath.Join(tampered, "record.json"))
		daggerCall(t, 20*time.Minute, "verify", "--dir", tampered).mustFailWith(t,
			"changed: validation.txt", "added: extra.sh is not in the provenance", "missing: record.json")
	})

	// Monitoring: the export carries the build as a record, Prometheus metrics and JUnit; the engine
	// kept a record of every build, the failed gate's included, and report summarizes them.
	t.Run("records, metrics and report", func(t *testing.T) {
		checkMonitoringExports(t, out, "testbed")
		records := filepath.Join(t.TempDir(), "records")
		daggerCall(t, 10*time.Minute, "records", "--os", "testbed", "export", "--path", records).mustSucceed(t)
		failed := false
		filepath.WalkDir(records, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, "-failure.record.json") {
				b, _ := os.ReadFile(p)
				failed = failed || (strings.Contains(string(b), `"failedStage": "scan"`) && strings.Contains(string(b), "CVE-9999-0001"))
			}
			return nil
		})
		if !failed {
			t.Errorf("the engine kept no failure record naming the scan stage and CVE-9999-0001 for the gated build")
		}
		report := filepath.Join(t.TempDir(), "report")
		daggerCall(t, 10*time.Minute, "report", "--records", records, "export", "--path", report).mustSucceed(t)
		checkReport(t, report, "testbed")
	})

	// Audit: the engine's log verifies, shows the gated build's failure with who started it and
	// where, and this build's success with the digests of what it exported.
	t.Run("audit log", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		daggerCall(t, 10*time.Minute, "audit", "export", "--path", path).mustSucceed(t)
		checkAuditLog(t, path, out, name, gateOrigin)
	})
}

// readGuestFile reads a file from the image's first partition (MBR, ext4) on the host, without
// mounting or booting anything: qemu-img to raw, then debugfs at the partition's offset.
func readGuestFile(t *testing.T, qcow2, path string) string {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "disk.raw")
	hostRun(t, "qemu-img", "convert", "-O", "raw", qcow2, raw)
	return hostRun(t, "debugfs", "-R", "cat "+path, raw+"?offset=1048576")
}

// editGuestImage copies a qcow2 image with debugfs commands (e.g. "rm /usr/bin/wget") applied to
// its first partition (MBR, ext4), on the host and without mounting anything.
func editGuestImage(t *testing.T, qcow2 string, commands ...string) string {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	hostRun(t, "qemu-img", "convert", "-O", "raw", qcow2, raw)
	cmds := filepath.Join(dir, "debugfs.cmds")
	if err := os.WriteFile(cmds, []byte(strings.Join(commands, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// debugfs reports a command that found nothing and still exits 0.
	if out := hostRun(t, "debugfs", "-w", "-f", cmds, raw+"?offset=1048576"); strings.Contains(out, "not found") {
		t.Fatalf("debugfs %v:\n%s", commands, out)
	}
	edited := filepath.Join(dir, "edited.qcow2")
	hostRun(t, "qemu-img", "convert", "-O", "qcow2", raw, edited)
	os.Remove(raw)
	return edited
}

// testCommit is what the e2e builds record as their source revision.
const testCommit = "0123456789abcdef0123456789abcdef01234567"
