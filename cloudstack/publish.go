package cloudstack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	csapi "github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// Publish registers the template described by req in its zone and waits until CloudStack reports it
// Ready, or fails.
//
// Idempotency: before registering, Publish lists the caller's templates named req.Name in the zone.
//   - One whose checksum equals req.Checksum is reused (Result.Reused): no second registerTemplate;
//     if it is still downloading, Publish waits for it. Ready ones are preferred; ones whose download
//     failed are skipped (a fresh registration is made and the failed one is left for an operator).
//     One that is still downloading although it was created longer ago than req.Wait is taken to be
//     stuck: Publish fails at once with ErrTimeout and says how to delete it, rather than letting
//     every re-run wait the whole wait again.
//   - Otherwise, if templates of that name with other checksums exist, Publish fails with ErrConflict
//     naming them, unless req.AllowDuplicate is set; CloudStack itself allows duplicate names, but
//     two same-named templates with different contents are rarely what a pipeline re-run means.
//
// Every error is an *Error wrapping one of ErrInvalidRequest, ErrAuth, ErrUnknownOSType,
// ErrUnknownZone, ErrConflict, ErrDownloadFailed, ErrTimeout, ErrRequestTimeout or ErrAPI.
func (p *Publisher) Publish(ctx context.Context, req Request) (*Result, error) {
	r, err := prepare(req)
	if err != nil {
		return nil, err
	}
	s := p.newSession(ctx)
	// r.url differs from the caller's URL by '~' written as %7E; either form may be echoed back.
	s.redact = s.redact.with(append(downloadURLSecrets(r.url), downloadURLSecrets(r.URL)...)...)

	osType, err := s.resolveOSType(r.OSType)
	if err != nil {
		return nil, err
	}
	zone, err := s.resolveZone(r.Zone)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: r.Name, ZoneID: zone.Id, ZoneName: zone.Name, OSTypeID: osType.Id,
		OSTypeName: osType.Description, Hypervisor: r.hypervisor, Format: r.Format, Checksum: r.checksum}

	existing, err := s.findExisting(r, zone)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if !existing.Isready {
			if created, ok := createdAt(existing); ok && time.Since(created) > r.Wait {
				return nil, s.stuckError(r, existing, zone.Id)
			}
		}
		res.TemplateID, res.Reused, res.Status = existing.Id, true, s.clean(existing.Status)
	} else {
		id, status, err := s.register(r, osType.Id, zone.Id)
		if err != nil {
			return nil, err
		}
		res.TemplateID, res.Status = id, s.clean(status)
	}
	status, err := s.wait(ctx, r, res.TemplateID, zone.Id, existing, p.pollInterval)
	if status != "" {
		res.Status = status
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// findExisting returns the caller's template named r.Name in the zone with r's checksum, if any.
func (s *session) findExisting(r *prepared, zone *csapi.Zone) (*csapi.Template, error) {
	p := s.cs.Template.NewListTemplatesParams("self")
	p.SetName(r.Name)
	p.SetZoneid(zone.Id)
	l, err := s.cs.Template.ListTemplates(p)
	if err != nil {
		return nil, s.fail("listTemplates", err, fmt.Sprintf("look for an existing template %q", r.Name))
	}
	want := checksumDigest(r.checksum)
	var same, other []*csapi.Template
	for _, t := range l.Templates {
		if t.Name != r.Name || (t.Zoneid != "" && t.Zoneid != zone.Id) {
			continue // "name" may match loosely; a cross-zone template has no zoneid
		}
		switch {
		case checksumDigest(t.Checksum) != want:
			other = append(other, t)
		case !t.Isready && downloadFailed(t):
			// Left in place for an operator; a new registration follows.
		default:
			same = append(same, t)
		}
	}
	if len(same) > 0 {
		sort.SliceStable(same, func(i, j int) bool { return same[i].Isready && !same[j].Isready })
		return same[0], nil
	}
	if len(other) > 0 && !r.AllowDuplicate {
		return nil, conflictError(r.Name, zone, other)
	}
	return nil, nil
}

// conflictError names the same-named templates with other checksums and the two ways out that the
// publish function offers: delete them, or publish under another name (--name). AllowDuplicate is
// left out: only Go callers can set it.
func conflictError(name string, zone *csapi.Zone, other []*csapi.Template) *Error {
	ids := make([]string, len(other))
	cmds := make([]string, len(other))
	for i, t := range other {
		sum := checksumDigest(t.Checksum)
		if sum == "" {
			sum = "none"
		} else if len(sum) > 16 {
			sum = sum[:16] + "…"
		}
		ids[i] = fmt.Sprintf("%s (checksum %s)", t.Id, sum)
		cmds[i] = deleteCommand(t, zone.Id)
	}
	it := "it"
	if len(other) > 1 {
		it = "them"
	}
	return &Error{Kind: ErrConflict, Command: "listTemplates", TemplateID: other[0].Id, msg: fmt.Sprintf(
		"template %q already exists in zone %s with a different checksum: %s; to replace %s, delete %s "+
			"(%s, or the deleteTemplate API) and publish again, or publish this build under another name with --name",
		name, zone.Name, strings.Join(ids, ", "), it, it, strings.Join(cmds, "; "))}
}

// register calls registerTemplate, which CloudStack answers synchronously with the new template
// (RegisterTemplateCmd is a BaseCmd, not an async command; response "registertemplateresponse"
// with a "template" list, as in cloudstack-go's test/testdata/TemplateService.json).
func (s *session) register(r *prepared, osTypeID, zoneID string) (id, status string, err error) {
	p := s.cs.Template.NewRegisterTemplateParams(r.DisplayText, string(r.Format), r.hypervisor, r.Name, r.url)
	p.SetOstypeid(osTypeID)
	p.SetZoneid(zoneID)
	p.SetChecksum(r.checksum)
	p.SetIspublic(r.Public)
	p.SetIsfeatured(r.Featured)
	p.SetPasswordenabled(r.PasswordEnabled)
	p.SetSshkeyenabled(r.SSHKeyEnabled)
	p.SetIsextractable(r.Extractable)
	if len(r.Details) > 0 {
		p.SetDetails(r.Details)
	}
	resp, err := s.cs.Template.RegisterTemplate(p)
	if err != nil {
		return "", "", s.fail("registerTemplate", err, fmt.Sprintf("register template %q from %s", r.Name, redact.URL(r.url)))
	}
	for _, t := range resp.RegisterTemplate {
		if t.Zoneid == "" || t.Zoneid == zoneID {
			return t.Id, t.Status, nil
		}
	}
	return "", "", &Error{Kind: ErrAPI, Command: "registerTemplate",
		msg: fmt.Sprintf("register template %q: CloudStack answered without a template for zone %s", r.Name, zoneID)}
}
