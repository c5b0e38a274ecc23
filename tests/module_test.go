//go:build e2e

package tests

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// `dagger functions` is the CLI help: every function is listed with its doc comment.
func TestModuleFunctionsHaveHelp(t *testing.T) {
	t.Parallel()
	r := daggerCallRaw(t, 10*time.Minute, "functions")
	out := r.mustSucceed(t)
	for _, fn := range []string{"build", "build-all", "fetch-iso", "toolchain", "packer-build", "validate", "scan", "list", "accelerator", "doctor", "publish"} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == fn {
				found = true
			}
		}
		if !found {
			t.Errorf("dagger functions does not list %q with a description:\n%s", fn, out)
		}
	}
	help := daggerCall(t, 5*time.Minute, "build", "--help").mustSucceed(t)
	testcheck.ContainsAll(t, "build --help", help,
		"--os string", "--formats string", "--fail-on CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN,NONE", "--skip-zone-cases strings")
	// What every build shares is the module's, listed once by the call's own help.
	modHelp := daggerCall(t, 5*time.Minute, "--help").mustSucceed(t)
	testcheck.ContainsAll(t, "dagger call --help", modHelp,
		"--accel AUTO,KVM,TCG", "--packer-version string", "--mirror-service Service", "--trivy-db Directory", "--source-commit string")
}

// list --format json is what CI matrices are computed from.
func TestModuleListJSON(t *testing.T) {
	t.Parallel()
	out := daggerCall(t, 10*time.Minute, "list", "--format", "json").mustSucceed(t)
	var entries []struct {
		ID      string `json:"id"`
		Fixture bool   `json:"fixture"`
		Formats []string
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("list --format json is not JSON: %v\n%s", err, out)
	}
	ids := map[string]bool{}
	for _, e := range entries {
		ids[e.ID] = true
	}
	for _, want := range []string{"ubuntu-22.04", "almalinux-9", "rocky-9", "centos-stream-9", "fedora-41", "testbed"} {
		if !ids[want] {
			t.Errorf("list --format json lacks %q: %v", want, ids)
		}
	}
	table := daggerCall(t, 5*time.Minute, "list").mustSucceed(t)
	if !strings.Contains(table, "OS") || !strings.Contains(table, "fedora") {
		t.Errorf("list table:\n%s", table)
	}
}
