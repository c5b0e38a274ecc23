package main

import (
	"context"
	"fmt"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
)

// kvmProbeScript boots a real kernel with a one-line init under -accel kvm and waits for its marker on
// the serial console. Opening /dev/kvm proves nothing: nested or paravirtual KVM devices open fine and
// then hang or crash stock guest kernels. Output: key=value lines for accelerator.ParseProbe.
const kvmProbeScript = `
echo "arch=$(uname -m)"
if [ ! -c /dev/kvm ]; then
  echo device=no; echo boots=no; echo "detail=no /dev/kvm in a privileged container"; exit 0
fi
if ! err=$( ( : <>/dev/kvm ) 2>&1 ); then
  echo device=no; echo boots=no; echo "detail=/dev/kvm cannot be opened (${err##*: }): the host has no KVM driver loaded"; exit 0
fi
echo device=yes
mkdir -p /probe/bin && cp /bin/busybox /probe/bin/busybox
printf '#!/bin/busybox sh\n/bin/busybox echo CST-KVM-PROBE-OK\n/bin/busybox poweroff -f\n' > /probe/init
chmod +x /probe/init
(cd /probe && find . | cpio -o -H newc 2>/dev/null | gzip -1) > /probe.cpio.gz
start=$(date +%s%N)
timeout 15 qemu-system-x86_64 -accel kvm -m 256 -smp 1 -no-reboot -display none -monitor none \
  -kernel "$(ls /boot/vmlinuz-* | head -n1)" -initrd /probe.cpio.gz \
  -append "console=ttyS0 panic=-1 quiet" -serial file:/probe.log 2>/probe.err
rc=$?
echo "seconds=$(( ($(date +%s%N) - start) / 1000000 ))e-3"
if grep -q CST-KVM-PROBE-OK /probe.log 2>/dev/null; then echo boots=yes; exit 0; fi
echo boots=no
last=$( (cat /probe.err; tr -d '\r' < /probe.log) 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n1 | cut -c1-160)
if [ "$rc" = 124 ]; then
  echo "detail=no sign of life from the guest kernel within 15s (last console line: ${last:-none})"
else
  echo "detail=QEMU exited with status $rc: ${last:-no output}"
fi
`

// probeImage is QEMU plus a stock Debian kernel and busybox to boot under the probe.
func probeImage(qemuVersion string) *dagger.Container {
	return aptInstall(qemuBase(qemuVersion), "linux-image-cloud-amd64", "busybox-static", "cpio")
}

// probeKVM runs the probe. freshness keys the engine's cache: builds reuse a probe from the same
// day, doctor always probes anew.
func probeKVM(ctx context.Context, freshness string) (accelerator.KVMProbe, error) {
	out, err := probeImage("").
		WithEnvVariable("CST_PROBE", freshness).
		WithExec([]string{"sh", "-c", kvmProbeScript}, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).
		Stdout(ctx)
	if err != nil {
		return accelerator.KVMProbe{}, fmt.Errorf("KVM probe: %s", execMessage(err))
	}
	return accelerator.ParseProbe(out)
}

// chooseAccel makes build's accelerator decision with the same probe doctor reports.
func chooseAccel(ctx context.Context, requested string) (accelerator.Decision, accelerator.KVMProbe, error) {
	if requested == accelerator.AccelTCG {
		// No probe needed to emulate; it would only cost time.
		return accelerator.Decision{Accel: accelerator.AccelTCG}, accelerator.KVMProbe{}, nil
	}
	if err := accelerator.Check(requested); err != nil {
		return accelerator.Decision{}, accelerator.KVMProbe{}, err // unknown name: fail before probing
	}
	probe, err := probeKVM(ctx, time.Now().UTC().Format("2006-01-02"))
	if err != nil {
		return accelerator.Decision{}, probe, err
	}
	d, err := accelerator.ChooseAccel(requested, probe)
	return d, probe, err
}
