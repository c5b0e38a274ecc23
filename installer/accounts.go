package installer

import (
	"fmt"
	"strconv"
	"strings"
)

// Files are the account databases of the installed system, as text.
type Files struct {
	Passwd, Shadow, Group string
}

// LockAll replaces every password in shadow by "!": the fixture OS's own build password must not be
// what lets Packer in; only what the install config sets may.
func LockAll(shadow string) string {
	var out []string
	for _, line := range splitLines(shadow) {
		f := strings.Split(line, ":")
		if len(f) >= 2 && f[1] != "*" && !strings.HasPrefix(f[1], "!") {
			f[1] = "!"
		}
		out = append(out, strings.Join(f, ":"))
	}
	return joinLines(out)
}

// Apply sets the account in files: the password hash of an existing user, or a new user (next free
// uid from 1000, own group, home /home/USER, bash) with membership of the sudo group when a.Sudo. It
// returns the new files and the uid/gid of the user.
func Apply(files Files, a Account, hash string, day int) (Files, int, int, error) {
	if a.User == "" || strings.ContainsAny(a.User, ":\n") || strings.ContainsAny(hash, ":\n") {
		return files, 0, 0, fmt.Errorf("account %q: invalid user name or hash", a.User)
	}
	passwd := splitLines(files.Passwd)
	uid, gid := -1, -1
	maxUID := 999
	for _, l := range passwd {
		f := strings.Split(l, ":")
		if len(f) < 7 {
			continue
		}
		u, _ := strconv.Atoi(f[2])
		if f[0] == a.User {
			uid = u
			gid, _ = strconv.Atoi(f[3])
		}
		if u > maxUID && u < 60000 {
			maxUID = u
		}
	}
	group := splitLines(files.Group)
	if uid < 0 {
		uid, gid = maxUID+1, maxUID+1
		passwd = append(passwd, fmt.Sprintf("%s:x:%d:%d:%s:/home/%s:/bin/bash", a.User, uid, gid, a.User, a.User))
		group = append(group, fmt.Sprintf("%s:x:%d:", a.User, gid))
	}
	if a.Sudo {
		found := false
		for i, l := range group {
			f := strings.Split(l, ":")
			if len(f) == 4 && f[0] == "sudo" {
				found = true
				members := strings.Split(f[3], ",")
				if f[3] == "" {
					members = nil
				}
				if !contains(members, a.User) {
					f[3] = strings.Join(append(members, a.User), ",")
				}
				group[i] = strings.Join(f, ":")
			}
		}
		if !found {
			return files, 0, 0, fmt.Errorf("account %q: the installed system has no sudo group", a.User)
		}
	}
	shadow := splitLines(files.Shadow)
	entry := fmt.Sprintf("%s:%s:%d:0:99999:7:::", a.User, hash, day)
	replaced := false
	for i, l := range shadow {
		if strings.HasPrefix(l, a.User+":") {
			shadow[i], replaced = entry, true
		}
	}
	if !replaced {
		shadow = append(shadow, entry)
	}
	return Files{Passwd: joinLines(passwd), Shadow: joinLines(shadow), Group: joinLines(group)}, uid, gid, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func joinLines(l []string) string { return strings.Join(l, "\n") + "\n" }

// SetHostsName makes hosts resolve name at 127.0.1.1, the Debian and Ubuntu convention for the
// machine's own name, replacing the line that named the previous one.
func SetHostsName(hosts, name string) string {
	var out []string
	for _, l := range splitLines(hosts) {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "127.0.1.1" {
			continue
		}
		out = append(out, l)
	}
	return joinLines(append(out, "127.0.1.1\t"+name))
}
