package doctor

import (
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

func TestKVMFindingAgreesWithChooseAccel(t *testing.T) {
	probes := []accelerator.KVMProbe{
		{Arch: "x86_64", Device: true, Boots: true, Seconds: 0.9},
		{Arch: "x86_64", Device: true, Detail: "no sign of life within 15s"},
		{Arch: "x86_64", Detail: "/dev/kvm is missing"},
	}
	for _, p := range probes {
		f := KVMFinding(p)
		d, err := accelerator.ChooseAccel(accelerator.AccelAuto, p)
		if err != nil {
			t.Fatal(err)
		}
		if (f.Status == Pass) != (d.Accel == accelerator.AccelKVM) {
			t.Errorf("probe %+v: doctor says %s, build would use %s", p, f.Status, d.Accel)
		}
		if f.Status != Pass && (f.Remedy == "" || !strings.Contains(f.Detail, "TCG")) {
			t.Errorf("probe %+v: finding %+v lacks the TCG consequence or a remedy", p, f)
		}
	}
}

func TestPlatformFinding(t *testing.T) {
	tests := []struct {
		arch string
		want Status
	}{{"x86_64", Pass}, {"aarch64", Warn}, {"", Fail}}
	for _, tt := range tests {
		if got := PlatformFinding(tt.arch); got.Status != tt.want {
			t.Errorf("PlatformFinding(%q) = %+v, want %s", tt.arch, got, tt.want)
		}
	}
	if f := PlatformFinding("aarch64"); !strings.Contains(f.Remedy, "_EXPERIMENTAL_DAGGER_RUNNER_HOST") {
		t.Errorf("arm64 remedy does not say how to use a remote engine: %q", f.Remedy)
	}
}

func TestDiskFinding(t *testing.T) {
	const g = 1 << 30
	tests := []struct {
		avail, need int64
		want        Status
	}{{100 * g, 30 * g, Pass}, {40 * g, 30 * g, Warn}, {10 * g, 30 * g, Fail}}
	for _, tt := range tests {
		if got := DiskFinding(tt.avail, tt.need); got.Status != tt.want {
			t.Errorf("DiskFinding(%d, %d) = %+v, want %s", tt.avail, tt.need, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "10G", want: 10 << 30},
		{in: "1536M", want: 1536 << 20},
		{in: "2048", want: 2048 << 20}, // a bare number is MiB, as Packer's disk_size reads it
		{in: "1T", want: 1 << 40},
		{in: "big", wantErr: `size "big" is not like 10G or 1536M`},
		{in: "-1G", wantErr: `size "-1G" is not like 10G or 1536M`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			testcheck.Result(t, "ParseSize", got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildNeed(t *testing.T) {
	tests := []struct {
		name, wantErr string
		def           osdefs.Definition
		want          int64
	}{
		{name: "vendor installer", def: osdefs.Definition{ID: "x", DiskSize: "10G"}, want: 3<<30 + 3*(10<<30)},
		{name: "disk image", def: osdefs.Definition{ID: "x", DiskSize: "4G", DiskImage: true}, want: 1<<30 + 3*(4<<30)},
		{name: "unreadable size", def: osdefs.Definition{ID: "x", DiskSize: "huge"}, wantErr: `x: disk size: size "huge"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildNeed(tt.def)
			testcheck.Result(t, "BuildNeed", got, err, tt.want, tt.wantErr)
		})
	}
}

func TestReportTableAndReady(t *testing.T) {
	r := NewReport("tcg", []Finding{
		{Check: "kvm", Status: Warn, Detail: "no kvm", Remedy: "get kvm"},
		{Check: "iso fedora", Status: Fail, Detail: "HTTP 404", Remedy: "use --mirror"},
	})
	if r.Ready {
		t.Error("a failed check left the report ready")
	}
	tab := r.Table()
	testcheck.ContainsAll(t, "table", tab, "kvm", "WARN", "→ get kvm", "FAIL", "NOT ready", "accelerator for builds: tcg")
	if js, err := r.JSON(); err != nil || !strings.Contains(js, `"ready": false`) {
		t.Errorf("JSON: %s %v", js, err)
	}
}
