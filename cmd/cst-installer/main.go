// Command cst-installer is PID 1 of the installer replicas (scripts/replicas.sh): a stand-in for
// Anaconda and Subiquity that takes its orders from the kernel command line the boot command typed,
// fetches the install config from Packer's HTTP server as they would, checks it, writes the fixture
// OS to the disk, applies the config's logins and reboots into the installed system. Every fact goes
// to the serial console, one line each, prefixed "cst-installer:", so a build log shows what arrived;
// any failure prints a FATAL line and powers off without installing, so a build fails at once
// instead of waiting for SSH.
package main

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cloudstack-templates/cloudstack-templates/installer"
)

const (
	cdrom  = "/cdrom"
	image  = "/cdrom/fixture/disk.raw.gz" // the fixture OS's disk, on the installer ISO like a stage 2
	target = "/target"
	disk   = "/dev/vda"
)

// serial is the first serial port when the kernel's console is elsewhere (the boot command left out
// console=ttyS0, as a wrong menu entry does): what the installer says must reach the build log anyway.
var serial *os.File

func say(format string, a ...any) {
	line := fmt.Sprintf("cst-installer: "+format+"\n", a...)
	fmt.Fprint(os.Stdout, line)
	if serial != nil {
		fmt.Fprint(serial, line)
	}
}

// openSerial opens ttyS0 unless it is already one of the kernel's consoles.
func openSerial() {
	active, _ := os.ReadFile("/sys/class/tty/console/active")
	for _, c := range strings.Fields(string(active)) {
		if c == "ttyS0" {
			return
		}
	}
	if f, err := os.OpenFile("/dev/ttyS0", os.O_WRONLY|unix.O_NOCTTY, 0); err == nil {
		serial = f
	}
}

func main() {
	t0 := time.Now()
	if err := run(); err != nil {
		say("FATAL: %v", err)
		say("powering off without installing (%s)", time.Since(t0).Round(time.Second))
		unix.Sync()
		_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
		select {}
	}
	say("installed in %s; rebooting into the installed system", time.Since(t0).Round(time.Second))
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {}
}

func run() error {
	for _, m := range []struct{ src, dst, fs string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
	} {
		_ = os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	openSerial()
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	line := strings.TrimSpace(string(raw))
	say("kernel command line: %s", line)
	cmd, err := installer.ParseCmdline(line)
	if err != nil {
		return err
	}
	say("mode: %s", cmd.Mode)
	if err := sh("modprobe -a virtio_pci virtio_blk virtio_net ext4 ata_piix sr_mod isofs"); err != nil {
		return fmt.Errorf("load the disk, CD and network drivers: %w", err)
	}
	if err := mountCD(); err != nil {
		return err
	}
	if err := network(); err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, u := range cmd.ConfigURLs {
		b, err := fetch(u)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		say("fetched %s: %d bytes, sha256 %s", u, len(b), hex.EncodeToString(sum[:]))
		files[u] = b
	}
	if cmd.RepoURL != "" {
		if err := reach(cmd.RepoURL); err != nil {
			return fmt.Errorf("inst.repo=%s: %w (Anaconda would stop: no installation source)", cmd.RepoURL, err)
		}
		say("installation source %s reachable", cmd.RepoURL)
	}
	var plan installer.Plan
	switch cmd.Mode {
	case installer.ModeKickstart:
		plan, err = installer.CheckKickstart(files[cmd.ConfigURLs[0]])
	case installer.ModeAutoinstall:
		if plan, err = installer.CheckUserData(files[cmd.ConfigURLs[0]]); err == nil {
			err = installer.CheckMetaData(files[cmd.ConfigURLs[1]])
		}
	}
	if err != nil {
		return fmt.Errorf("install config refused: %w", err)
	}
	say("install config accepted")
	if err := writeDisk(); err != nil {
		return err
	}
	return configure(plan)
}

// mountCD mounts the installer medium, as Anaconda's stage 1 finds its stage 2 (inst.stage2=hd:LABEL=).
func mountCD() error {
	var err error
	for i := 0; i < 100; i++ {
		for _, dev := range []string{"/dev/sr0", "/dev/sr1"} {
			if err = unix.Mount(dev, cdrom, "iso9660", unix.MS_RDONLY, ""); err == nil {
				say("installer medium %s mounted", dev)
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("mount the installer CD: %w", err)
}

// sh runs a busybox command line, its output on the console.
func sh(line string) error {
	c := exec.Command("/bin/sh", "-c", line)
	c.Stdout, c.Stderr = os.Stdout, os.Stdout
	return c.Run()
}

// network brings the first NIC up with DHCP (QEMU's user network answers at once).
func network() error {
	deadline := time.Now().Add(30 * time.Second)
	var nic string
	for nic == "" && time.Now().Before(deadline) {
		entries, _ := os.ReadDir("/sys/class/net")
		for _, e := range entries {
			if e.Name() != "lo" {
				nic = e.Name()
				break
			}
		}
		if nic == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if nic == "" {
		return errors.New("no network interface appeared within 30s")
	}
	if err := sh("ip link set lo up && ip link set " + nic + " up && udhcpc -q -f -n -t 10 -i " + nic + " -s /etc/udhcpc.script"); err != nil {
		return fmt.Errorf("DHCP on %s: %w", nic, err)
	}
	out, _ := exec.Command("/bin/sh", "-c", "ip -4 -o addr show dev "+nic).Output()
	say("network: %s", strings.Join(strings.Fields(string(out)), " "))
	return nil
}

var client = &http.Client{Timeout: 60 * time.Second}

func fetch(u string) ([]byte, error) {
	var last error
	for attempt := 1; attempt <= 5; attempt++ {
		resp, err := client.Get(u)
		if err == nil {
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && rerr == nil {
				return b, nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
			if rerr != nil {
				err = rerr
			}
			if resp.StatusCode >= 400 && resp.StatusCode < 500 {
				return nil, fmt.Errorf("fetch %s: %w", u, err)
			}
		}
		last = err
		say("fetch %s: attempt %d/5: %v", u, attempt, err)
		time.Sleep(time.Duration(attempt) * time.Second)
	}
	return nil, fmt.Errorf("fetch %s: %w", u, last)
}

func reach(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// writeDisk streams the fixture disk onto the target disk, skipping runs of zeros: the disk is a
// fresh qcow2 that reads zeros already, so the image Packer exports stays as small as the fixture.
func writeDisk() error {
	t0 := time.Now()
	in, err := os.Open(image)
	if err != nil {
		return fmt.Errorf("the fixture disk image: %w", err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("the fixture disk image: %w", err)
	}
	var out *os.File
	for i := 0; i < 50; i++ {
		if out, err = os.OpenFile(disk, os.O_WRONLY, 0); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("the install disk %s: %w", disk, err)
	}
	defer out.Close()
	buf := make([]byte, 1<<20)
	var off, written int64
	for {
		n, rerr := io.ReadFull(zr, buf)
		if n > 0 {
			if !allZero(buf[:n]) {
				if _, err := out.WriteAt(buf[:n], off); err != nil {
					return fmt.Errorf("write %s at %d: %w", disk, off, err)
				}
				written += int64(n)
			}
			off += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read the fixture disk image: %w", rerr)
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	// Re-read the partition table the image brought.
	_ = unix.IoctlSetInt(int(out.Fd()), unix.BLKRRPART, 0)
	say("wrote the fixture OS to %s: %d MiB image, %d MiB of data, in %s", disk, off>>20, written>>20, time.Since(t0).Round(time.Second))
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// configure applies the config's logins to the installed system: the fixture's own passwords are
// locked first, so only what the install config set lets Packer in.
func configure(plan installer.Plan) error {
	part := disk + "1"
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(part); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = os.MkdirAll(target, 0o755)
	if err := unix.Mount(part, target, "ext4", 0, ""); err != nil {
		return fmt.Errorf("mount the installed root %s: %w", part, err)
	}
	defer unix.Unmount(target, 0)
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(target, p)); return string(b) }
	files := installer.Files{Passwd: read("etc/passwd"), Shadow: installer.LockAll(read("etc/shadow")), Group: read("etc/group")}
	day := int(time.Now().Unix() / 86400)
	for _, a := range plan.Accounts {
		hash := a.Hash
		if hash == "" {
			out, err := exec.Command("/bin/busybox", "mkpasswd", "-m", "sha512", a.Password).Output()
			if err != nil {
				return fmt.Errorf("hash the password of %s: %w", a.User, err)
			}
			hash = strings.TrimSpace(string(out))
		}
		var uid, gid int
		var err error
		if files, uid, gid, err = installer.Apply(files, a, hash, day); err != nil {
			return err
		}
		if a.User != "root" {
			home := filepath.Join(target, "home", a.User)
			if err := os.MkdirAll(home, 0o750); err != nil {
				return err
			}
			_ = os.Chown(home, uid, gid)
		}
		if a.Sudo {
			if err := os.WriteFile(filepath.Join(target, "etc/sudoers.d", a.User), []byte(a.User+" ALL=(ALL) NOPASSWD:ALL\n"), 0o440); err != nil {
				return err
			}
		}
		say("account %s: password set from the install config (sudo without password: %v)", a.User, a.Sudo)
	}
	for p, s := range map[string]string{"etc/passwd": files.Passwd, "etc/shadow": files.Shadow, "etc/group": files.Group} {
		mode := os.FileMode(0o644)
		if p == "etc/shadow" {
			mode = 0o640
		}
		if err := os.WriteFile(filepath.Join(target, p), []byte(s), mode); err != nil {
			return err
		}
	}
	if plan.Hostname != "" {
		if err := os.WriteFile(filepath.Join(target, "etc/hostname"), []byte(plan.Hostname+"\n"), 0o644); err != nil {
			return err
		}
		// As Subiquity writes it: the name resolves without DNS (sudo looks it up).
		hosts := installer.SetHostsName(read("etc/hosts"), plan.Hostname)
		if err := os.WriteFile(filepath.Join(target, "etc/hosts"), []byte(hosts), 0o644); err != nil {
			return err
		}
		say("hostname: %s", plan.Hostname)
	}
	unix.Sync()
	return nil
}
