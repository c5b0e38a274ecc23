package zone

import (
	"errors"
	"fmt"
	"strings"
)

// Source is how a zone hands the instance its data.
type Source string

const (
	// FromConfigDrive is an ISO labelled config-2 attached to the guest (L2 networks, or where the
	// network offering asks for it).
	FromConfigDrive Source = "config drive"
	// FromVirtualRouter is the VR on the guest's DHCP server address: metadata on port 80, the
	// password server on port 8080.
	FromVirtualRouter Source = "virtual router"
)

// SMBIOS identities of the hypervisors CloudStack drives, as the guest reads them from DMI.
type SMBIOS struct {
	Manufacturer string
	Product      string
}

var (
	// KVMHost is what CloudStack's KVM agent puts in the domain XML (LibvirtVMDef's sysinfo).
	KVMHost = SMBIOS{Manufacturer: "Apache Software Foundation", Product: "CloudStack KVM Hypervisor"}
	// XenHost is a XenServer / XCP-ng HVM guest.
	XenHost = SMBIOS{Manufacturer: "Xen", Product: "HVM domU"}
)

// Case is one way a zone starts an instance of the template.
type Case struct {
	Name   string
	Source Source
	Host   SMBIOS
	// Hypervisor names the zones this case stands for, for people.
	Hypervisor string
	// ResetPassword reboots the instance once with a new password waiting, as CloudStack's "reset
	// password" does, and checks that it replaced the first one and that the host keys stayed.
	ResetPassword bool
}

// Matrix is every case the boot test runs unless told to skip some.
var Matrix = []Case{
	{Name: "config-drive", Source: FromConfigDrive, Host: KVMHost, Hypervisor: "any hypervisor, config drive network"},
	{Name: "kvm-vr", Source: FromVirtualRouter, Host: KVMHost, Hypervisor: "KVM behind a virtual router", ResetPassword: true},
	{Name: "xen-vr", Source: FromVirtualRouter, Host: XenHost, Hypervisor: "XenServer/XCP-ng (and VMware) behind a virtual router"},
}

// CaseNames lists the matrix's names.
func CaseNames() []string {
	names := make([]string, len(Matrix))
	for i, c := range Matrix {
		names[i] = c.Name
	}
	return names
}

// ErrNoCases is what a run returns when Select left no case to run.
var ErrNoCases = errors.New("zone: every case is skipped")

// Select returns the matrix without the skipped cases; a name that is no case is an error that lists
// the valid ones.
func Select(skip []string) ([]Case, error) {
	drop := map[string]bool{}
	for _, s := range skip {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		found := false
		for _, c := range Matrix {
			found = found || c.Name == s
		}
		if !found {
			return nil, fmt.Errorf("zone case %q does not exist; the cases are %s", s, strings.Join(CaseNames(), ", "))
		}
		drop[s] = true
	}
	var out []Case
	for _, c := range Matrix {
		if !drop[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}
