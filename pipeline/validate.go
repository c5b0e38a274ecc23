package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/inspect"
	"github.com/cloudstack-templates/cloudstack-templates/plan"
	"golang.org/x/sync/errgroup"
)

// bootTestScript boots a copy-on-write overlay of the image with a CloudStack-style config drive
// (label config-2, OpenStack layout) carrying a fresh SSH key and password, waits for cloud-init's
// final message on the serial console, then logs in with the key and with the password.
const bootTestScript = `set -u
accel=$1 limit=$2
qemu-img create -q -f qcow2 -F qcow2 -b /in/image.qcow2 /tmp/boot.qcow2
ssh-keygen -q -t ed25519 -N '' -C cst-boot-test -f /tmp/key
pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p /seed/openstack/latest
printf '{"uuid":"8d4c5f0e-0000-4000-8000-000000000001","hostname":"cst-boot-test","name":"cst-boot-test","public_keys":{"cst":"%s"}}\n' \
  "$(cat /tmp/key.pub)" > /seed/openstack/latest/meta_data.json
{
  echo '#cloud-config'
  echo 'ssh_pwauth: true'
  echo 'chpasswd:'
  echo '  expire: false'
  echo '  users:'
  echo "    - {name: root, password: $pw, type: text}"
  echo 'final_message: "CST-BOOT-TEST cloud-init finished after $UPTIME s"'
} > /seed/openstack/latest/user_data
xorriso -as mkisofs -quiet -o /tmp/seed.iso -V config-2 -J -R /seed
qemu-system-x86_64 -accel "$accel" -m 1024 -smp 2 -display none -monitor none \
  -drive file=/tmp/boot.qcow2,if=virtio,format=qcow2 -drive file=/tmp/seed.iso,media=cdrom \
  -netdev user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22 -device virtio-net,netdev=n0 \
  -serial file:/tmp/serial.log -daemonize -pidfile /tmp/qemu.pid
start=$(date +%s)
done=no
while [ $(( $(date +%s) - start )) -lt "$limit" ]; do
  if grep -q 'CST-BOOT-TEST cloud-init finished' /tmp/serial.log 2>/dev/null; then done=yes; break; fi
  kill -0 "$(cat /tmp/qemu.pid)" 2>/dev/null || break
  sleep 2
done
echo "cloudinit_done=$done"
if [ $done = yes ]; then
  echo "cloudinit_detail=$(grep -o 'CST-BOOT-TEST cloud-init finished.*' /tmp/serial.log | head -n1 | tr -d '\r'); seen $(( $(date +%s) - start ))s after power-on"
else
  echo "cloudinit_detail=no cloud-init final message within ${limit}s of power-on"
fi
ssh_opts="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR -p 2222"
if out=$(ssh $ssh_opts -o BatchMode=yes -o PasswordAuthentication=no -i /tmp/key root@127.0.0.1 'cloud-init status 2>&1 | tail -n1' 2>&1); then
  echo "ssh_key=yes"; echo "ssh_key_detail=key login as root: $out"
else
  echo "ssh_key=no"; echo "ssh_key_detail=key login as root failed: $(echo "$out" | tail -n1)"
fi
if out=$(sshpass -p "$pw" ssh $ssh_opts -o PubkeyAuthentication=no root@127.0.0.1 true 2>&1); then
  echo "ssh_password=yes"; echo "ssh_password_detail=password login as root worked"
else
  echo "ssh_password=no"; echo "ssh_password_detail=password login as root failed: $(echo "$out" | tail -n1)"
fi
kill "$(cat /tmp/qemu.pid)" 2>/dev/null
echo "==serial"
tr -d '\r' < /tmp/serial.log 2>/dev/null | grep -v '^\s*$' | tail -n 25
exit 0
`

// guestfsImage reads guest filesystems offline. It is the KVM probe's image (QEMU and the kernel
// libguestfs boots its appliance with) plus libguestfs: a cold engine installs the kernel and makes
// its initramfs once.
func guestfsImage() *dagger.Container {
	return aptInstall(probeImage(""), "libguestfs-tools").
		// The direct backend needs no libvirt daemon.
		WithEnvVariable("LIBGUESTFS_BACKEND", "direct")
}

// bootImage boots images and talks to them.
func bootImage() *dagger.Container {
	return aptInstall(qemuBase(""), "sshpass")
}

type validation struct {
	report string
	checks []inspect.Check
}

// validate runs qemu-img check, the offline inspection and the boot test. All three only read the
// image (the boot test writes to an overlay), so they run at the same time.
func validate(ctx context.Context, image *dagger.File, accel string, bootTest bool, bootTimeout time.Duration) (*validation, error) {
	var imageCheck inspect.Check
	var offline, boot []inspect.Check
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		out, err := diskTools().WithMountedFile("/in/image.qcow2", image).
			WithExec([]string{"qemu-img", "check", "/in/image.qcow2"}).Stdout(gctx)
		imageCheck = inspect.Check{Name: "qemu-img check", Passed: err == nil, Evidence: strings.TrimSpace(out + execMessageOrEmpty(err))}
		return nil
	})
	g.Go(func() error {
		gf := guestfsImage()
		if accel != plan.AccelKVM {
			// libguestfs defaults to KVM with -cpu host; where KVM cannot run guests that aborts.
			gf = gf.WithEnvVariable("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
		}
		out, err := gf.WithMountedFile("/in/image.qcow2", image).
			WithMountedCache("/var/tmp", cacheVolume("guestfs-appliance")).
			WithNewFile("/inspect.gf", inspect.GuestfishScript).
			WithExec([]string{"sh", "-c", "guestfish --ro --format=qcow2 -a /in/image.qcow2 -i -f /inspect.gf 2>&1"},
				dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).
			Stdout(gctx)
		if err != nil {
			out = execMessage(err)
		}
		offline = inspect.Offline(out)
		return nil
	})
	if bootTest {
		g.Go(func() error {
			out, err := bootImage().WithMountedFile("/in/image.qcow2", image).
				WithExec([]string{"bash", "-c", bootTestScript, "boot-test", accel, fmt.Sprint(int(bootTimeout.Seconds()))},
					dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).
				Stdout(gctx)
			if err != nil {
				return fmt.Errorf("boot test could not run: %s", execMessage(err))
			}
			boot = inspect.BootResult(out)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	checks := append(append([]inspect.Check{imageCheck}, offline...), boot...)
	return &validation{report: inspect.Report("validation", checks), checks: checks}, nil
}

func execMessageOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return execMessage(err)
}

// Validate a built qcow2 image: qemu-img check, an offline look inside for CloudStack readiness
// (cloud-init with the CloudStack datasources, no SSH host keys, empty machine-id, no persistent net
// rules, the provisioner's release mark), and a boot test with a config drive that injects an SSH key
// and a password, both of which must then log in. Returns the report; fails naming each failed check
// with its evidence.
func (m *CloudstackTemplates) Validate(
	ctx context.Context,
	// The qcow2 image (e.g. from packer-build).
	image *dagger.File,
	// QEMU accelerator for the boot test and libguestfs: auto, kvm or tcg.
	// +default="auto"
	accel string,
	// Run the boot test (about a minute under TCG).
	// +default=true
	bootTest bool,
	// How long the boot test waits for cloud-init to finish (Go duration).
	// +default="10m"
	bootTimeout string,
) (string, error) {
	limit, err := time.ParseDuration(bootTimeout)
	if err != nil || limit <= 0 {
		return "", fmt.Errorf("--boot-timeout %q is not a positive duration like 90s or 10m", bootTimeout)
	}
	dec, _, err := chooseAccel(ctx, accel)
	if err != nil {
		return "", err
	}
	v, err := validate(ctx, image, dec.Accel, bootTest, limit)
	if err != nil {
		return "", err
	}
	if err := inspect.Error("validation", v.checks); err != nil {
		return "", err
	}
	return v.report, nil
}
