// Package inspect judges a built image from what the pipeline read out of it: the guest filesystem
// (read offline with libguestfs) and a test boot's console and SSH session. Each check names what it
// looked at and shows the evidence, so a failure explains itself.
package inspect

import (
	"fmt"
	"strconv"
	"strings"
)

// Check is one validation result.
type Check struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Evidence string `json:"evidence"`
}

// GuestfishScript reads, in one appliance boot, everything the offline checks need. Commands
// prefixed with '-' may fail (a missing file is a finding, not an error).
const GuestfishScript = `echo ==cloud-init-bin
-exists /usr/bin/cloud-init
echo ==cloudstack-cfg
-cat /etc/cloud/cloud.cfg.d/99-cloudstack.cfg
echo ==ssh-dir
-ls /etc/ssh
echo ==machine-id-size
-filesize /etc/machine-id
echo ==udev-rules
-ls /etc/udev/rules.d
echo ==release
-cat /etc/cloudstack-template-release
echo ==end
`

// Sections splits guestfish output into the sections GuestfishScript marks.
func Sections(out string) map[string]string {
	s := map[string]string{}
	cur := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "==") {
			cur = strings.TrimPrefix(line, "==")
			s[cur] = ""
			continue
		}
		if cur != "" {
			s[cur] += line + "\n"
		}
	}
	return s
}

// Offline turns the guestfish output into the CloudStack-readiness checks.
func Offline(out string) []Check {
	s := Sections(out)
	var checks []Check
	add := func(name string, ok bool, evidence string) {
		checks = append(checks, Check{Name: name, Passed: ok, Evidence: strings.TrimSpace(evidence)})
	}
	if _, ok := s["end"]; !ok {
		add("guest filesystem readable", false, "libguestfs did not finish reading the guest:\n"+out)
		return checks
	}
	add("cloud-init installed", strings.TrimSpace(s["cloud-init-bin"]) == "true", "/usr/bin/cloud-init exists: "+strings.TrimSpace(s["cloud-init-bin"]))

	cfg := s["cloudstack-cfg"]
	dsLine := ""
	for _, l := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "datasource_list") {
			dsLine = strings.TrimSpace(l)
		}
	}
	add("CloudStack datasource configured",
		strings.Contains(dsLine, "CloudStack") && strings.Contains(dsLine, "ConfigDrive"),
		"/etc/cloud/cloud.cfg.d/99-cloudstack.cfg: "+orMissing(dsLine, "no datasource_list line"))

	keys := namesWhere(s["ssh-dir"], func(f string) bool { return strings.HasPrefix(f, "ssh_host_") })
	add("no SSH host keys", keys == "", "/etc/ssh: "+orMissing(keys, "no ssh_host_* files"))

	size := strings.TrimSpace(s["machine-id-size"])
	n, err := strconv.Atoi(size)
	add("machine-id empty", size == "" || (err == nil && n == 0), "/etc/machine-id size: "+orMissing(size, "file absent"))

	persistent := namesWhere(s["udev-rules"], func(f string) bool { return strings.Contains(f, "persistent-net") })
	add("no persistent net rules", persistent == "", "/etc/udev/rules.d: "+orMissing(persistent, "no persistent-net rules"))

	rel := strings.TrimSpace(s["release"])
	add("provisioner ran (release mark)", rel != "", "/etc/cloudstack-template-release: "+orMissing(rel, "missing"))
	return checks
}

// namesWhere is the file names of a directory listing that match, space-separated.
func namesWhere(listing string, match func(string) bool) string {
	var names []string
	for _, f := range strings.Fields(listing) {
		if match(f) {
			names = append(names, f)
		}
	}
	return strings.Join(names, " ")
}

func orMissing(s, missing string) string {
	if strings.TrimSpace(s) == "" {
		return missing
	}
	return s
}

// Failed returns the checks that did not pass.
func Failed(checks []Check) []Check {
	var out []Check
	for _, c := range checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Report renders checks for people: one line each, evidence indented under failures.
func Report(title string, checks []Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	for _, c := range checks {
		mark := "PASS"
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s  %s\n", mark, c.Name)
		if !c.Passed || len(c.Evidence) < 100 {
			for _, l := range strings.Split(c.Evidence, "\n") {
				fmt.Fprintf(&b, "        %s\n", l)
			}
		}
	}
	return b.String()
}

// Error summarizes failed checks as one error, or nil.
func Error(stage string, checks []Check) error {
	failed := Failed(checks)
	if len(failed) == 0 {
		return nil
	}
	var names []string
	for _, c := range failed {
		names = append(names, c.Name)
	}
	return fmt.Errorf("%s failed: %s\n%s", stage, strings.Join(names, ", "), Report(stage, failed))
}

// Proven is what a boot test showed a template does for CloudStack: registration claims no more.
type Proven struct {
	// Password: the password the zone set logged in, in every case that set one.
	Password bool `json:"password"`
	// SSHKey: the instance's key pair logged in, in every case.
	SSHKey bool `json:"sshKey"`
}

// ZoneResult is what the boot test (cmd/cst-zone) prints.
type ZoneResult struct {
	Checks []Check `json:"checks"`
	Proven Proven  `json:"proven"`
}
