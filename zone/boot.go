package zone

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudstack-templates/cloudstack-templates/inspect"
)

// The guest's view of the emulated network: QEMU's user-mode network hands out addresses from
// 10.0.2.0/24, answers DHCP from 10.0.2.2 and sends the guest's connections to that address to the
// host's loopback, where the VR's two servers listen. The guest therefore finds its "virtual router"
// exactly as in a zone: at its DHCP server (the lease) and its default gateway.
const (
	guestIPv4    = "10.0.2.15"
	metadataAddr = "127.0.0.1:80"
	passwordAddr = "127.0.0.1:8080"
	sshForward   = "127.0.0.1:2222"
)

// ChecksFailed is cst-zone's exit status when it ran every case and printed the checks, and a check
// failed; any other non-zero status means the boot test could not run.
const ChecksFailed = 3

// Runner boots an image as CloudStack instances and judges what the guest made of each.
type Runner struct {
	// Image is the qcow2 template; it is only read (each instance boots an overlay of its own).
	Image string
	// Accel is QEMU's accelerator: kvm or tcg.
	Accel string
	// Timeout bounds each boot, from power-on to cloud-init's final message.
	Timeout time.Duration
	// WorkDir holds overlays, config drives and console logs.
	WorkDir string
	// GrowBy is how much bigger the instance's root disk is than the template's (a larger offering).
	GrowBy int64
	// Logf reports progress.
	Logf func(format string, args ...any)

	hostKeys map[string]string // fingerprint → case that first showed it
}

// Run boots one instance per case and returns the named checks of every case, and what they proved.
func (r *Runner) Run(ctx context.Context, cases []Case) (inspect.ZoneResult, error) {
	res := inspect.ZoneResult{Checks: []inspect.Check{}}
	if len(cases) == 0 {
		return res, ErrNoCases
	}
	if r.Logf == nil {
		r.Logf = func(string, ...any) {}
	}
	if r.GrowBy <= 0 {
		r.GrowBy = 1 << 30
	}
	r.hostKeys = map[string]string{}
	size, err := virtualSize(ctx, r.Image)
	if err != nil {
		return res, err
	}
	keyOK, pwOK, pwTried := true, true, false
	for _, c := range cases {
		cr, err := r.runCase(ctx, c, size)
		if err != nil {
			return res, fmt.Errorf("zone case %s: %w", c.Name, err)
		}
		res.Checks = append(res.Checks, cr.checks...)
		keyOK = keyOK && cr.keyOK
		pwOK = pwOK && cr.pwOK
		pwTried = pwTried || cr.pwTried
	}
	res.Proven = inspect.Proven{SSHKey: keyOK, Password: pwTried && pwOK}
	return res, nil
}

func virtualSize(ctx context.Context, image string) (int64, error) {
	out, err := exec.CommandContext(ctx, "qemu-img", "info", "--output=json", image).Output()
	if err != nil {
		return 0, fmt.Errorf("qemu-img info %s: %w", image, err)
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.VirtualSize <= 0 {
		return 0, fmt.Errorf("qemu-img info %s: no virtual size in %q", image, out)
	}
	return info.VirtualSize, nil
}

// caseRun is one instance's state while its case runs.
type caseRun struct {
	c       Case
	dir     string
	inst    Instance
	signer  ssh.Signer
	vr      *VirtualRouter
	checks  []inspect.Check
	hostKey string
	// keyOK: the key logged in; pwOK: every password tried logged in (pwTried: one was).
	keyOK, pwOK, pwTried bool
}

func (cr *caseRun) add(name string, ok bool, evidence string) {
	cr.checks = append(cr.checks, inspect.Check{Name: "zone " + cr.c.Name + ": " + name, Passed: ok, Evidence: strings.TrimSpace(evidence)})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func newUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// finalMarker is the cloud-init final message each case's user-data asks for; seeing it on the
// console means every stage ran.
func finalMarker(c Case) string { return "CST-ZONE " + c.Name + " cloud-init finished" }

const userDataMark = "/var/lib/cst-zone-user-data"

func userData(c Case) []byte {
	return []byte(fmt.Sprintf(`#cloud-config
runcmd:
  - [sh, -c, "echo %s > %s"]
final_message: "%s after $UPTIME s"
`, c.Name, userDataMark, finalMarker(c)))
}

func (r *Runner) runCase(ctx context.Context, c Case, baseSize int64) (*caseRun, error) {
	dir := filepath.Join(r.WorkDir, c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " cst-zone-" + c.Name
	cr := &caseRun{c: c, dir: dir, signer: signer, pwOK: true, inst: Instance{
		UUID: newUUID(), Hostname: "cst-" + c.Name, PublicKey: pub,
		Password: "Cst" + randomHex(8), UserData: userData(c), IPv4: guestIPv4,
	}}
	// The instance's root disk: an overlay of the template, as large as the offering.
	newOverlay := func() error {
		out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", r.Image,
			filepath.Join(dir, "root.qcow2"), strconv.FormatInt(baseSize+r.GrowBy, 10)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("qemu-img create: %v: %s", err, out)
		}
		return nil
	}
	if err := newOverlay(); err != nil {
		return nil, err
	}
	var cdrom string
	switch c.Source {
	case FromConfigDrive:
		tree := filepath.Join(dir, "config-drive")
		if err := WriteConfigDrive(tree, cr.inst); err != nil {
			return nil, err
		}
		cdrom = filepath.Join(dir, "config-drive.iso")
		if out, err := exec.CommandContext(ctx, "xorriso", "-as", "mkisofs", "-quiet", "-o", cdrom, "-V", ConfigDriveLabel, "-J", "-R", tree).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("xorriso: %v: %s", err, out)
		}
	case FromVirtualRouter:
		vr, err := NewVirtualRouter(cr.inst)
		if err != nil {
			return nil, err
		}
		cr.vr = vr
		stop, err := serveVR(vr)
		if err != nil {
			return nil, err
		}
		defer stop()
	}

	r.Logf("zone case %s (%s, SMBIOS product %q): booting", c.Name, c.Source, c.Host.Product)
	// A first boot that panicked may have written nothing yet; a fresh overlay makes sure.
	g, err := r.powerOn(ctx, cr, cdrom, "first", newOverlay)
	if err != nil {
		return nil, err
	}
	r.judgeFirstBoot(ctx, cr, g, baseSize)
	if c.ResetPassword {
		r.resetPassword(ctx, cr, g, cdrom)
	} else {
		g.stop()
	}
	return cr, nil
}

// guest is one running QEMU.
type guest struct {
	cmd     *exec.Cmd
	done    chan struct{}
	serial  string
	started time.Time
	ready   bool
	detail  string
	// timerPanic: the kernel panicked in its early timer check (timerCheckPanic).
	timerPanic bool
}

func (g *guest) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// stop powers the guest off through SSH-less means: QEMU gets SIGTERM, then SIGKILL.
func (g *guest) stop() {
	if g.exited() {
		return
	}
	g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
}

// powerOn boots the instance, and boots it once more when the guest kernel's early timer check
// panicked under TCG: an emulation artifact, not the template's (see timerCheckPanic), which a
// loaded host can cause on any boot. again, when set, runs before the second power-on; the report
// says there were two.
func (r *Runner) powerOn(ctx context.Context, cr *caseRun, cdrom, label string, again func() error) (*guest, error) {
	g, err := r.boot(ctx, cr, cdrom, label)
	if err != nil || !g.timerPanic || r.Accel != "tcg" {
		return g, err
	}
	r.Logf("zone case %s: the guest kernel's timer check panicked under TCG on the %s boot (the emulated CPU fell behind its timer); powering on once more", cr.c.Name, label)
	if again != nil {
		if err := again(); err != nil {
			return nil, err
		}
	}
	if g, err = r.boot(ctx, cr, cdrom, label+"-again"); err != nil {
		return nil, err
	}
	g.detail += " (second power-on: the first one's kernel panicked in its IO-APIC timer check under TCG)"
	return g, nil
}

func (r *Runner) boot(ctx context.Context, cr *caseRun, cdrom, label string) (*guest, error) {
	serial := filepath.Join(cr.dir, "console-"+label+".log")
	smbios := "type=1,manufacturer=" + qemuOptEscape(cr.c.Host.Manufacturer) + ",product=" + qemuOptEscape(cr.c.Host.Product)
	args := []string{"-accel", r.Accel, "-m", "1024", "-smp", "2", "-display", "none", "-monitor", "none",
		"-smbios", smbios,
		"-drive", "file=" + filepath.Join(cr.dir, "root.qcow2") + ",if=virtio,format=qcow2",
		"-netdev", "user,id=n0,hostfwd=tcp:" + sshForward + "-:22", "-device", "virtio-net,netdev=n0",
		"-serial", "file:" + serial}
	if cdrom != "" {
		args = append(args, "-drive", "file="+cdrom+",media=cdrom,readonly=on")
	}
	cmd := exec.Command("qemu-system-x86_64", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting QEMU: %w", err)
	}
	g := &guest{cmd: cmd, done: make(chan struct{}), serial: serial, started: time.Now()}
	go func() { cmd.Wait(); close(g.done) }()

	marker := finalMarker(cr.c)
	deadline := time.NewTimer(r.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		b, _ := os.ReadFile(serial)
		if bytes.Contains(b, []byte(marker)) {
			g.ready = true
			g.detail = fmt.Sprintf("%s seen on the console %s after power-on", lastLineWith(string(b), marker), time.Since(g.started).Round(time.Second))
			return g, nil
		}
		if finalStageFailed(b) {
			g.detail = fmt.Sprintf("cloud-init's final stage failed without its final message, %s after power-on",
				time.Since(g.started).Round(time.Second))
			return g, nil
		}
		if timerCheckPanic(b) {
			g.stop()
			g.timerPanic = true
			g.detail = "the kernel panicked in early boot: " + timerPanicText
			return g, nil
		}
		select {
		case <-ctx.Done():
			g.stop()
			return nil, ctx.Err()
		case <-g.done:
			g.detail = "QEMU exited before cloud-init finished: " + strings.TrimSpace(stderr.String())
			return g, nil
		case <-deadline.C:
			g.detail = fmt.Sprintf("no cloud-init final message within %ds of power-on", int(r.Timeout.Seconds()))
			return g, nil
		case <-tick.C:
		}
	}
}

func qemuOptEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

func serveVR(vr *VirtualRouter) (stop func(), err error) {
	var servers []*http.Server
	for _, s := range []struct {
		addr string
		h    http.Handler
	}{{metadataAddr, vr.Metadata()}, {passwordAddr, vr.PasswordServer()}} {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, srv := range servers {
				srv.Close()
			}
			return nil, fmt.Errorf("virtual router: %w", err)
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 30 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(l)
	}
	return func() {
		for _, srv := range servers {
			srv.Close()
		}
	}, nil
}

// sshConfig logs in as root with the instance's key or a password; the host key is recorded.
func sshConfig(auth ssh.AuthMethod, hostKey *string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User: "root",
		Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			*hostKey = ssh.FingerprintSHA256(key)
			return nil
		},
		Timeout: 20 * time.Second,
	}
}

func passwordAuth(pw string) []ssh.AuthMethod {
	return []ssh.AuthMethod{ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		a := make([]string, len(qs))
		for i := range a {
			a[i] = pw
		}
		return a, nil
	})}
}

// dial connects, retrying while sshd is still starting.
func dial(ctx context.Context, cfg *ssh.ClientConfig, within time.Duration) (*ssh.Client, error) {
	end := time.Now().Add(within)
	for {
		c, err := ssh.Dial("tcp", sshForward, cfg)
		if err == nil {
			return c, nil
		}
		var authErr bool = strings.Contains(err.Error(), "unable to authenticate")
		if authErr || time.Now().After(end) || ctx.Err() != nil {
			return nil, err
		}
		time.Sleep(3 * time.Second)
	}
}

func run(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return strings.TrimSpace(string(out)), err
}

// passwordLogin tries root's password and reports whether the guest let it in.
func passwordLogin(ctx context.Context, pw string, wait time.Duration) (bool, string) {
	var hk string
	cfg := sshConfig(nil, &hk)
	cfg.Auth = passwordAuth(pw)
	c, err := dial(ctx, cfg, wait)
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	if _, err := run(c, "true"); err != nil {
		return false, "logged in, but running a command failed: " + err.Error()
	}
	return true, "logged in"
}

func (r *Runner) judgeFirstBoot(ctx context.Context, cr *caseRun, g *guest, baseSize int64) {
	tail := func() string { return "console, last lines:\n" + consoleTail(g.serial, 25) }
	evidence := tail()
	if !g.ready {
		evidence += "\n" + consoleWarnings(g.serial, 30)
	}
	cr.add("cloud-init finishes", g.ready, g.detail+"\n"+evidence)

	// A guest that finished cloud-init answers at once; one that did not gets a short grace, enough to
	// tell "sshd down" from "sshd up, key refused", without waiting a minute on a dead guest.
	wait := 60 * time.Second
	if !g.ready {
		wait = 15 * time.Second
	}
	var hk string
	client, err := dial(ctx, sshConfig(ssh.PublicKeys(cr.signer), &hk), wait)
	if err != nil {
		msg := "key login as root failed: " + err.Error()
		cr.add("SSH key from metadata logs in", false, msg+"\n"+tail())
		for _, n := range []string{"hostname from metadata", "user-data ran", "root file system grown to the offering's disk", "cloud-init reports no errors"} {
			cr.add(n, false, "not checked: no SSH session ("+err.Error()+")")
		}
	} else {
		defer client.Close()
		cr.add("SSH key from metadata logs in", true, "key login as root")
		cr.keyOK = true
		cr.hostKey = hk
		host, _ := run(client, "hostname")
		cr.add("hostname from metadata", host == cr.inst.Hostname, fmt.Sprintf("hostname %q, metadata local-hostname %q", host, cr.inst.Hostname))
		mark, _ := run(client, "cat "+userDataMark)
		cr.add("user-data ran", mark == cr.c.Name, fmt.Sprintf("%s holds %q (user-data writes %q)", userDataMark, mark, cr.c.Name))
		df, _ := run(client, "df -B1 --output=size / | tail -n 1")
		fs, _ := strconv.ParseInt(strings.TrimSpace(df), 10, 64)
		cr.add("root file system grown to the offering's disk", fs > baseSize,
			fmt.Sprintf("/ is %s; the template's disk is %s and the instance's %s", human(fs), human(baseSize), human(baseSize+r.GrowBy)))
		status, _ := run(client, "cloud-init status --long 2>&1")
		detail := "cloud-init status --long:\n" + status
		if !g.ready || !cloudInitDone(status) {
			detail += "\n" + cloudInitEvidence(client)
		}
		cr.add("cloud-init reports no errors", cloudInitDone(status), detail)
	}
	if hk != "" {
		prev, seen := r.hostKeys[hk]
		cr.add("SSH host key is the instance's own", !seen, fmt.Sprintf("host key %s%s", hk, map[bool]string{true: ", the same as case " + prev + "'s", false: ""}[seen]))
		if !seen {
			r.hostKeys[hk] = cr.c.Name
		}
	}
	r.judgePassword(ctx, cr, cr.inst.Password, "", wait)
}

// judgePassword checks the login with the zone's password and, behind a VR, the guest's
// acknowledgement.
func (r *Runner) judgePassword(ctx context.Context, cr *caseRun, pw, prefix string, wait time.Duration) {
	ok, detail := passwordLogin(ctx, pw, wait)
	cr.pwTried, cr.pwOK = true, cr.pwOK && ok
	where := "the config drive's cloudstack/password/vm_password.txt"
	if cr.vr != nil {
		where = "the password server"
	}
	cr.add(prefix+"password from "+string(cr.c.Source)+" logs in", ok, "root with the password "+where+" holds: "+detail)
	if cr.vr != nil {
		l := cr.vr.PasswordLog()
		cr.add(prefix+"guest acknowledged the password", l.Served > 0 && l.Acknowledged > 0,
			fmt.Sprintf("password served %d time(s), acknowledged %d time(s); DomU_Request headers seen: %s",
				l.Served, l.Acknowledged, orNone(strings.Join(l.Requests, ", "))))
	}
}

// resetPassword powers the instance off, has the zone hold a new password, boots it again and checks
// that the new password replaced the old and the host key stayed.
func (r *Runner) resetPassword(ctx context.Context, cr *caseRun, g *guest, cdrom string) {
	const prefix = "after reset password: "
	var hk string
	if c, err := dial(ctx, sshConfig(ssh.PublicKeys(cr.signer), &hk), 30*time.Second); err == nil {
		run(c, "systemctl poweroff")
		c.Close()
	}
	select {
	case <-g.done:
	case <-time.After(2 * time.Minute):
	}
	g.stop()
	old, next := cr.inst.Password, "Cst"+randomHex(8)
	switch {
	case cr.vr != nil:
		if err := cr.vr.ResetPassword(next); err != nil {
			cr.add(prefix+"zone accepted the new password", false, err.Error())
			return
		}
	default:
		cr.add(prefix+"zone accepted the new password", false, "reset password is only emulated behind a virtual router")
		return
	}
	cr.inst.Password = next
	r.Logf("zone case %s: rebooting with a reset password", cr.c.Name)
	// The overlay keeps the first boot's state, as the instance's disk does across a reboot.
	g2, err := r.powerOn(ctx, cr, cdrom, "reset", nil)
	if err != nil {
		cr.add(prefix+"cloud-init finishes", false, err.Error())
		return
	}
	defer g2.stop()
	detail := g2.detail + "\nconsole, last lines:\n" + consoleTail(g2.serial, 25)
	if !g2.ready {
		detail += "\n" + consoleWarnings(g2.serial, 30)
		// The first boot's key is still in root's authorized_keys: the guest can tell why its
		// cloud-init stopped even though this boot's did not finish.
		var hk string
		if c, err := dial(ctx, sshConfig(ssh.PublicKeys(cr.signer), &hk), 30*time.Second); err != nil {
			detail += "\nthe guest's own account: no SSH session (" + err.Error() + ")"
		} else {
			detail += "\n" + cloudInitEvidence(c)
			c.Close()
		}
	}
	cr.add(prefix+"cloud-init finishes", g2.ready, detail)
	r.judgePassword(ctx, cr, next, prefix, 30*time.Second)
	oldOK, detail := passwordLogin(ctx, old, 30*time.Second)
	cr.add(prefix+"old password refused", !oldOK, "login with the first password: "+detail)
	hk = ""
	if c, err := dial(ctx, sshConfig(ssh.PublicKeys(cr.signer), &hk), 60*time.Second); err == nil {
		c.Close()
	}
	cr.add(prefix+"SSH host key unchanged", hk != "" && hk == cr.hostKey,
		fmt.Sprintf("first boot %s, after reboot %s", orNone(cr.hostKey), orNone(hk)))
}

// cloudInitEvidenceScript prints, section by section, what a guest knows of its cloud-init run: the
// datasource list cloudstack-datasource chose for this boot, cloud-init's warnings and errors, and
// this boot's journal of the units that choose and run the datasource. A missing file or tool shows
// as an error line in its section, never as a missing section.
const cloudInitEvidenceScript = `echo '--- /run/cloud-init/cloud.cfg'; cat /run/cloud-init/cloud.cfg 2>&1
echo '--- /var/log/cloud-init.log: warnings and errors, last 40'
grep -E 'WARNING|ERROR|Traceback|DataSourceNotFound|searched classes' /var/log/cloud-init.log 2>&1 | tail -n 40
echo '--- journal of this boot: cloudstack-datasource, cloud-init-local, cloud-init, last 30 lines but network tables'
journalctl -b --no-pager -u cloudstack-datasource -u cloud-init-local -u cloud-init 2>&1 | grep -v 'ci-info: ' | tail -n 30`

// cloudInitEvidence runs cloudInitEvidenceScript in the guest, for the detail of a check that
// cloud-init failed: the console shows that it stopped, the guest's own logs say why.
func cloudInitEvidence(c *ssh.Client) string {
	out, err := run(c, cloudInitEvidenceScript)
	if err != nil && out == "" {
		return "the guest's own account: " + err.Error()
	}
	return "the guest's own account:\n" + out
}

func cloudInitDone(status string) bool {
	for _, l := range strings.Split(status, "\n") {
		if strings.TrimSpace(l) == "status: done" {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func human(n int64) string {
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
