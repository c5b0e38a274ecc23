package cloudstack

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// Format is a CloudStack template format, as the registerTemplate "format" parameter takes it. The
// formats, their files and hypervisors are osdefs.Formats; these names are its CloudStackFormat.
type Format string

const (
	// FormatQCOW2 is a qcow2 disk image; CloudStack runs it on KVM.
	FormatQCOW2 Format = "QCOW2"
	// FormatVHD is a VHD disk image; CloudStack runs it on XenServer (default) or Hyper-V.
	FormatVHD Format = "VHD"
	// FormatOVA is an OVF package with its disks; CloudStack runs it on VMware.
	FormatOVA Format = "OVA"
)

// ParseFormat accepts a format in any case ("qcow2", as the OS catalogue writes it, or "QCOW2").
func ParseFormat(s string) (Format, error) {
	spec, err := osdefs.FormatForCloudStack(s)
	if err != nil {
		return "", invalidf("%v", err)
	}
	return Format(spec.CloudStackFormat), nil
}

// DefaultHypervisor is the hypervisor a format is registered for unless Request.Hypervisor says
// otherwise: KVM for QCOW2, XenServer for VHD, VMware for OVA.
func DefaultHypervisor(f Format) string {
	spec, err := osdefs.FormatForCloudStack(string(f))
	if err != nil {
		return ""
	}
	return spec.Hypervisor
}

// hypervisorNames maps accepted spellings to the names registerTemplate takes. CloudStack's
// Hypervisor.HypervisorType.getType matches lower-cased enum names, so Hyper-V must be sent as
// "Hyperv" ("Hyper-V" resolves to None and the call fails).
var hypervisorNames = map[string]string{
	"kvm": "KVM", "xenserver": "XenServer", "xcp-ng": "XenServer", "vmware": "VMware",
	"hyperv": "Hyperv", "hyper-v": "Hyperv",
}

// DefaultWait is how long Publish waits for the template to become Ready when Request.Wait is 0.
const DefaultWait = 30 * time.Minute

// Request describes one template to publish.
type Request struct {
	// Name is the template name; together with Zone it identifies the template across re-runs.
	Name string
	// DisplayText is the description CloudStack shows; defaults to Name.
	DisplayText string
	// URL is where CloudStack's secondary storage VM downloads the artifact (http or https).
	URL string
	// Format is the artifact's format.
	Format Format
	// Hypervisor overrides DefaultHypervisor(Format): KVM, XenServer, Hyper-V (or Hyperv) or VMware.
	Hypervisor string
	// OSType is the CloudStack OS type description as listOsTypes shows it, for example
	// "Debian GNU/Linux 12 (64-bit)"; a UUID is taken as the OS type ID.
	OSType string
	// Zone is the zone name or ID.
	Zone string
	// Checksum is the artifact's digest as "{SHA-512}<hex>" (also "{SHA-256}", "{SHA-1}", "{MD5}", ...).
	// A bare hex digest is taken as SHA-512/SHA-256/SHA-1 by its length; CloudStack itself would read
	// a bare digest as MD5.
	Checksum string
	// Public makes the template usable by all accounts; Featured lists it as featured (needs rights).
	Public, Featured bool
	// PasswordEnabled marks the template as taking CloudStack's password (passwordenabled).
	PasswordEnabled bool
	// SSHKeyEnabled marks the template as taking the instance's SSH key pair (sshkeyenabled).
	SSHKeyEnabled bool
	// Extractable lets users download the template and volumes made from it (isextractable).
	Extractable bool
	// Details are extra template details (registerTemplate details[0].<key>=<value>), e.g.
	// "rootDiskController": "virtio".
	Details map[string]string
	// AllowDuplicate registers a new template even when templates of the same name but with another
	// checksum exist in the zone. Without it, Publish fails with ErrConflict and names them.
	AllowDuplicate bool
	// Wait bounds the wait for the template to become Ready; 0 means DefaultWait. The context's
	// deadline, if earlier, applies too.
	Wait time.Duration
	// OnProgress, if set, receives the template's status each time it changes.
	OnProgress func(Progress)
}

// Progress is one status report while CloudStack downloads and installs the template.
type Progress struct {
	// TemplateID is the CloudStack template ID.
	TemplateID string
	// Status is CloudStack's status text as listTemplates reports it ("35% Downloaded",
	// "Installing Template", "Download Complete", ...), with URLs and credentials in it redacted:
	// callers log it, and a failed download's text may quote the signed download URL.
	Status string
	// Percent is the download percentage when CloudStack reports one, else -1.
	Percent int
	// Ready is true once CloudStack reports isready=true.
	Ready bool
	// Reused is true when the template was registered by an earlier run.
	Reused bool
	// Elapsed is the time since Publish started waiting.
	Elapsed time.Duration
}

// Result describes the published template.
type Result struct {
	// TemplateID is the CloudStack template ID.
	TemplateID string
	// Name is the template name.
	Name string
	// ZoneID and ZoneName identify the zone.
	ZoneID, ZoneName string
	// OSTypeID and OSTypeName identify the OS type.
	OSTypeID, OSTypeName string
	// Hypervisor and Format are as registered.
	Hypervisor string
	Format     Format
	// Checksum is the normalised checksum, "{ALGORITHM}<lower-case hex>".
	Checksum string
	// Status is CloudStack's last status text ("Download Complete"), redacted as Progress.Status.
	Status string
	// Reused is true when an existing template with the same name and checksum was reused instead of
	// registering a new one.
	Reused bool
}

// checksumLengths are the digest lengths DigestHelper.validateChecksumString accepts
// (apache/cloudstack utils/src/main/java/org/apache/cloudstack/utils/security/DigestHelper.java).
var checksumLengths = map[string]int{"MD5": 32, "SHA-1": 40, "SHA-224": 56, "SHA-256": 64, "SHA-384": 96, "SHA-512": 128}

// NormalizeChecksum returns a checksum as "{ALGORITHM}<lower-case hex>", checking the digest length.
func NormalizeChecksum(s string) (string, error) {
	s = strings.TrimSpace(s)
	alg, digest := "", s
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", invalidf("checksum %q: missing '}' after the algorithm", s)
		}
		alg, digest = canonicalAlgorithm(s[1:end]), s[end+1:]
	}
	digest = strings.ToLower(digest)
	if digest == "" || !checksum.IsLowerHex(digest, len(digest)) {
		return "", invalidf("checksum %q: the digest is not hexadecimal", s)
	}
	if alg == "" {
		switch len(digest) {
		case 128:
			alg = "SHA-512"
		case 64:
			alg = "SHA-256"
		case 40:
			alg = "SHA-1"
		default:
			return "", invalidf("checksum %q: write it as {SHA-512}<hex>", s)
		}
	}
	n, ok := checksumLengths[alg]
	if !ok {
		return "", invalidf("checksum %q: CloudStack supports MD5, SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512", s)
	}
	if len(digest) != n {
		return "", invalidf("checksum %q: a %s digest has %d hex digits, not %d", s, alg, n, len(digest))
	}
	return "{" + alg + "}" + digest, nil
}

// canonicalAlgorithm writes "sha512" or "SHA512" as CloudStack's "SHA-512".
func canonicalAlgorithm(a string) string {
	a = strings.ToUpper(strings.TrimSpace(a))
	if strings.HasPrefix(a, "SHA") && !strings.HasPrefix(a, "SHA-") {
		a = "SHA-" + a[3:]
	}
	return a
}

// checksumDigest returns the lower-case hex part of a checksum. listTemplates returns the digest
// without its "{ALG}" prefix (TemplateJoinDaoImpl uses DigestHelper.getHashValueFromChecksumValue).
func checksumDigest(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		if end := strings.IndexByte(s, '}'); end >= 0 {
			s = s[end+1:]
		}
	}
	return strings.ToLower(s)
}

// prepared is a validated Request with defaults applied.
type prepared struct {
	Request
	hypervisor string
	checksum   string
	url        string
}

func prepare(req Request) (*prepared, error) {
	p := &prepared{Request: req}
	p.Name = strings.TrimSpace(req.Name)
	if p.Name == "" {
		return nil, invalidf("the template name is empty")
	}
	if p.DisplayText == "" {
		p.DisplayText = p.Name
	}
	if strings.TrimSpace(req.OSType) == "" {
		return nil, invalidf("the OS type of template %q is empty: give the CloudStack OS type description, e.g. \"Debian GNU/Linux 12 (64-bit)\"", p.Name)
	}
	if strings.TrimSpace(req.Zone) == "" {
		return nil, invalidf("the zone of template %q is empty: give the zone name or ID", p.Name)
	}
	f, err := ParseFormat(string(req.Format))
	if err != nil {
		return nil, err
	}
	p.Format = f
	p.hypervisor = DefaultHypervisor(f)
	if h := strings.TrimSpace(req.Hypervisor); h != "" {
		name, ok := hypervisorNames[strings.ToLower(h)]
		if !ok {
			return nil, invalidf("unknown hypervisor %q: use KVM, XenServer, Hyper-V or VMware", h)
		}
		p.hypervisor = name
	}
	if !formatAllowed(p.hypervisor, f) {
		return nil, invalidf("hypervisor %s cannot run a %s template (%s)", p.hypervisor, f, formatHint())
	}
	if p.checksum, err = NormalizeChecksum(req.Checksum); err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSpace(req.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalidf("download URL %q: CloudStack needs an absolute http:// or https:// URL that its secondary storage VM can reach", redact.URL(strings.TrimSpace(req.URL)))
	}
	if err := checkDownloadURL(u, f); err != nil {
		return nil, err
	}
	// '~' is equivalent to %7E in a URL (RFC 3986 section 2.3); see the package comment for why it
	// must not be sent literally.
	p.url = strings.ReplaceAll(strings.TrimSpace(req.URL), "~", "%7E")
	fields := map[string]string{"name": p.Name, "display text": p.DisplayText, "OS type": req.OSType, "zone": req.Zone}
	for k, v := range req.Details {
		fields["detail key "+k] = k
		fields["detail "+k] = v
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(fields[k], "~") {
			return nil, invalidf("the %s %q contains '~', which CloudStack cannot verify in a signed request made by cloudstack-go; leave it out", k, fields[k])
		}
	}
	if req.Wait < 0 {
		return nil, invalidf("negative wait %s", req.Wait)
	}
	if p.Wait == 0 {
		p.Wait = DefaultWait
	}
	return p, nil
}

// checkDownloadURL applies, before any request, the checks registerTemplate makes with
// UriUtils.validateUrl(format, url) in apache/cloudstack (utils/src/main/java/com/cloud/utils/UriUtils.java):
// ports 80, 8080 and 443 only; no loopback, link-local, wildcard, multicast or IPv6 host; and a path
// ending in the format's extension, optionally compressed (.zip, .bz2, .gz). Host names are not
// resolved here.
func checkDownloadURL(u *url.URL, f Format) error {
	switch u.Port() {
	case "", "80", "8080", "443":
	default:
		return invalidf("download URL %s: CloudStack downloads only from ports 80, 8080 and 443, not %s", redact.URL(u.String()), u.Port())
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return invalidf("download URL %s: localhost is the secondary storage VM itself to CloudStack; use an address it can reach", redact.URL(u.String()))
	}
	if ip := net.ParseIP(host); ip != nil {
		switch {
		case ip.To4() == nil:
			return invalidf("download URL %s: CloudStack does not download from IPv6 addresses", redact.URL(u.String()))
		case ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast():
			return invalidf("download URL %s: CloudStack refuses loopback, link-local, wildcard and multicast hosts", redact.URL(u.String()))
		}
	}
	ext := "." + strings.ToLower(string(f))
	path := strings.ToLower(u.Path)
	for _, suffix := range []string{"", ".zip", ".bz2", ".gz"} {
		if strings.HasSuffix(path, ext+suffix) {
			return nil
		}
	}
	return invalidf("download URL %s: CloudStack wants the path of a %s template to end in %s (optionally .zip, .bz2 or .gz)", redact.URL(u.String()), f, ext)
}

// formatAllowed says whether hypervisor runs f (osdefs.Formats, after CloudStack's
// Hypervisor.supportedImageFormatMap).
func formatAllowed(hypervisor string, f Format) bool {
	spec, err := osdefs.FormatForCloudStack(string(f))
	if err != nil {
		return false
	}
	for _, h := range spec.Hypervisors() {
		if h == hypervisor {
			return true
		}
	}
	return false
}

func formatHint() string {
	var parts []string
	for _, s := range osdefs.Formats {
		parts = append(parts, fmt.Sprintf("%s takes %s", strings.Join(s.Hypervisors(), " and "), s.CloudStackFormat))
	}
	return strings.Join(parts, ", ")
}
