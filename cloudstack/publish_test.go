package cloudstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

var sha512Hex = strings.Repeat("ab12", 32)

func baseRequest() Request {
	return Request{
		Name:            "debian-12-x86_64",
		DisplayText:     "Debian 12 (built 2025-01-01)",
		URL:             "http://artifacts.example:8080/debian-12/debian-12.qcow2",
		Format:          "qcow2",
		OSType:          "Debian GNU/Linux 12 (64-bit)",
		Zone:            "zone1",
		Checksum:        "{SHA-512}" + sha512Hex,
		Public:          true,
		PasswordEnabled: true,
		SSHKeyEnabled:   true,
		Extractable:     true,
		Details:         map[string]string{"rootDiskController": "virtio"},
		Wait:            5 * time.Second,
	}
}

func newTestPublisher(t *testing.T, endpoint, secret string) *Publisher {
	t.Helper()
	p, err := NewPublisher(endpoint, testAPIKey, secret, WithPollInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// assertNoCredentials fails if text shows a key, a signature or a signed query.
func assertNoCredentials(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range append([]string{testAPIKey, testSecretKey}, secrets...) {
		if strings.Contains(text, s) {
			t.Errorf("text contains a credential %q: %s", s, text)
		}
	}
	lower := strings.ToLower(text)
	for rest := lower; ; {
		i := strings.Index(rest, "signature=")
		if i < 0 {
			break
		}
		rest = rest[i+len("signature="):]
		if !strings.HasPrefix(rest, "redacted") {
			t.Errorf("text contains a signature: %s", text)
			break
		}
	}
}

func TestPublish(t *testing.T) {
	type check func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress)
	// registered checks a run that succeeds and registers the template as hypervisor's, in format,
	// in the zone zoneID.
	registered := func(hypervisor, format, zoneID string) check {
		return func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
			if err != nil {
				t.Fatal(err)
			}
			if reg := f.registers[0]; reg["hypervisor"] != hypervisor || reg["format"] != format || reg["zoneid"] != zoneID {
				t.Errorf("registered %v, want hypervisor %s, format %s, zone %s", reg, hypervisor, format, zoneID)
			}
		}
	}
	tests := []struct {
		name   string
		setup  func(f *fakeCloud)
		secret string // default testSecretKey
		req    func(r *Request)
		check  check
	}{
		{
			name: "happy path takes several polls",
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				if err != nil {
					t.Fatalf("Publish: %v", err)
				}
				var statuses []string
				var percents []int
				for _, p := range progress {
					statuses = append(statuses, p.Status)
					percents = append(percents, p.Percent)
				}
				wantS := "Processing|10% Downloaded|60% Downloaded|Installing Template|Download Complete"
				if got := strings.Join(statuses, "|"); got != wantS {
					t.Errorf("progress statuses %q, want %q", got, wantS)
				}
				if fmt.Sprint(percents) != "[0 10 60 100 100]" {
					t.Errorf("percents %v", percents)
				}
				if !progress[len(progress)-1].Ready || progress[0].Ready {
					t.Errorf("ready flags wrong: %+v", progress)
				}
				if res.Reused || res.Status != "Download Complete" || res.ZoneID != zone1ID || res.ZoneName != "zone1" ||
					res.OSTypeID != debianOSID || res.Hypervisor != "KVM" || res.Format != FormatQCOW2 ||
					res.TemplateID == "" || res.Checksum != "{SHA-512}"+sha512Hex {
					t.Errorf("result %+v", res)
				}
				if n := f.count("registerTemplate"); n != 1 {
					t.Fatalf("registerTemplate called %d times", n)
				}
				reg := f.registers[0]
				want := map[string]string{"name": "debian-12-x86_64", "displaytext": "Debian 12 (built 2025-01-01)",
					"format": "QCOW2", "hypervisor": "KVM", "ostypeid": debianOSID, "zoneid": zone1ID,
					"checksum": "{SHA-512}" + sha512Hex, "ispublic": "true", "isfeatured": "false",
					"passwordenabled": "true", "sshkeyenabled": "true", "isextractable": "true", "details[0].rootDiskController": "virtio",
					"url": "http://artifacts.example:8080/debian-12/debian-12.qcow2"}
				for k, v := range want {
					if reg[k] != v {
						t.Errorf("registerTemplate %s=%q, want %q", k, reg[k], v)
					}
				}
			},
		},
		{
			name: "download fails with the post-download script error",
			setup: func(f *fakeCloud) {
				f.script = []fakeStep{
					{status: "5% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 5},
					{status: "Failed post download script: /usr/bin/qemu-img check failed", downloadState: "DOWNLOAD_ERROR"},
				}
			},
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				var e *Error
				if !errors.Is(err, ErrDownloadFailed) || !errors.As(err, &e) {
					t.Fatalf("err = %v, want ErrDownloadFailed", err)
				}
				if !strings.Contains(err.Error(), "Failed post download script: /usr/bin/qemu-img check failed") ||
					!strings.Contains(err.Error(), "DOWNLOAD_ERROR") || e.TemplateID == "" {
					t.Errorf("error does not carry CloudStack's status: %v", err)
				}
			},
		},
		{
			name: "download failed reported in the status text only",
			setup: func(f *fakeCloud) {
				f.script = []fakeStep{{status: "Download Failed: HTTP Server returned 404 (expected 200 OK)", downloadState: ""}}
			},
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				if !errors.Is(err, ErrDownloadFailed) || !strings.Contains(err.Error(), "HTTP Server returned 404") {
					t.Fatalf("err = %v, want ErrDownloadFailed with the status", err)
				}
			},
		},
		{
			name:   "wrong secret key",
			secret: "the-wrong-secret/with+chars",
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				var e *Error
				if !errors.Is(err, ErrAuth) || !errors.As(err, &e) || e.Code != 401 || e.Command != "listOsTypes" {
					t.Fatalf("err = %#v, want ErrAuth 401 from listOsTypes", err)
				}
				if !strings.Contains(err.Error(), "unable to verify user credentials") {
					t.Errorf("error lacks CloudStack's text: %v", err)
				}
				assertNoCredentials(t, err.Error(), "the-wrong-secret/with+chars")
				assertNoCredentials(t, fmt.Sprintf("%+v %#v", err, e), "the-wrong-secret/with+chars")
				if f.count("registerTemplate") != 0 || res != nil {
					t.Errorf("registered despite auth failure")
				}
			},
		},
		{
			name:  "expired signature (server clock 20 minutes ahead)",
			setup: func(f *fakeCloud) { f.clockSkew = 20 * time.Minute },
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "clock") {
					t.Fatalf("err = %v, want ErrAuth mentioning the clock", err)
				}
				assertNoCredentials(t, err.Error())
			},
		},
		{
			name: "unknown OS type lists close matches",
			req:  func(r *Request) { r.OSType = "Debian GNU/Linux 13 (64-bit)" },
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				if !errors.Is(err, ErrUnknownOSType) {
					t.Fatalf("err = %v, want ErrUnknownOSType", err)
				}
				msg := err.Error()
				if !strings.Contains(msg, `"Debian GNU/Linux 13 (64-bit)"`) || !strings.Contains(msg, `"Debian GNU/Linux 12 (64-bit)"`) ||
					strings.Contains(msg, "Windows") {
					t.Errorf("message: %s", msg)
				}
				if f.count("registerTemplate") != 0 {
					t.Error("registered with an unknown OS type")
				}
			},
		},
		{
			name: "unknown zone names the available ones",
			req:  func(r *Request) { r.Zone = "zone9" },
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				if !errors.Is(err, ErrUnknownZone) {
					t.Fatalf("err = %v, want ErrUnknownZone", err)
				}
				testcheck.ContainsAll(t, "message", err.Error(), `"zone9"`, `"zone1"`, `"Zone-Two"`, zone2ID)
			},
		},
		{
			name: "zone by ID, Hyper-V override for a VHD",
			req: func(r *Request) {
				r.Zone, r.Format, r.Hypervisor, r.URL = zone2ID, "VHD", "Hyper-V", "http://a.example/d.vhd"
			},
			check: registered("Hyperv", "VHD", zone2ID),
		},
		{
			name:  "zone name ignoring case, OVA defaults to VMware",
			req:   func(r *Request) { r.Zone, r.Format, r.URL = "zone-two", "ova", "https://a.example/d.ova" },
			check: registered("VMware", "OVA", zone2ID),
		},
		{
			name: "tilde in the download URL is sent as %7E and verifies",
			req:  func(r *Request) { r.URL = "http://files.example/~builder/debian 12.qcow2" },
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				if err != nil {
					t.Fatal(err)
				}
				if got := f.registers[0]["url"]; got != "http://files.example/%7Ebuilder/debian 12.qcow2" {
					t.Errorf("url %q", got)
				}
			},
		},
		{
			name: "timeout reports the last status",
			setup: func(f *fakeCloud) {
				f.script = []fakeStep{{status: "35% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 35}}
			},
			req: func(r *Request) { r.Wait = 150 * time.Millisecond },
			check: func(t *testing.T, f *fakeCloud, res *Result, err error, progress []Progress) {
				var e *Error
				if !errors.Is(err, ErrTimeout) || !errors.As(err, &e) {
					t.Fatalf("err = %v, want ErrTimeout", err)
				}
				if e.Status != "35% Downloaded" || !strings.Contains(err.Error(), `last status: "35% Downloaded"`) {
					t.Errorf("err %v, status %q", err, e.Status)
				}
				if f.count("listTemplates") < 3 {
					t.Errorf("only %d listTemplates calls: not polling", f.count("listTemplates"))
				}
				if progress[len(progress)-1].Percent != 35 {
					t.Errorf("progress %+v", progress)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			secret := tc.secret
			if secret == "" {
				secret = testSecretKey
			}
			req := baseRequest()
			if tc.req != nil {
				tc.req(&req)
			}
			var progress []Progress
			req.OnProgress = func(p Progress) { progress = append(progress, p) }
			res, err := newTestPublisher(t, srv.URL+"/client/api", secret).Publish(context.Background(), req)
			if err != nil {
				assertNoCredentials(t, err.Error(), secret)
			}
			for _, p := range progress {
				assertNoCredentials(t, fmt.Sprintf("%+v", p), secret)
			}
			tc.check(t, f, res, err, progress)
		})
	}
}

func TestPublishRerunReusesTemplate(t *testing.T) {
	f, srv := newFakeCloud(t)
	p := newTestPublisher(t, srv.URL+"/client/api", testSecretKey)
	ctx := context.Background()

	// First run gives up while CloudStack is still downloading.
	f.script = []fakeStep{{status: "10% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 10},
		{status: "50% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 50}}
	req := baseRequest()
	req.Wait = 30 * time.Millisecond
	first, err := p.Publish(ctx, req)
	if !errors.Is(err, ErrTimeout) || first != nil {
		t.Fatalf("first run: %v", err)
	}
	// The download finishes later; the re-run must wait for the same template, not register again.
	f.mu.Lock()
	f.templates[0].script = append(f.templates[0].script, progressScript[2:]...)
	f.mu.Unlock()
	req.Wait = 5 * time.Second
	var progress []Progress
	req.OnProgress = func(pr Progress) { progress = append(progress, pr) }
	second, err := p.Publish(ctx, req)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !second.Reused || second.TemplateID != f.templates[0].id || second.Status != "Download Complete" {
		t.Errorf("second run %+v", second)
	}
	if len(progress) == 0 || !progress[0].Reused {
		t.Errorf("progress does not say reused: %+v", progress)
	}
	// A third run finds it ready at once. The checksum is given bare and upper-case this time.
	req.Checksum = strings.ToUpper(sha512Hex)
	third, err := p.Publish(ctx, req)
	if err != nil || !third.Reused || third.TemplateID != second.TemplateID {
		t.Fatalf("third run: %+v, %v", third, err)
	}
	if n := f.count("registerTemplate"); n != 1 {
		t.Errorf("registerTemplate called %d times, want 1", n)
	}
}

func TestPublishSameNameOtherChecksum(t *testing.T) {
	f, srv := newFakeCloud(t)
	p := newTestPublisher(t, srv.URL+"/client/api", testSecretKey)
	if _, err := p.Publish(context.Background(), baseRequest()); err != nil {
		t.Fatal(err)
	}
	req := baseRequest()
	req.Checksum = "{SHA-512}" + strings.Repeat("cd34", 32)
	_, err := p.Publish(context.Background(), req)
	var e *Error
	if !errors.Is(err, ErrConflict) || !errors.As(err, &e) || e.TemplateID != f.templates[0].id ||
		!strings.Contains(err.Error(), f.templates[0].id) {
		t.Fatalf("err = %v, want ErrConflict naming %s", err, f.templates[0].id)
	}
	if f.count("registerTemplate") != 1 {
		t.Fatal("registered despite the conflict")
	}
	req.AllowDuplicate = true
	res, err := p.Publish(context.Background(), req)
	if err != nil || res.Reused || res.TemplateID == f.templates[0].id || f.count("registerTemplate") != 2 {
		t.Fatalf("AllowDuplicate: %+v, %v, %d registrations", res, err, f.count("registerTemplate"))
	}
}

func TestPublishFailedTemplateIsNotReused(t *testing.T) {
	f, srv := newFakeCloud(t)
	p := newTestPublisher(t, srv.URL+"/client/api", testSecretKey)
	f.script = []fakeStep{{status: "Download Failed: connection refused", downloadState: "DOWNLOAD_ERROR"}}
	if _, err := p.Publish(context.Background(), baseRequest()); !errors.Is(err, ErrDownloadFailed) {
		t.Fatalf("first run: %v", err)
	}
	f.script = progressScript
	res, err := p.Publish(context.Background(), baseRequest())
	if err != nil || res.Reused || f.count("registerTemplate") != 2 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
}

func TestPublishUnreachableEndpointHidesSignedURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p := newTestPublisher(t, "http://"+addr+"/client/api", testSecretKey)
	_, err = p.Publish(context.Background(), baseRequest())
	if !errors.Is(err, ErrAPI) || !strings.Contains(err.Error(), "cannot reach the CloudStack API at http://"+addr+"/client/api") {
		t.Fatalf("err = %v", err)
	}
	assertNoCredentials(t, err.Error())
	if strings.Contains(err.Error(), "command=") {
		t.Errorf("error shows the signed query: %v", err)
	}
}

func TestPublishWrongEndpointPath(t *testing.T) {
	_, srv := newFakeCloud(t)
	p := newTestPublisher(t, srv.URL+"/", testSecretKey)
	_, err := p.Publish(context.Background(), baseRequest())
	if !errors.Is(err, ErrAPI) || !strings.Contains(err.Error(), "/client/api") || !strings.Contains(err.Error(), "HTTP 200") {
		t.Fatalf("err = %v", err)
	}
}

func TestPublishContextCancelled(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.script = []fakeStep{{status: "35% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 35}}
	ctx, cancel := context.WithCancel(context.Background())
	req := baseRequest()
	req.OnProgress = func(p Progress) {
		if p.Status == "35% Downloaded" {
			cancel()
		}
	}
	_, err := newTestPublisher(t, srv.URL+"/client/api", testSecretKey).Publish(ctx, req)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "35% Downloaded") {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req.OnProgress = nil
	req.Name = "other"
	_, err = newTestPublisher(t, srv.URL+"/client/api", testSecretKey).Publish(ctx, req)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestPublisherDoesNotPrintKeys(t *testing.T) {
	p := newTestPublisher(t, "https://cloud.example/client/api", testSecretKey)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), fmt.Sprintf("%+v", *p),
		fmt.Sprintf("%#v", *p), fmt.Sprintf("%v", []any{p})} {
		assertNoCredentials(t, s)
		if !strings.Contains(s, "https://cloud.example/client/api") {
			t.Errorf("%q does not show the endpoint", s)
		}
	}
}
