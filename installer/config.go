// Package installer is the logic of the installer replicas' init (cmd/cst-installer): it reads the
// kernel command line the way Anaconda (inst.ks=, inst.repo=) and Subiquity (autoinstall,
// ds=nocloud-net;s=URL) do, checks the install config it fetches for what those installers would
// refuse or hang on, and derives from it what the replica applies to the installed system. It has no
// system calls, so every rule is unit-tested; the replica proves the boot command and the delivery of
// the config, not Anaconda's or Subiquity's own handling of it.
package installer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mode is the installer a command line asks for.
type Mode string

const (
	// ModeKickstart is Anaconda with a kickstart (inst.ks=URL): Fedora and EL9.
	ModeKickstart Mode = "kickstart"
	// ModeAutoinstall is Subiquity's autoinstall over NoCloud (autoinstall ds=nocloud-net;s=URL): Ubuntu.
	ModeAutoinstall Mode = "autoinstall"
)

// Cmdline is what the installer takes from /proc/cmdline.
type Cmdline struct {
	Mode Mode
	// ConfigURLs are the files to fetch: the kickstart, or user-data and meta-data.
	ConfigURLs []string
	// RepoURL is inst.repo= when it is a network URL ("" otherwise).
	RepoURL string
}

// ParseCmdline reads a kernel command line. It fails, saying what a real installer would do instead,
// when the line names no unattended install: the boot command did not reach the kernel.
func ParseCmdline(line string) (Cmdline, error) {
	var c Cmdline
	autoinstall := false
	var nocloud string
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "inst.ks", "ks":
			c.Mode = ModeKickstart
			c.ConfigURLs = []string{v}
		case "inst.repo":
			if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
				c.RepoURL = v
			}
		case "autoinstall":
			autoinstall = true
		case "ds":
			nocloud = v
		}
	}
	if c.Mode == ModeKickstart {
		if !isHTTP(c.ConfigURLs[0]) {
			return Cmdline{}, fmt.Errorf("inst.ks=%q is not an http:// URL: the kickstart cannot be fetched", c.ConfigURLs[0])
		}
		return c, nil
	}
	if nocloud != "" {
		// GRUB passed "ds=nocloud-net;s=URL" (the boot command escapes the ";" as "\;").
		ds, rest, _ := strings.Cut(nocloud, ";")
		if ds != "nocloud-net" && ds != "nocloud" {
			return Cmdline{}, fmt.Errorf("ds=%q is not the NoCloud datasource", nocloud)
		}
		seed := ""
		for _, kv := range strings.Split(rest, ";") {
			if k, v, ok := strings.Cut(kv, "="); ok && (k == "s" || k == "seedfrom") {
				seed = v
			}
		}
		if !isHTTP(seed) {
			return Cmdline{}, fmt.Errorf("ds=%q has no http:// seed (s=URL): cloud-init would find no user-data", nocloud)
		}
		if !autoinstall {
			return Cmdline{}, errors.New("ds=nocloud-net is given without autoinstall: Subiquity would ask before wiping the disk")
		}
		if !strings.HasSuffix(seed, "/") {
			seed += "/"
		}
		c.Mode = ModeAutoinstall
		c.ConfigURLs = []string{seed + "user-data", seed + "meta-data"}
		return c, nil
	}
	if autoinstall {
		return Cmdline{}, errors.New("autoinstall is given without ds=nocloud-net;s=URL: Subiquity would find no autoinstall config and stop at its first screen")
	}
	return Cmdline{}, errors.New("no inst.ks= and no autoinstall on the kernel command line: the boot command did not reach the boot loader's entry (Anaconda or Subiquity would now wait for a person)")
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// Account is a login the installed system gets from the config.
type Account struct {
	User string
	// Password is the plain password (kickstart --plaintext) or "" when Hash is given.
	Password string
	// Hash is a crypt(3) hash (kickstart --iscrypted, autoinstall identity.password).
	Hash string
	// Sudo is passwordless sudo (what the Ubuntu config's late-commands grant the identity user).
	Sudo bool
}

// Plan is what the replica applies to the installed system.
type Plan struct {
	Accounts []Account
	Hostname string
}

// CheckKickstart refuses a kickstart that Anaconda would refuse or that would leave the build
// without its login: no %packages section, no rootpw. It returns the root account it sets.
func CheckKickstart(ks []byte) (Plan, error) {
	if len(bytes.TrimSpace(ks)) == 0 {
		return Plan{}, errors.New("the kickstart is empty")
	}
	var p Plan
	packages, inSection := false, ""
	sc := bufio.NewScanner(bytes.NewReader(ks))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "%") {
			word := strings.Fields(line)[0]
			switch {
			case word == "%end":
				if inSection == "" {
					return Plan{}, fmt.Errorf("kickstart line %d: %%end without an open section", n)
				}
				inSection = ""
			case inSection != "":
				return Plan{}, fmt.Errorf("kickstart line %d: %s inside the %s section, which has no %%end", n, word, inSection)
			default:
				inSection = word
				if word == "%packages" {
					packages = true
				}
			}
			continue
		}
		if inSection != "" {
			continue
		}
		f := strings.Fields(line)
		if f[0] != "rootpw" {
			continue
		}
		a := Account{User: "root"}
		for _, arg := range f[1:] {
			switch {
			case arg == "--plaintext", arg == "--iscrypted", arg == "--allow-ssh":
			case arg == "--lock":
				return Plan{}, fmt.Errorf("kickstart line %d: rootpw --lock leaves the build no root login", n)
			case strings.HasPrefix(arg, "--"):
			default:
				a.Password = arg
			}
		}
		if strings.Contains(line, "--iscrypted") {
			a.Hash, a.Password = a.Password, ""
		}
		if a.Password == "" && a.Hash == "" {
			return Plan{}, fmt.Errorf("kickstart line %d: rootpw without a password", n)
		}
		p.Accounts = append(p.Accounts, a)
	}
	if inSection != "" {
		return Plan{}, fmt.Errorf("kickstart: the %s section has no %%end", inSection)
	}
	if !packages {
		return Plan{}, errors.New("kickstart has no %packages section: Anaconda would stop and ask for the software selection")
	}
	if len(p.Accounts) == 0 {
		return Plan{}, errors.New("kickstart has no rootpw: Anaconda would stop and ask for a root password")
	}
	return p, nil
}

// userData is the part of an autoinstall user-data the replica reads.
type userData struct {
	Autoinstall *struct {
		Version  int `yaml:"version"`
		Identity *struct {
			Hostname string `yaml:"hostname"`
			Username string `yaml:"username"`
			Password string `yaml:"password"`
		} `yaml:"identity"`
		LateCommands []string `yaml:"late-commands"`
	} `yaml:"autoinstall"`
}

// CheckUserData refuses a user-data that Subiquity would not run unattended: not #cloud-config, no
// autoinstall section, no identity with a user and a password hash. It returns the identity account;
// passwordless sudo is granted when the late-commands write a NOPASSWD sudoers line for that user.
func CheckUserData(b []byte) (Plan, error) {
	if !bytes.HasPrefix(b, []byte("#cloud-config")) {
		return Plan{}, errors.New("user-data does not start with #cloud-config: cloud-init would not read it as config, and Subiquity would find no autoinstall")
	}
	var u userData
	if err := yaml.Unmarshal(b, &u); err != nil {
		return Plan{}, fmt.Errorf("user-data is not valid YAML: %w", err)
	}
	if u.Autoinstall == nil {
		return Plan{}, errors.New("user-data has no autoinstall: section: Subiquity would start interactively")
	}
	if u.Autoinstall.Version != 1 {
		return Plan{}, fmt.Errorf("autoinstall version is %d; Subiquity knows version 1", u.Autoinstall.Version)
	}
	id := u.Autoinstall.Identity
	if id == nil || id.Username == "" || id.Password == "" {
		return Plan{}, errors.New("autoinstall has no identity with username and password: Subiquity would stop at the identity screen")
	}
	if !strings.HasPrefix(id.Password, "$") {
		return Plan{}, errors.New("autoinstall identity.password is not a crypt(3) hash ($6$...): Subiquity expects a hash")
	}
	a := Account{User: id.Username, Hash: id.Password}
	for _, c := range u.Autoinstall.LateCommands {
		if strings.Contains(c, id.Username+" ALL=(ALL) NOPASSWD:ALL") && strings.Contains(c, "/target/etc/sudoers.d/") {
			a.Sudo = true
		}
	}
	return Plan{Accounts: []Account{a}, Hostname: id.Hostname}, nil
}

// CheckMetaData accepts NoCloud meta-data: empty, or YAML.
func CheckMetaData(b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("meta-data is not valid YAML: %w", err)
	}
	return nil
}
