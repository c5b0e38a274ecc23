package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sourcegraph/conc/pool"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/accelerator"
	"github.com/cloudstack-templates/cloudstack-templates/doctor"
	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// privilegeScript proves a privileged exec really has root's powers (a rootless or user-namespaced
// engine grants the flag but not the capabilities QEMU and libguestfs need).
const privilegeScript = `cap=$(awk '/^CapEff/ {print $2}' /proc/self/status)
mkdir -p /mnt/t && if mount -t tmpfs none /mnt/t 2>/dev/null; then m=yes; umount /mnt/t; else m=no; fi
echo "capeff=$cap mount=$m"`

// reachScript asks for the first byte of each URL, bounded in time: "url status" lines.
// A mirror's credentials come from the secret variable CST_MIRROR_AUTH, never from the arguments.
const reachScript = `reach() { curl -s -o /dev/null -r 0-0 --max-time 15 --retry 1 -w '%{http_code}' "$@" 2>/dev/null; }
for u in "$@"; do
  if [ -n "${CST_MIRROR_AUTH:-}" ]; then code=$(reach -u "$CST_MIRROR_AUTH" "$u"); else code=$(reach "$u"); fi
  echo "$u ${code:-000}"
done`

// Doctor checks, in seconds, whether this engine can build templates and how fast: engine platform,
// KVM (a real boot probe, the one build's --accel auto uses), privileged execs, free disk, reachability
// of the installers and checksum files (or the mirror), tool versions and cached ISOs. Table for people,
// --format json for machines. Never cached.
// +cache="never"
func (m *CloudstackTemplates) Doctor(
	ctx context.Context,
	// Only check what this OS needs (an ID or alias); default: every vendor OS (fixtures only when named).
	// +optional
	os string,
	// Output format: table (for people) or json (for machines).
	// +default="table"
	format OutputFormat,
) (string, error) {
	defs, err := osdefs.Select(os)
	if err != nil {
		return "", err
	}
	var findings []doctor.Finding
	probe, err := probeKVM(ctx, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", err
	}
	findings = append(findings, doctor.PlatformFinding(probe.Arch), doctor.KVMFinding(probe))
	dec, _ := accelerator.ChooseAccel(accelerator.AccelAuto, probe)

	findings = append(findings, privilegeFinding(ctx))
	findings = append(findings, m.diskFinding(ctx, defs))
	reach, err := m.reachFindings(ctx, defs)
	if err != nil {
		return "", err
	}
	findings = append(findings, reach...)
	findings = append(findings, m.toolFinding(ctx), m.cacheFinding(ctx))

	r := doctor.NewReport(dec.Accel, findings)
	if format == OutputFormatJson {
		return r.JSON()
	}
	return r.Table(), nil
}

func privilegeFinding(ctx context.Context) doctor.Finding {
	f := doctor.Finding{Check: "privileged execs"}
	out, err := dag.Container().From(debianImage).
		WithEnvVariable("CST_DOCTOR", time.Now().String()).
		WithExec([]string{"sh", "-c", privilegeScript}, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true}).
		Stdout(ctx)
	if err != nil {
		f.Status, f.Detail = doctor.Fail, "a privileged exec failed: "+firstLineOf(execMessage(err))
		f.Remedy = "run the engine as root with --privileged (Packer's QEMU needs it)"
		return f
	}
	out = strings.TrimSpace(out)
	capEff, mountOK := "", false
	for _, kv := range strings.Fields(out) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "capeff":
			capEff = v
		case "mount":
			mountOK = v == "yes"
		}
	}
	caps, _ := strconv.ParseUint(capEff, 16, 64)
	const sysAdmin = 1 << 21
	if caps&sysAdmin != 0 && mountOK {
		f.Status, f.Detail = doctor.Pass, "root capabilities "+capEff+", can mount"
		return f
	}
	f.Status, f.Detail = doctor.Fail, "privileged execs lack root's powers ("+out+"): the engine is rootless or user-namespaced"
	f.Remedy = "run the engine as real root with --privileged"
	return f
}

func (m *CloudstackTemplates) diskFinding(ctx context.Context, defs []osdefs.Definition) doctor.Finding {
	out, err := dag.Container().From(debianImage).
		WithEnvVariable("CST_DOCTOR", time.Now().String()).
		WithExec([]string{"df", "-B1", "--output=avail", "/"}).Stdout(ctx)
	if err != nil {
		return doctor.Finding{Check: "engine disk", Status: doctor.Fail, Detail: firstLineOf(execMessage(err))}
	}
	fields := strings.Fields(out)
	avail, _ := strconv.ParseInt(fields[len(fields)-1], 10, 64)
	var need int64
	for _, d := range defs {
		// The catalogue's own tests keep every disk size readable.
		if n, err := doctor.BuildNeed(d); err == nil && n > need {
			need = n
		}
	}
	return doctor.DiskFinding(avail, need)
}

func (m *CloudstackTemplates) reachFindings(ctx context.Context, defs []osdefs.Definition) ([]doctor.Finding, error) {
	mirror := m.Mirror
	c := aptInstall(m.mirrorContainer(), "curl").WithEnvVariable("CST_DOCTOR", time.Now().String())
	type urlOf struct{ os, file, what, url string }
	var urls []urlOf
	var builtIn []doctor.Finding
	for _, d := range defs {
		if mirror == "" && d.BuiltByModule() {
			// Nothing to reach: the module builds it from Debian's archive, as the tools check does.
			builtIn = append(builtIn, doctor.Finding{Check: d.ID + " installer", Status: doctor.Pass,
				Detail: "built in the engine (the testbed and replicas functions) and served by the module (no --mirror)"})
			continue
		}
		p, err := fetch.NewPlan(d, mirror)
		if err != nil {
			return nil, err
		}
		urls = append(urls, urlOf{d.ID, d.File, "installer", p.URL}, urlOf{d.ID, d.File, "checksum file", p.ChecksumURL})
	}
	results := make([]doctor.Finding, len(urls))
	p := pool.New().WithMaxGoroutines(4)
	for i, u := range urls {
		p.Go(func() {
			out, err := c.WithExec([]string{"sh", "-c", reachScript, "reach", u.url}).Stdout(ctx)
			f := doctor.Finding{Check: fmt.Sprintf("%s %s", u.os, u.what)}
			code := "000"
			if err == nil {
				if fs := strings.Fields(out); len(fs) == 2 {
					code = fs[1]
				}
			}
			switch {
			case code == "200" || code == "206":
				f.Status, f.Detail = doctor.Pass, u.url+" reachable"
			case code == "000":
				f.Status, f.Detail = doctor.Fail, u.url+" unreachable (no HTTP answer within 15s)"
				f.Remedy = "check the engine's network or proxy, or serve the files from a mirror (--mirror)"
			default:
				f.Status, f.Detail = doctor.Fail, u.url+" answered HTTP "+code
				f.Remedy = "the vendor moved the file: update " + u.file + ", or use --mirror"
				if mirror != "" {
					f.Remedy = "the mirror does not serve this file (or refuses the credentials): copy the file there beside its checksum file, or check --mirror-auth"
				}
			}
			results[i] = f
		})
	}
	p.Wait()
	return append(builtIn, results...), nil
}

func (m *CloudstackTemplates) toolFinding(ctx context.Context) doctor.Finding {
	out, err := qemuBase(m.QemuVersion).WithExec([]string{"qemu-system-x86_64", "--version"}).Stdout(ctx)
	f := doctor.Finding{Check: "tools"}
	if err != nil {
		f.Status, f.Detail = doctor.Fail, "cannot install QEMU in a container: "+firstLineOf(execMessage(err))
		f.Remedy = "the engine must reach a Debian mirror (or a docker.io mirror with debian:bookworm-slim)"
		return f
	}
	f.Status = doctor.Pass
	f.Detail = fmt.Sprintf("packer %s and trivy %s (%s, on first use), QEMU %s", m.PackerVersion, trivyVersion,
		map[string]string{toolsRelease: "official releases, verified", toolsSource: "compiled from source"}[m.Tools],
		strings.TrimPrefix(firstLineOf(out), "QEMU emulator version "))
	return f
}

func (m *CloudstackTemplates) cacheFinding(ctx context.Context) doctor.Finding {
	out, err := dag.Container().From(debianImage).
		WithMountedCache("/cache", cacheVolume("iso")).
		WithEnvVariable("CST_DOCTOR", time.Now().String()).
		WithExec([]string{"sh", "-c", "cd /cache && find . -mindepth 3 -maxdepth 3 -type f ! -name '.*' -printf '%P %s\\n' | sort"}).
		Stdout(ctx)
	f := doctor.Finding{Check: "cached installers", Status: doctor.Pass}
	if err != nil {
		f.Status, f.Detail = doctor.Warn, "cannot read the ISO cache: "+firstLineOf(execMessage(err))
		return f
	}
	var names []string
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if fs := strings.Fields(line); len(fs) == 2 {
			os, _, _ := strings.Cut(fs[0], "/")
			if count[os] == 0 {
				names = append(names, os)
			}
			count[os]++
		}
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = fmt.Sprintf("%s (%d versions)", n, count[n])
		}
	}
	if len(names) == 0 {
		f.Detail = "none yet (the first build of each OS downloads its installer)"
	} else {
		f.Detail = strings.Join(names, ", ")
	}
	return f
}
