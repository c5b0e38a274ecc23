package osdefs

import (
	"regexp"
	"slices"
	"strings"
)

// ReplicaSuffix ends the ID of each vendor OS's installer-replica variant.
const ReplicaSuffix = "-fixture"

// ReplicaMirror is where the installer replicas are served, below the testbed mirror: by the module
// itself (its replicas function) when a build is given no mirror, or from a host copy with
// --mirror http://testbed-mirror:PORT/replicas.
const ReplicaMirror = TestbedMirror + "/replicas"

// replicaRepo is what an installer replica is given for a network installation source (inst.repo=):
// Packer's own HTTP server, the one server the guest can reach offline.
const replicaRepo = "http://{{ .HTTPIP }}:{{ .HTTPPort }}/"

var instRepoRe = regexp.MustCompile(`inst\.repo=\S+`)

// replica is the fixture variant of vendor definition v: identical in everything a build does with it
// (boot command, boot wait, HTTP dir and install config, SSH login and timeout, shutdown command,
// provisioners, memory, disk) but installed from the offline replica of v's installer ISO
// (scripts/replicas.sh): the vendor's boot menu, volume label and kernel paths, with
// cmd/cst-installer in place of Anaconda or Subiquity. A network installation source (inst.repo=)
// becomes Packer's HTTP server, the one the guest can reach offline. TestReplicasMatchVendors
// compares each pair field by field, so a vendor definition cannot drift from what was proven.
func replica(v Definition) Definition {
	r := v
	r.ID = v.ID + ReplicaSuffix
	r.Aliases = nil
	r.Name = v.Name + " (installer replica)"
	r.Fixture = true
	r.Source = Source{
		URL:         ReplicaMirror + "/" + v.Source.FileName(),
		ChecksumURL: ReplicaMirror + "/SHA256SUMS",
		Algorithm:   "sha256",
		Signing:     SigningNone,
		Note:        "built locally by scripts/replicas.sh from the testbed; its digest changes with every rebuild, so it is not pinned",
	}
	r.BootCommand = make([]string, len(v.BootCommand))
	for i, k := range v.BootCommand {
		r.BootCommand[i] = instRepoRe.ReplaceAllString(k, "inst.repo="+replicaRepo)
	}
	r.Provisioners = append([]string(nil), v.Provisioners...)
	// The field, not OutputFormats: nil stays nil, so the replica follows the registry as v does.
	r.Formats = slices.Clone(v.Formats)
	return r
}

// IsReplica tells whether d is an installer replica variant.
func (d Definition) IsReplica() bool {
	return d.Fixture && strings.HasSuffix(d.ID, ReplicaSuffix) && !d.DiskImage
}

// registerWithReplica registers a vendor definition and its installer replica.
func registerWithReplica(v Definition) {
	v.File = callerFile(2)
	register(v)
	register(replica(v))
}
