package osdefs

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// Every vendor OS has an installer replica, and each replica is its vendor definition field by field
// except what must differ to run offline: its ID, name and aliases, the fixture flag, the source (the
// local replica ISO) and, in the boot command, a network installation source (inst.repo=), which
// becomes Packer's HTTP server. A change to a vendor's boot command, boot wait, install config, login,
// provisioners or sizing therefore changes what the replicas prove.
func TestReplicasMatchVendors(t *testing.T) {
	vendors := 0
	for _, v := range All() {
		if v.Fixture {
			continue
		}
		vendors++
		t.Run(v.ID, func(t *testing.T) {
			r, err := Lookup(v.ID + ReplicaSuffix)
			if err != nil {
				t.Fatalf("no installer replica: %v", err)
			}
			if !r.IsReplica() || v.IsReplica() {
				t.Fatalf("IsReplica: replica %v, vendor %v", r.IsReplica(), v.IsReplica())
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			want := v
			want.ID, want.Aliases, want.Name, want.Fixture, want.Source = r.ID, r.Aliases, r.Name, true, r.Source
			want.BootCommand = make([]string, len(v.BootCommand))
			for i, k := range v.BootCommand {
				want.BootCommand[i] = instRepoRe.ReplaceAllString(k, "inst.repo="+replicaRepo)
			}
			rv, wv := reflect.ValueOf(r), reflect.ValueOf(want)
			for i := 0; i < rv.NumField(); i++ {
				name := rv.Type().Field(i).Name
				if !reflect.DeepEqual(rv.Field(i).Interface(), wv.Field(i).Interface()) {
					t.Errorf("field %s differs from %s's: %#v, want %#v", name, v.ID, rv.Field(i).Interface(), wv.Field(i).Interface())
				}
			}
			if r.File != v.File || !strings.HasPrefix(v.File, "osdefs/") || strings.HasSuffix(v.File, "replica.go") {
				t.Errorf("File = %q (vendor %q), want the vendor's catalogue file", r.File, v.File)
			}
			if r.Source.FileName() != v.Source.FileName() {
				t.Errorf("the replica ISO is named %q, the vendor's %q", r.Source.FileName(), v.Source.FileName())
			}
			if !strings.HasPrefix(r.Source.URL, ReplicaMirror+"/") {
				t.Errorf("replica source %s is not under %s", r.Source.URL, ReplicaMirror)
			}
			// Only an inst.repo= may be rewritten, and only to Packer's HTTP server.
			for i := range v.BootCommand {
				if r.BootCommand[i] != v.BootCommand[i] && !strings.Contains(v.BootCommand[i], "inst.repo=") {
					t.Errorf("boot command line %d changed without an inst.repo=: %q", i, r.BootCommand[i])
				}
			}
		})
	}
	if vendors != 5 {
		t.Errorf("%d vendor definitions, want the 5 of the catalogue", vendors)
	}
	if ds, err := Select("all"); err != nil {
		t.Fatal(err)
	} else {
		for _, d := range ds {
			if d.IsReplica() {
				t.Errorf("%s is in \"all\": fixtures are built only when named", d.ID)
			}
		}
	}
}

// The replica of CentOS Stream (a boot ISO that installs from a network repository) reaches Packer's
// HTTP server instead of the internet; the other vendors' boot commands are untouched.
func TestReplicaInstallSource(t *testing.T) {
	for id, wantRepo := range map[string]bool{"centos-stream-9": true, "rocky-9": false, "ubuntu-22.04": false} {
		r, err := Lookup(id + ReplicaSuffix)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(r.BootCommand, "")
		if got := strings.Contains(joined, "inst.repo="+replicaRepo); got != wantRepo {
			t.Errorf("%s: boot command %q has the replica repository: %v, want %v", r.ID, joined, got, wantRepo)
		}
		if strings.Contains(joined, "https://") {
			t.Errorf("%s: boot command still names an internet URL: %q", r.ID, joined)
		}
	}
}

// scripts/replicas.sh builds one ISO per replica, under the vendor's file name.
func TestReplicaScriptMatchesCatalogue(t *testing.T) {
	out, err := exec.Command("bash", "../scripts/replicas.sh", "list").Output()
	if err != nil {
		t.Fatalf("replicas.sh list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 7 {
			t.Fatalf("replicas.sh line %q has %d fields, want 7", line, len(f))
		}
		d, err := Lookup(f[0])
		if err != nil || !d.IsReplica() {
			t.Errorf("replicas.sh builds %q, which is not a replica in the catalogue (%v)", f[0], err)
			continue
		}
		if f[1] != d.Source.FileName() {
			t.Errorf("%s: replicas.sh writes %q, the catalogue fetches %q", d.ID, f[1], d.Source.FileName())
		}
		seen[d.ID] = true
	}
	for _, d := range All() {
		if d.IsReplica() && !seen[d.ID] {
			t.Errorf("replicas.sh builds no ISO for %s", d.ID)
		}
	}
}
