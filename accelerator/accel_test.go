package accelerator

import (
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestParseProbe(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		want              KVMProbe
	}{
		{name: "KVM boots", in: "arch=x86_64\ndevice=yes\nboots=yes\nseconds=0.8\n",
			want: KVMProbe{Arch: "x86_64", Device: true, Boots: true, Seconds: 0.8}},
		{name: "paravirtual: a device that boots nothing",
			in:   "arch=x86_64\ndevice=yes\nboots=no\nseconds=20\ndetail=no marker after 20s; console: Probing EDD\n",
			want: KVMProbe{Arch: "x86_64", Device: true, Seconds: 20, Detail: "no marker after 20s; console: Probing EDD"}},
		{name: "noise before the keys", in: "noise\narch=aarch64\ndevice=no\nboots=no\n", want: KVMProbe{Arch: "aarch64"}},
		{name: "keys missing", in: "arch=x86_64\n", wantErr: `lacks "device"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProbe(tt.in)
			testcheck.Result(t, "ParseProbe", got, err, tt.want, tt.wantErr)
		})
	}
}

func TestChooseAccel(t *testing.T) {
	works := KVMProbe{Arch: "x86_64", Device: true, Boots: true}
	paravirt := KVMProbe{Arch: "x86_64", Device: true, Detail: "no marker after 20s"}
	absent := KVMProbe{Arch: "x86_64"}
	arm := KVMProbe{Arch: "aarch64", Device: true}
	tests := []struct {
		name, requested string
		probe           KVMProbe
		want            string
		wantWarn        string
		wantErr         string
	}{
		{"auto with KVM", "auto", works, "kvm", "", ""},
		{"auto default", "", works, "kvm", "", ""},
		{"auto, device present but broken", "auto", paravirt, "tcg", "/dev/kvm is present but a test guest did not boot under it: no marker after 20s", ""},
		{"auto, no device", "AUTO", absent, "tcg", "no usable /dev/kvm", ""},
		{"auto on arm64", "auto", arm, "tcg", "the engine runs on aarch64", ""},
		{"kvm where it works", "kvm", works, "kvm", "", ""},
		{"kvm where it cannot", "kvm", paravirt, "", "", "--accel kvm: KVM cannot run a guest on this engine (/dev/kvm is present but a test guest did not boot under it: no marker after 20s); use --accel tcg"},
		{"kvm without device", "kvm", absent, "", "", "--accel kvm: KVM cannot run a guest on this engine (no usable /dev/kvm)"},
		{"tcg by choice", "tcg", paravirt, "tcg", "", ""},
		{"tcg though KVM works", "tcg", works, "tcg", "KVM works on this engine", ""},
		{"unknown", "hvf", works, "", "", `unknown accelerator "hvf": choose auto, kvm or tcg`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ChooseAccel(tt.requested, tt.probe)
			if testcheck.Err(t, err, tt.wantErr) {
				return
			}
			if d.Accel != tt.want {
				t.Errorf("accel = %q, want %q", d.Accel, tt.want)
			}
			if (tt.wantWarn == "") != (d.Warning == "") || !strings.Contains(d.Warning, tt.wantWarn) {
				t.Errorf("warning = %q, want one containing %q", d.Warning, tt.wantWarn)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		requested string
		ok        bool
	}{
		{"auto", true}, {"", true}, {"KVM", true}, {" tcg ", true}, {"hvf", false}, {"kvm,tcg", false},
	} {
		err := Check(tt.requested)
		if tt.ok != (err == nil) {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.requested, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "choose auto, kvm or tcg") {
			t.Errorf("Check(%q) error %q does not list the choices", tt.requested, err)
		}
	}
}
