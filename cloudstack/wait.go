package cloudstack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	csapi "github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// percentRe reads the download percentage from the status TemplateJoinDaoImpl.getTemplateStatus
// builds: "<n>% Downloaded" while DOWNLOAD_IN_PROGRESS, "Installing Template" at 100 %.
var percentRe = regexp.MustCompile(`^\s*(\d{1,3})% Downloaded`)

// failedStates are VMTemplateStorageResourceAssoc.Status values after which the secondary storage VM
// does not retry by itself; listTemplates shows them per image store in "downloaddetails".
var failedStates = map[string]bool{"DOWNLOAD_ERROR": true, "ABANDONED": true, "UPLOAD_ERROR": true}

// failureWords are found in the status text CloudStack shows when a download fails: for a failed
// download getTemplateStatus returns the error string of the download job, such as
// "Failed post download script: ..." (DownloadManagerImpl), "Download Failed: ...", or the template
// state "UploadError"/"UploadAbandoned".
var failureWords = []string{"fail", "error", "abandon", "unable", "invalid", "mismatch"}

// downloadFailed tells whether CloudStack reports the template's download as failed.
func downloadFailed(t *csapi.Template) bool {
	for _, d := range t.Downloaddetails {
		if failedStates[strings.ToUpper(d["downloadState"])] {
			return true
		}
	}
	status := strings.ToLower(t.Status)
	for _, w := range failureWords {
		if strings.Contains(status, w) {
			return true
		}
	}
	return false
}

// percent returns the download percentage CloudStack reports, or -1.
func percent(t *csapi.Template) int {
	if t.Isready {
		return 100
	}
	if m := percentRe.FindStringSubmatch(t.Status); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if strings.HasPrefix(t.Status, "Installing") {
		return 100
	}
	best := -1
	for _, d := range t.Downloaddetails {
		if n, err := strconv.Atoi(d["downloadPercent"]); err == nil && n > best {
			best = n
		}
	}
	return best
}

// createdLayout is how CloudStack writes a template's "created" time (ApiResponseSerializer's
// yyyy-MM-dd'T'HH:mm:ssZ).
const createdLayout = "2006-01-02T15:04:05-0700"

// createdAt returns when CloudStack created the template, if it says so in a form that can be read.
func createdAt(t *csapi.Template) (time.Time, bool) {
	for _, layout := range []string{createdLayout, time.RFC3339} {
		if c, err := time.Parse(layout, strings.TrimSpace(t.Created)); err == nil {
			return c, true
		}
	}
	return time.Time{}, false
}

// deleteHint tells how to delete a template from the zone: the publish function has no option to
// replace or ignore one, so deleting it is what lets the next run register the artifact anew.
func deleteHint(t *csapi.Template, zoneID string) string {
	return fmt.Sprintf("delete it (%s, or the deleteTemplate API)", deleteCommand(t, zoneID))
}

// deleteCommand is the CloudMonkey command that deletes t from the zone. A cross-zone template (no
// zoneid) is deleted by its ID alone.
func deleteCommand(t *csapi.Template, zoneID string) string {
	cmd := "cmk delete template id=" + t.Id
	if t.Zoneid != "" {
		cmd += " zoneid=" + zoneID
	}
	return cmd
}

// percentText is ", 35% downloaded" when CloudStack reports a percentage, else "".
func percentText(p int) string {
	if p < 0 {
		return ""
	}
	return fmt.Sprintf(", %d%% downloaded", p)
}

// stuckError is the error for a template from an earlier run that has been downloading for longer
// than this run's wait: waiting again would most likely run out the same way, on every re-run.
func (s *session) stuckError(r *prepared, t *csapi.Template, zoneID string) *Error {
	status := s.clean(t.Status)
	return &Error{Kind: ErrTimeout, Command: "listTemplates", TemplateID: t.Id, Status: status, msg: fmt.Sprintf(
		"template %q (%s) from an earlier run has been downloading since %s (last status %s%s), longer "+
			"than the wait of %s, and is probably stuck: %s so that the next run registers it anew",
		r.Name, t.Id, t.Created, quoteStatus(status), percentText(percent(t)), r.Wait, deleteHint(t, zoneID))}
}

// wait polls listTemplates (templatefilter=self, id, zoneid) until the template is Ready, its download
// failed, the wait ran out or ctx ended. reused is the template found from an earlier run, nil when
// it was registered by this one. It returns the last status text, redacted.
func (s *session) wait(ctx context.Context, r *prepared, id, zoneID string, reused *csapi.Template, interval time.Duration) (string, error) {
	start := time.Now()
	deadline := start.Add(r.Wait)
	lastStatus, lastPercent, reported := "", -1, false
	for {
		p := s.cs.Template.NewListTemplatesParams("self")
		p.SetId(id)
		p.SetZoneid(zoneID)
		l, err := s.cs.Template.ListTemplates(p)
		if err != nil {
			if ctx.Err() != nil {
				return lastStatus, s.stopped(ctx, r, id, lastStatus)
			}
			e := s.fail("listTemplates", err, fmt.Sprintf("wait for template %q (%s)", r.Name, id))
			e.TemplateID, e.Status = id, lastStatus
			return lastStatus, e
		}
		var t *csapi.Template
		for _, c := range l.Templates {
			if c.Id == id && (c.Zoneid == "" || c.Zoneid == zoneID) {
				t = c
				break
			}
		}
		if t == nil {
			return lastStatus, &Error{Kind: ErrAPI, Command: "listTemplates", TemplateID: id, Status: lastStatus,
				msg: fmt.Sprintf("wait for template %q: template %s is no longer listed in zone %s (deleted?)", r.Name, id, zoneID)}
		}
		// The status is the server's text: a failed download quotes the URL it tried, credentials
		// and all, and it goes on to the caller's log, the error and the result.
		status := s.clean(t.Status)
		lastPercent = percent(t)
		if status != lastStatus || !reported {
			lastStatus, reported = status, true
			if r.OnProgress != nil {
				r.OnProgress(Progress{TemplateID: id, Status: status, Percent: lastPercent, Ready: t.Isready,
					Reused: reused != nil, Elapsed: time.Since(start)})
			}
		}
		if t.Isready {
			return lastStatus, nil
		}
		if downloadFailed(t) {
			return lastStatus, &Error{Kind: ErrDownloadFailed, Command: "listTemplates", TemplateID: id, Status: status,
				msg: fmt.Sprintf("template %q (%s): CloudStack could not download or install %s: %s",
					r.Name, id, redact.URL(r.url), describeStatus(t, s.clean))}
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			msg := fmt.Sprintf("template %q (%s) is not ready after %s; last status: %s", r.Name, id, r.Wait, quoteStatus(lastStatus))
			if reused != nil {
				// Re-running would wait for the same template again; say how to start over instead.
				since := "an earlier run"
				if _, ok := createdAt(reused); ok {
					since = reused.Created
				}
				msg = fmt.Sprintf("template %q (%s) is not ready after %s; it has been downloading since %s "+
					"(last status %s%s) and is probably stuck: %s so that the next run registers it anew",
					r.Name, id, r.Wait, since, quoteStatus(lastStatus), percentText(lastPercent), deleteHint(t, zoneID))
			}
			return lastStatus, &Error{Kind: ErrTimeout, TemplateID: id, Status: lastStatus, msg: msg}
		}
		timer := time.NewTimer(min(interval, remaining))
		select {
		case <-ctx.Done():
			timer.Stop()
			return lastStatus, s.stopped(ctx, r, id, lastStatus)
		case <-timer.C:
		}
	}
}

// stopped is the error for a context that ended while waiting.
func (s *session) stopped(ctx context.Context, r *prepared, id, lastStatus string) *Error {
	kind, why := ErrAPI, "was cancelled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind, why = ErrTimeout, "ran out of time"
	}
	return &Error{Kind: kind, TemplateID: id, Status: lastStatus, cause: contextCause(ctx.Err()), msg: fmt.Sprintf(
		"waiting for template %q (%s) %s; last status: %s", r.Name, id, why, quoteStatus(lastStatus))}
}

// describeStatus is the status text with the image stores that report a failed download. Both come
// from the server, so each piece goes through clean before it is quoted.
func describeStatus(t *csapi.Template, clean func(string) string) string {
	s := quoteStatus(clean(t.Status))
	for _, d := range t.Downloaddetails {
		if st := d["downloadState"]; st != "" && failedStates[strings.ToUpper(st)] {
			s += clean(fmt.Sprintf(" (image store %s: %s)", d["datastore"], st))
		}
	}
	return s
}

func quoteStatus(s string) string {
	if s == "" {
		return "(none reported)"
	}
	return strconv.Quote(s)
}
