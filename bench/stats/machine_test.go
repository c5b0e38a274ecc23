package stats

import (
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestParseLoadavg(t *testing.T) {
	tests := []struct {
		want        Load
		in, wantErr string
	}{
		{in: "2.33 2.82 3.69 10/200 13860\n", want: Load{2.33, 2.82, 3.69, 10, 200}},
		{in: "0.00 0.01 0.05 1/95 1", want: Load{0, 0.01, 0.05, 1, 95}},
		{in: "", wantErr: `unreadable load average ""`},
		{in: "2.33 2.82 3.69", wantErr: "unreadable load average"},
		{in: "2.33 x 3.69 10/200 1", wantErr: "unreadable load average"},
		{in: "2.33 2.82 3.69 10 1", wantErr: "unreadable load average"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLoadavg(tc.in)
			testcheck.Result(t, "ParseLoadavg", got, err, tc.want, tc.wantErr)
		})
	}
	if s := (Load{One: 2.333, Five: 1, Fifteen: 0.5}).String(); s != "2.33 1.00 0.50" {
		t.Errorf("Load.String = %q", s)
	}
}

func TestParseAccelerator(t *testing.T) {
	tests := []struct {
		name, out, accel, evidence, wantErr string
	}{
		{name: "TCG, no KVM", out: "accelerator: tcg\nkvm device: false, boots a guest: false (0.0s)\n",
			accel: "tcg", evidence: "kvm device: false, boots a guest: false (0.0s)"},
		{name: "KVM", out: "accelerator: kvm\nkvm device: true, boots a guest: true (1.2s)\n",
			accel: "kvm", evidence: "kvm device: true, boots a guest: true (1.2s)"},
		{name: "with a warning", out: "accelerator: tcg\nkvm device: true, boots a guest: false (15.0s)\nwarning: KVM is not usable\n",
			accel: "tcg", evidence: "kvm device: true, boots a guest: false (15.0s); warning: KVM is not usable"},
		{name: "garbage", out: "Error: no such function\n", wantErr: `no "accelerator: …" line`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, ev, err := ParseAccelerator(tc.out)
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			if a != tc.accel || ev != tc.evidence {
				t.Errorf("ParseAccelerator = %q, %q; want %q, %q", a, ev, tc.accel, tc.evidence)
			}
		})
	}
}

func TestParseMemTotal(t *testing.T) {
	n, err := ParseMemTotal("MemTotal:       24111660 kB\nMemFree:  1 kB\n")
	if err != nil || n != 24111660*1024 {
		t.Errorf("ParseMemTotal = %d, %v", n, err)
	}
	if _, err := ParseMemTotal(strings.Repeat("x\n", 3)); err == nil {
		t.Error("no MemTotal: want an error")
	}
}
