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

// wait polls listTemplates (templatefilter=self, id, zoneid) until the template is Ready, its download
// failed, the wait ran out or ctx ended. It returns the last status text.
func (s *session) wait(ctx context.Context, r *prepared, id, zoneID string, reused bool, interval time.Duration) (string, error) {
	start := time.Now()
	deadline := start.Add(r.Wait)
	lastStatus, reported := "", false
	for {
		p := s.cs.Template.NewListTemplatesParams("self")
		p.SetId(id)
		p.SetZoneid(zoneID)
		l, err := s.cs.Template.ListTemplates(p)
		if err != nil {
			e := s.fail("listTemplates", err, fmt.Sprintf("wait for template %q (%s)", r.Name, id))
			e.TemplateID, e.Status = id, lastStatus
			if ctxErr := ctx.Err(); ctxErr != nil {
				return lastStatus, s.stopped(ctx, r, id, lastStatus)
			}
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
		if t.Status != lastStatus || !reported {
			lastStatus, reported = t.Status, true
			if r.OnProgress != nil {
				r.OnProgress(Progress{TemplateID: id, Status: t.Status, Percent: percent(t), Ready: t.Isready,
					Reused: reused, Elapsed: time.Since(start)})
			}
		}
		if t.Isready {
			return lastStatus, nil
		}
		if downloadFailed(t) {
			return lastStatus, &Error{Kind: ErrDownloadFailed, Command: "listTemplates", TemplateID: id, Status: t.Status,
				msg: fmt.Sprintf("template %q (%s): CloudStack could not download or install %s: %s",
					r.Name, id, redactURLQuery(r.url), describeStatus(t))}
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return lastStatus, &Error{Kind: ErrTimeout, TemplateID: id, Status: lastStatus, msg: fmt.Sprintf(
				"template %q (%s) is not ready after %s; last status: %s", r.Name, id, r.Wait, quoteStatus(lastStatus))}
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

func describeStatus(t *csapi.Template) string {
	s := quoteStatus(t.Status)
	for _, d := range t.Downloaddetails {
		if st := d["downloadState"]; st != "" && failedStates[strings.ToUpper(st)] {
			s += fmt.Sprintf(" (image store %s: %s)", d["datastore"], st)
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

// redactURLQuery drops the query of a download URL: pre-signed URLs carry credentials there.
func redactURLQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
