// Package osdefs is the catalogue of operating systems cloudstack-templates can build: for each one,
// where its installer comes from and how to verify it, how Packer drives the unattended install, and
// what CloudStack needs to know about the result. It is pure Go plus embedded files, so everything in
// it is testable without an engine.
package osdefs

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
)

// Signing says how a vendor authenticates its checksum file.
type Signing string

const (
	// SigningNone: the vendor publishes no signature; the definition pins the digest instead.
	SigningNone Signing = "none"
	// SigningClearsigned: the checksum file is an OpenPGP clearsigned message.
	SigningClearsigned Signing = "clearsigned"
	// SigningDetached: an OpenPGP signature of the checksum file is published beside it.
	SigningDetached Signing = "detached"
	// SigningSigstore: a Sigstore bundle (cosign keyless: a short-lived Fulcio certificate for a CI
	// identity, logged in Rekor) over the checksum file is published beside it. This package does not
	// verify it: the caller hands SignedChecksumsWith a BundleVerifier (cst-fetch uses
	// toolrelease/sigstoreverify), so that importers of osdefs do not link a Sigstore client.
	SigningSigstore Signing = "sigstore"
)

// Source is where an installer (or, for disk-image builds, a bootable disk) comes from.
type Source struct {
	// URL is the installer ISO (or disk image) URL.
	URL string
	// ChecksumURL is the vendor's checksum file listing the ISO's digest.
	ChecksumURL string
	// Algorithm is the digest algorithm of the checksum file, one of checksum.Algorithms ("sha256" or
	// "sha512").
	Algorithm string
	// Signing is how the checksum file is authenticated.
	Signing Signing
	// SignatureURL is the detached signature (SigningDetached) or the Sigstore bundle (SigningSigstore)
	// of the checksum file.
	SignatureURL string
	// SigningKey names the vendor's armored public key in keys/ (SigningClearsigned, SigningDetached),
	// or the Sigstore trusted root the BundleVerifier embeds (SigningSigstore: TrustedRootPublicGood).
	SigningKey string
	// SigningKeyArmored, when set, is the armored key that signs the checksum file instead of
	// SigningKey: for a tools mirror an organisation re-signs with its own key. Never in the catalogue.
	SigningKeyArmored []byte `json:"-"`
	// SigstoreIdentity and SigstoreIssuer are what the bundle's certificate must name, exactly: its
	// subject alternative name (for a GitHub Actions workflow, its URL at the release tag) and its
	// OIDC issuer (SigningSigstore).
	SigstoreIdentity string
	SigstoreIssuer   string
	// TrustedRootJSON, when set, is a Sigstore trusted root (trusted_root.json) that replaces the one
	// SigningKey names: for a tools mirror whose bundles another Sigstore instance made, or to carry a
	// newer public-good root. Never in the catalogue.
	TrustedRootJSON []byte `json:"-"`
	// PinnedDigest, when set, must equal the digest the checksum file gives: it is the trust anchor for
	// vendors that do not sign their checksum files. Update it together with URL.
	PinnedDigest string
	// Note documents how the URL moves between point releases.
	Note string
}

// FileName is the name of the downloaded file, as the checksum file lists it.
func (s Source) FileName() string { return path.Base(s.URL) }

// Definition is everything needed to build one OS's CloudStack template.
type Definition struct {
	// ID is the canonical name (`--os` value).
	ID string
	// File is the catalogue file that defines this OS ("osdefs/rocky.go"), set when it registers: what
	// a message tells a maintainer to edit.
	File string
	// Aliases are other accepted names (`ubuntu-22.04`, `alma`, ...).
	Aliases []string
	// Name is the display name.
	Name string
	// Version is the OS release.
	Version string
	// Family groups OSes that share install mechanics: "ubuntu", "el", "fedora", "debian".
	Family string
	// Source is the installer and its verification.
	Source Source
	// DiskImage is true when Source is a bootable disk image rather than an installer ISO.
	DiskImage bool
	// Fixture marks the offline testbed and its variants: built only when named, never by "all",
	// because they need a local mirror (scripts/testbed.sh serve).
	Fixture bool
	// BootCommand is typed at the boot prompt (Packer boot_command syntax).
	BootCommand []string
	// BootWait is how long to wait before typing BootCommand.
	BootWait string
	// HTTPDir is the directory under files/ that Packer's HTTP server serves (install configs).
	HTTPDir string
	// SSHUsername and SSHPassword are the build-time credentials the install config creates; the
	// cleanup provisioner locks the password before the image is sealed.
	SSHUsername string
	SSHPassword string
	// SSHTimeout bounds the wait for the installed system to answer SSH.
	SSHTimeout string
	// DiskSize is the virtual disk size (Packer syntax, e.g. "10G").
	DiskSize string
	// MemoryMB and CPUs size the build VM.
	MemoryMB int
	CPUs     int
	// ShutdownCommand powers the guest off after provisioning.
	ShutdownCommand string
	// CloudStackOSType is the CloudStack guest OS type name (listOsTypes description).
	CloudStackOSType string
	// Formats restricts the OS to these output formats, each one of the registry (Formats). Left nil,
	// as most OSes leave it, the OS is built in every format of the registry, whatever it holds when
	// asked: read the formats with OutputFormats, never this field.
	Formats []Format
	// Provisioners are guest scripts (from scripts/guest) run in order over SSH.
	Provisioners []string
	// PasswordEnabled says the template runs CloudStack's password reset (cloud-init) at boot.
	PasswordEnabled bool
}

// Names returns the ID followed by the aliases.
func (d Definition) Names() []string { return append([]string{d.ID}, d.Aliases...) }

// OutputFormats returns d's output formats: Formats when set, else every format of the registry
// (AllFormats), in the registry's order. The slice is the caller's.
func (d Definition) OutputFormats() []Format {
	if d.Formats == nil {
		return AllFormats()
	}
	return slices.Clone(d.Formats)
}

// SupportsFormat reports whether f is one of d's output formats.
func (d Definition) SupportsFormat(f Format) bool {
	for _, g := range d.OutputFormats() {
		if g == f {
			return true
		}
	}
	return false
}

// Validate checks that a definition is complete and self-consistent.
func (d Definition) Validate() error {
	var problems []string
	req := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	req(d.ID != "" && strings.ToLower(d.ID) == d.ID, "ID must be set and lower case")
	req(d.Name != "", "Name must be set")
	req(d.Version != "", "Version must be set")
	req(strings.HasPrefix(d.Source.URL, "http://") || strings.HasPrefix(d.Source.URL, "https://"), "Source.URL must be http(s)")
	req(strings.HasPrefix(d.Source.ChecksumURL, "http://") || strings.HasPrefix(d.Source.ChecksumURL, "https://"), "Source.ChecksumURL must be http(s)")
	req(slices.Contains(checksum.Algorithms(), d.Source.Algorithm), "Source.Algorithm must be "+strings.Join(checksum.Algorithms(), " or "))
	switch d.Source.Signing {
	case SigningNone:
		req(d.Source.PinnedDigest != "" || d.Fixture, "unsigned sources must pin their digest (only local fixtures may not)")
	case SigningClearsigned:
		req(d.Source.SigningKey != "", "clearsigned sources need SigningKey")
	case SigningDetached:
		req(d.Source.SigningKey != "" && d.Source.SignatureURL != "", "detached signatures need SigningKey and SignatureURL")
	case SigningSigstore:
		req(d.Source.SigningKey != "" && d.Source.SignatureURL != "" && d.Source.SigstoreIdentity != "" && d.Source.SigstoreIssuer != "",
			"Sigstore bundles need SigningKey (the trusted root), SignatureURL, SigstoreIdentity and SigstoreIssuer")
	default:
		problems = append(problems, fmt.Sprintf("unknown Signing %q", d.Source.Signing))
	}
	req(d.DiskImage || len(d.BootCommand) > 0, "installer builds need a BootCommand")
	req(d.SSHUsername != "" && d.SSHPassword != "", "SSH build credentials must be set")
	req(d.DiskSize != "", "DiskSize must be set")
	req(d.MemoryMB >= 512 && d.CPUs >= 1, "MemoryMB >= 512 and CPUs >= 1")
	req(d.ShutdownCommand != "", "ShutdownCommand must be set")
	req(d.CloudStackOSType != "", "CloudStackOSType must be set")
	req(d.Formats == nil || len(d.Formats) > 0, "at least one output Format (leave Formats nil for every format of the registry)")
	for _, f := range d.Formats {
		if _, err := Spec(f); err != nil {
			problems = append(problems, "Formats: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("os definition %q: %s", d.ID, strings.Join(problems, "; "))
	}
	return nil
}
