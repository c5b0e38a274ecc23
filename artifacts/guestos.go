package artifacts

import (
	"fmt"
	"strconv"
	"strings"
)

// GuestOS is how an OVF descriptor names the installed OS: a CIM_OperatingSystem OsType number for
// the standard ovf:id, VMware's guest identifier for vmw:osType (what vSphere actually uses to pick
// defaults and VMware Tools behaviour), and a human description.
type GuestOS struct {
	// CIMID is the DMTF CIM_OperatingSystem.OsType value (e.g. 94 "Ubuntu 64-Bit", 96 "Debian 64-Bit",
	// 80 "RedHat Enterprise Linux 64-Bit", 101 "Linux 64-Bit").
	CIMID int
	// VMwareID is the vSphere GuestOsDescriptor identifier (e.g. "ubuntu64Guest", "rhel9_64Guest").
	VMwareID string
	// Description is the <Description> of the OperatingSystemSection.
	Description string
}

// OtherLinux64 is the fallback for an OS this table does not know: every ESXi release accepts it.
var OtherLinux64 = GuestOS{CIMID: 101, VMwareID: "otherLinux64Guest", Description: "Other Linux (64-bit)"}

// GuestOSFor maps an osdefs definition's ID, Family and Version to its OVF guest OS. The CIM numbers
// come from CIM_OperatingSystem.OsType; the VMware identifiers from vSphere's GuestOsIdentifier enum.
//
// Why these choices:
//   - Enterprise Linux rebuilds (Rocky, Alma, CentOS Stream) map to rhelN_64Guest, not
//     rockylinux_64Guest/almalinux_64Guest: those two exist only from ESXi 8.0 (CloudStack itself maps
//     them for VMware 8.0 only), while rhel8_64Guest/rhel9_64Guest are known to 7.x hosts too and
//     VMware recommends the RHEL entry for binary-compatible rebuilds.
//   - Debian maps to debianN_64Guest for 10 and 11; 12 and later use debian11_64Guest, because
//     debian12_64Guest exists only from vSphere 8.0 U1 and CloudStack 4.20+ supports vSphere 7.0 and
//     8.0 (vSphere's GuestOsDescriptor enum; CloudStack's hypervisor support matrix). An ESXi that
//     does not know an id warns and falls back to "other" at import; the VM still boots.
//   - When CloudStack deploys the template it sets the guest id from its own OS-type mapping, so
//     these values matter for direct VMware imports of the OVA.
func GuestOSFor(id, family, version string) GuestOS {
	major := majorVersion(version)
	switch strings.ToLower(family) {
	case "ubuntu":
		return GuestOS{CIMID: 94, VMwareID: "ubuntu64Guest", Description: "Ubuntu Linux (64-bit)"}
	case "debian":
		return byMajor(major, GuestOS{CIMID: 96, Description: "Debian GNU/Linux%s (64-bit)"},
			rung{11, "debian11_64Guest"}, rung{10, "debian10_64Guest"})
	case "el", "rhel", "centos", "rocky", "alma", "almalinux", "oracle":
		g := GuestOS{CIMID: 80, Description: "Red Hat Enterprise Linux%s compatible (64-bit)"}
		if strings.HasPrefix(strings.ToLower(id), "centos") {
			g.CIMID = 107 // CentOS 64-bit
		}
		return byMajor(major, g, rung{9, "rhel9_64Guest"}, rung{8, "rhel8_64Guest"}, rung{7, "rhel7_64Guest"})
	case "fedora":
		// CIM has no Fedora entry; 101 "Linux 64-Bit" is what the CIM table offers.
		return GuestOS{CIMID: 101, VMwareID: "fedora64Guest", Description: "Fedora Linux (64-bit)"}
	}
	return OtherLinux64
}

// rung is one step of a family's VMware ladder: releases from this major version on take this id.
type rung struct {
	from int
	id   string
}

// byMajor completes g for a major version: the VMware id of the highest rung it reaches (rungs from
// the highest down; below them all, otherLinux64Guest), and the version in g's Description (its %s),
// when there is one.
func byMajor(major int, g GuestOS, rungs ...rung) GuestOS {
	g.VMwareID = OtherLinux64.VMwareID
	for _, r := range rungs {
		if major >= r.from {
			g.VMwareID = r.id
			break
		}
	}
	v := ""
	if major > 0 {
		v = " " + strconv.Itoa(major)
	}
	g.Description = fmt.Sprintf(g.Description, v)
	return g
}

// majorVersion is the leading integer of a version string ("12" → 12, "9.5" → 9, "24.04" → 24), or 0.
func majorVersion(v string) int {
	v = strings.TrimSpace(v)
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0
	}
	return n
}
