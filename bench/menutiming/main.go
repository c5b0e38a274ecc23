// Command menutiming measures, under the accelerator given, when each installer replica's boot menu is
// ready to take keys, against when the catalogue's boot command starts typing (boot_wait plus the
// leading <wait>s). It boots the ISO with QEMU as Packer does (BIOS, VGA, CD-ROM on IDE) and watches
// the screen through QMP: a text-mode menu (GRUB) is read from VGA text memory, a graphical one
// (isolinux's vesamenu) is ready when the display leaves the BIOS's text mode. Optionally it keeps
// the host's CPUs busy meanwhile, as a loaded CI runner would.
//
//	go run ./bench/menutiming -iso DIR [-busy N] [-accel tcg] [-runs 3]
//
// It prints one line per replica and run; scripts/bench.sh records them. Nothing is asserted.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// menuText is what a text-mode menu shows once it is drawn; "" marks a graphical (vesamenu) menu.
var menuText = map[string]string{
	"ubuntu-22.04-fixture": "Try or Install Ubuntu Server",
	"fedora-41-fixture":    "Install Fedora 41",
}

type result struct {
	ID          string  `json:"id"`
	Busy        int     `json:"busyCPUs"`
	MenuReady   float64 `json:"menuReadySeconds"`
	KeysAt      float64 `json:"keysTypedAtSeconds"`
	MarginRatio float64 `json:"marginRatio"`
}

func main() {
	isoDir := flag.String("iso", "", "directory with the replica ISOs (scripts/replicas.sh dir)")
	busy := flag.Int("busy", 0, "CPU-bound processes to run meanwhile")
	accel := flag.String("accel", "tcg", "QEMU accelerator")
	runs := flag.Int("runs", 1, "runs per replica")
	asJSON := flag.Bool("json", false, "print JSON lines")
	flag.Parse()
	if *isoDir == "" {
		fmt.Fprintln(os.Stderr, "usage: menutiming -iso DIR [-busy N] [-accel tcg|kvm] [-runs N]")
		os.Exit(2)
	}
	var stop []*exec.Cmd
	for i := 0; i < *busy; i++ {
		c := exec.Command("sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			fail(err)
		}
		stop = append(stop, c)
	}
	defer func() {
		for _, c := range stop {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}()
	var defs []osdefs.Definition
	for _, d := range osdefs.All() {
		if d.IsReplica() {
			defs = append(defs, d)
		}
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].ID < defs[j].ID })
	ready := map[string][]float64{}
	for r := 0; r < *runs; r++ {
		for _, d := range defs {
			// A guest that dies under the screen polling (QEMU closes QMP) is measured again.
			var at time.Duration
			var err error
			for try := 1; try <= 3; try++ {
				if at, err = measure(filepath.Join(*isoDir, d.Source.FileName()), *accel, menuText[d.ID], d.MemoryMB); err == nil {
					break
				}
				fmt.Fprintf(os.Stderr, "%s: try %d: %v\n", d.ID, try, err)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", d.ID, err)
				os.Exit(1)
			}
			keys := keysAt(d)
			res := result{ID: d.ID, Busy: *busy, MenuReady: at.Seconds(), KeysAt: keys.Seconds(), MarginRatio: keys.Seconds() / at.Seconds()}
			ready[d.ID] = append(ready[d.ID], res.MenuReady)
			if *asJSON {
				b, _ := json.Marshal(res)
				fmt.Println(string(b))
			} else {
				fmt.Printf("%-24s busy=%d  menu ready %5.1fs  keys typed at %5.1fs  margin %.1fx\n", d.ID, *busy, res.MenuReady, res.KeysAt, res.MarginRatio)
			}
		}
	}
	if !*asJSON {
		for _, d := range defs {
			v := append([]float64(nil), ready[d.ID]...)
			sort.Float64s(v)
			fmt.Printf("summary %-24s busy=%d  menu ready median %.1fs (range %.1f-%.1fs, %d runs), keys at %.1fs\n",
				d.ID, *busy, v[len(v)/2], v[0], v[len(v)-1], len(v), keysAt(d).Seconds())
		}
	}
}

// keysAt is when Packer types the first key: boot_wait, then each leading <wait> (1 s each).
func keysAt(d osdefs.Definition) time.Duration {
	w, err := time.ParseDuration(d.BootWait)
	if err != nil {
		fail(err)
	}
	first := strings.Join(d.BootCommand, "")
	for strings.HasPrefix(first, "<wait>") {
		w += time.Second
		first = strings.TrimPrefix(first, "<wait>")
	}
	return w
}

// measure boots iso and returns when its menu was ready.
func measure(iso, accel, text string, memMB int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "menutiming")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "qmp.sock")
	disk := filepath.Join(dir, "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", disk, "1G").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("qemu-img: %v: %s", err, out)
	}
	q := exec.Command("qemu-system-x86_64", "-accel", accel, "-m", fmt.Sprint(memMB), "-smp", "2",
		"-display", "none", "-vga", "std", "-boot", "once=d", "-cdrom", iso,
		"-drive", "file="+disk+",if=virtio", "-qmp", "unix:"+sock+",server=on,wait=off")
	start := time.Now()
	if err := q.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = q.Process.Kill(); _ = q.Wait() }()
	var conn net.Conn
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return 0, fmt.Errorf("QMP: %w", err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	call := func(cmd string, args map[string]any) (map[string]any, error) {
		req := map[string]any{"execute": cmd}
		if args != nil {
			req["arguments"] = args
		}
		b, _ := json.Marshal(req)
		if _, err := conn.Write(append(b, '\n')); err != nil {
			return nil, err
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return nil, err
			}
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && (m["return"] != nil || m["error"] != nil) {
				if m["error"] != nil {
					return nil, fmt.Errorf("%s: %v", cmd, m["error"])
				}
				return m, nil
			}
		}
	}
	if _, err := r.ReadBytes('\n'); err != nil { // greeting
		return 0, err
	}
	if _, err := call("qmp_capabilities", nil); err != nil {
		return 0, err
	}
	textFile, shot := filepath.Join(dir, "text"), filepath.Join(dir, "screen.ppm")
	deadline := start.Add(3 * time.Minute)
	biosText := false // the BIOS has put the display in text mode (720x400): the firmware is running
	for time.Now().Before(deadline) {
		t := time.Since(start)
		if text != "" {
			// VGA text memory: character, attribute, character, ...
			if _, err := call("pmemsave", map[string]any{"val": 0xb8000, "size": 4000, "filename": textFile}); err != nil {
				return 0, err
			}
			if b, err := os.ReadFile(textFile); err == nil && strings.Contains(chars(b), text) {
				if os.Getenv("MENUTIMING_DEBUG") != "" {
					fmt.Fprintf(os.Stderr, "%s\n", chars(b))
				}
				return t, nil
			}
		} else {
			if _, err := call("screendump", map[string]any{"filename": shot}); err != nil {
				return 0, err
			}
			w, h, err := ppmSize(shot)
			switch {
			case err != nil:
			case w == 720 && h == 400:
				biosText = true
			case biosText:
				return t, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("no menu within 3 minutes")
}

func chars(b []byte) string {
	var s strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		s.WriteByte(b[i])
	}
	return s.String()
}

// ppmSize reads the width and height from a binary PPM header.
func ppmSize(path string) (int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var magic string
	var w, h int
	if _, err := fmt.Fscan(f, &magic, &w, &h); err != nil {
		return 0, 0, err
	}
	return w, h, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
