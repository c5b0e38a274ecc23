package cloudstack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// plantedURL is a download URL with a password in its userinfo and a signature in its query.
const plantedURL = "https://user:PLANTEDPASS@host/x.qcow2?X-Amz-Signature=PLANTEDSIG"

// plantedStatusURL is a URL with credentials as CloudStack might quote it in its status text.
const plantedStatusURL = "https://u:PLANTED2@h/x?sig=PLANTED3"

var planted = []string{"PLANTEDPASS", "PLANTEDSIG", "PLANTED2", "PLANTED3", "PLANTED4", "PLANTED5"}

// TestPublishRedactsURLsAndStatus runs Publish where both the request's download URL and CloudStack's
// status text carry credentials, and checks that none of them reaches what the caller sees or logs.
func TestPublishRedactsURLsAndStatus(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *fakeCloud)
		wait     time.Duration
		wantKind error // nil: success
		// wantParts must be in the error text: the redacted forms show that the URL is still named.
		wantParts []string
	}{
		{
			name: "download failed",
			setup: func(f *fakeCloud) {
				f.script = []fakeStep{
					{status: "5% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 5},
					{status: "Failed to download " + plantedStatusURL, downloadState: "DOWNLOAD_ERROR",
						datastore: "https://s:PLANTED4@store.example/?sig=PLANTED5"},
				}
			},
			wantKind: ErrDownloadFailed,
			wantParts: []string{"could not download or install https://REDACTED@host/x.qcow2?REDACTED",
				`"Failed to download https://REDACTED@h/x?REDACTED"`, "https://REDACTED@store.example/?REDACTED: DOWNLOAD_ERROR"},
		},
		{
			name: "wait runs out",
			setup: func(f *fakeCloud) {
				f.script = []fakeStep{{status: "35% Downloaded from " + plantedStatusURL, downloadState: "DOWNLOAD_IN_PROGRESS", percent: 35}}
			},
			wait:      100 * time.Millisecond,
			wantKind:  ErrTimeout,
			wantParts: []string{`last status: "35% Downloaded from https://REDACTED@h/x?REDACTED"`},
		},
		{
			name: "success",
			setup: func(f *fakeCloud) {
				f.script = []fakeStep{
					{status: "50% Downloaded from " + plantedStatusURL, downloadState: "DOWNLOAD_IN_PROGRESS", percent: 50},
					{status: "Download Complete from " + plantedStatusURL, ready: true, downloadState: "DOWNLOADED", percent: 100},
				}
			},
		},
		{
			name: "registerTemplate rejected, quoting the URL with and without its scheme",
			setup: func(f *fakeCloud) {
				f.registerError = "Unable to download %s (host:443/x.qcow2?X-Amz-Signature=PLANTEDSIG, password PLANTEDPASS)"
			},
			wantKind:  ErrAPI,
			wantParts: []string{`register template "debian-12-x86_64" from https://REDACTED@host/x.qcow2?REDACTED:`},
		},
		{
			name: "reused template stuck for longer than the wait",
			setup: func(f *fakeCloud) {
				f.addTemplate("debian-12-x86_64", sha512Hex, time.Now().Add(-2*time.Hour),
					fakeStep{status: "35% Downloaded from " + plantedStatusURL, downloadState: "DOWNLOAD_IN_PROGRESS", percent: 35})
			},
			wantKind:  ErrTimeout,
			wantParts: []string{`last status "35% Downloaded from https://REDACTED@h/x?REDACTED", 35% downloaded`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			tc.setup(f)
			req := baseRequest()
			req.URL = plantedURL
			if tc.wait != 0 {
				req.Wait = tc.wait
			}
			var seen []string // everything the caller gets to see or log
			req.OnProgress = func(p Progress) { seen = append(seen, "progress: "+p.Status, fmt.Sprintf("%+v", p)) }
			res, err := newTestPublisher(t, srv.URL+"/client/api", testSecretKey).Publish(context.Background(), req)
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Publish: %v", err)
				}
				if !strings.HasPrefix(res.Status, "Download Complete from https://REDACTED@h/x?REDACTED") {
					t.Errorf("result status %q", res.Status)
				}
				seen = append(seen, fmt.Sprintf("%+v", *res))
			} else {
				var e *Error
				if !errors.Is(err, tc.wantKind) || !errors.As(err, &e) {
					t.Fatalf("err = %v, want %v", err, tc.wantKind)
				}
				testcheck.ContainsAll(t, "error", err.Error(), tc.wantParts...)
				seen = append(seen, err.Error(), "status: "+e.Status, fmt.Sprintf("%+v", *e))
			}
			if f.count("registerTemplate") > 0 {
				if got := f.registers[0]["url"]; got != plantedURL {
					t.Errorf("registerTemplate url=%q, want the URL unchanged", got)
				}
			}
			for _, text := range seen {
				for _, p := range planted {
					if strings.Contains(text, p) {
						t.Errorf("%q leaks: %s", p, text)
					}
				}
				assertNoCredentials(t, text)
			}
		})
	}
}

// TestPublishRequestTimeout checks that one API request running out of time is told apart from the
// wait running out: it is ErrRequestTimeout, names the command, the endpoint and the request timeout,
// and does not claim that a template was waited for.
func TestPublishRequestTimeout(t *testing.T) {
	tests := []struct {
		name        string
		slow        fakeSlow
		ctxTimeout  time.Duration // 0: no deadline on the Publish context
		wantKind    error
		wantCommand string
	}{
		{name: "no headers", slow: fakeSlow{command: "listOsTypes"}, wantKind: ErrRequestTimeout, wantCommand: "listOsTypes"},
		{name: "body stalls", slow: fakeSlow{command: "listZones", midBody: true}, wantKind: ErrRequestTimeout, wantCommand: "listZones"},
		{name: "register stalls", slow: fakeSlow{command: "registerTemplate"}, wantKind: ErrRequestTimeout, wantCommand: "registerTemplate"},
		// The caller's deadline ending during a request stays ErrTimeout: that is the wait running out.
		{name: "publish context deadline", slow: fakeSlow{command: "listOsTypes"}, ctxTimeout: 100 * time.Millisecond,
			wantKind: ErrTimeout, wantCommand: "listOsTypes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.slow = &tc.slow
			reqTimeout := 150 * time.Millisecond
			if tc.ctxTimeout != 0 {
				reqTimeout = 5 * time.Second
			}
			endpoint := srv.URL + "/client/api"
			p, err := NewPublisher(endpoint, testAPIKey, testSecretKey,
				WithPollInterval(5*time.Millisecond), WithRequestTimeout(reqTimeout))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.ctxTimeout != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			_, err = p.Publish(ctx, baseRequest())
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.wantKind) || e.Command != tc.wantCommand {
				t.Fatalf("err = %v (%#v), want %v from %s", err, e, tc.wantKind, tc.wantCommand)
			}
			assertNoCredentials(t, err.Error())
			if tc.wantKind == ErrTimeout {
				if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRequestTimeout) {
					t.Errorf("err = %v, want it to wrap context.DeadlineExceeded only", err)
				}
				return
			}
			if errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAPI) {
				t.Errorf("err = %v wraps another sentinel or the context's deadline", err)
			}
			testcheck.ContainsAll(t, "error", err.Error(), "the CloudStack API at "+endpoint+" did not answer "+tc.wantCommand+
				" within the request timeout of 150ms", "proxy", "WithRequestTimeout")
			if strings.Contains(err.Error(), "waiting for") || strings.Contains(err.Error(), "command=") {
				t.Errorf("misleading or signed text in %v", err)
			}
		})
	}
}

// TestPublishConflictAdvice checks that a name conflict offers only what the publish function can do:
// delete the other template(s) or choose another --name.
func TestPublishConflictAdvice(t *testing.T) {
	other1, other2 := "{SHA-512}"+strings.Repeat("cd34", 32), "{SHA-512}"+strings.Repeat("ef56", 32)
	tests := []struct {
		name   string
		others []string
		want   func(ids []string) string
	}{
		{name: "one", others: []string{other1}, want: func(ids []string) string {
			return fmt.Sprintf(`template "debian-12-x86_64" already exists in zone zone1 with a different checksum: `+
				`%s (checksum cd34cd34cd34cd34…); to replace it, delete it (cmk delete template id=%[1]s zoneid=%s, `+
				`or the deleteTemplate API) and publish again, or publish this build under another name with --name`,
				ids[0], zone1ID)
		}},
		{name: "two", others: []string{other1, other2}, want: func(ids []string) string {
			return fmt.Sprintf(`template "debian-12-x86_64" already exists in zone zone1 with a different checksum: `+
				`%s (checksum cd34cd34cd34cd34…), %s (checksum ef56ef56ef56ef56…); to replace them, delete them `+
				`(cmk delete template id=%[1]s zoneid=%[3]s; cmk delete template id=%[2]s zoneid=%[3]s, `+
				`or the deleteTemplate API) and publish again, or publish this build under another name with --name`,
				ids[0], ids[1], zone1ID)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			var ids []string
			for _, sum := range tc.others {
				ids = append(ids, f.addTemplate("debian-12-x86_64", sum, time.Now(), progressScript[3]).id)
			}
			_, err := newTestPublisher(t, srv.URL+"/client/api", testSecretKey).Publish(context.Background(), baseRequest())
			var e *Error
			if !errors.Is(err, ErrConflict) || !errors.As(err, &e) || e.TemplateID != ids[0] {
				t.Fatalf("err = %v, want ErrConflict for %s", err, ids[0])
			}
			if want := tc.want(ids); err.Error() != want {
				t.Errorf("message\n got %s\nwant %s", err, want)
			}
			if strings.Contains(strings.ToLower(err.Error()), "duplicate") {
				t.Errorf("message offers a duplicate, which the publish function cannot register: %v", err)
			}
			if f.count("registerTemplate") != 0 {
				t.Error("registered despite the conflict")
			}
		})
	}
}

// TestPublishStuckReusedTemplate checks that a template from an earlier run that is still downloading
// is waited for while it is younger than the wait, is reported as stuck at once when it is older, and
// that running out of the wait on it gives the same advice.
func TestPublishStuckReusedTemplate(t *testing.T) {
	downloading := fakeStep{status: "35% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 35}
	stuckMsg := func(tpl *fakeTemplate, wait time.Duration) string {
		return fmt.Sprintf(`template "debian-12-x86_64" (%s) from an earlier run has been downloading since %s `+
			`(last status "35%% Downloaded", 35%% downloaded), longer than the wait of %s, and is probably stuck: `+
			`delete it (cmk delete template id=%[1]s zoneid=%[4]s, or the deleteTemplate API) so that the next run `+
			`registers it anew`, tpl.id, tpl.created, wait, zone1ID)
	}
	timeoutMsg := func(tpl *fakeTemplate, wait time.Duration) string {
		return fmt.Sprintf(`template "debian-12-x86_64" (%s) is not ready after %s; it has been downloading since %s `+
			`(last status "35%% Downloaded", 35%% downloaded) and is probably stuck: delete it `+
			`(cmk delete template id=%[1]s zoneid=%[4]s, or the deleteTemplate API) so that the next run registers it anew`,
			tpl.id, wait, tpl.created, zone1ID)
	}
	tests := []struct {
		name    string
		created time.Duration // relative to now
		wait    time.Duration
		script  []fakeStep
		// wantMsg is the whole error text; "" means success.
		wantMsg   func(tpl *fakeTemplate, wait time.Duration) string
		wantPolls bool // listTemplates by id was called
	}{
		{name: "older than the wait fails at once", created: -2 * time.Hour, wait: 30 * time.Minute,
			script: []fakeStep{downloading}, wantMsg: stuckMsg},
		{name: "younger than the wait is waited for", created: -10 * time.Minute, wait: 30 * time.Minute,
			script: []fakeStep{downloading, progressScript[3]}, wantPolls: true},
		// A management server clock a minute ahead keeps the template young for a short wait, so
		// that the wait itself runs out.
		{name: "the wait runs out on it", created: time.Minute, wait: 100 * time.Millisecond,
			script: []fakeStep{downloading}, wantMsg: timeoutMsg, wantPolls: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			tpl := f.addTemplate("debian-12-x86_64", sha512Hex, time.Now().Add(tc.created), tc.script...)
			req := baseRequest()
			req.Wait = tc.wait
			res, err := newTestPublisher(t, srv.URL+"/client/api", testSecretKey).Publish(context.Background(), req)
			if f.count("registerTemplate") != 0 {
				t.Error("registered a second template")
			}
			if polls := f.count("listTemplates") > 1; polls != tc.wantPolls {
				t.Errorf("%d listTemplates calls, want polling %v", f.count("listTemplates"), tc.wantPolls)
			}
			if tc.wantMsg == nil {
				if err != nil || !res.Reused || res.TemplateID != tpl.id {
					t.Fatalf("Publish: %+v, %v", res, err)
				}
				return
			}
			var e *Error
			if !errors.Is(err, ErrTimeout) || !errors.As(err, &e) || e.TemplateID != tpl.id || e.Status != "35% Downloaded" {
				t.Fatalf("err = %v (%+v), want ErrTimeout for %s", err, e, tpl.id)
			}
			if want := tc.wantMsg(tpl, tc.wait); err.Error() != want {
				t.Errorf("message\n got %s\nwant %s", err, want)
			}
		})
	}
}
