package cloudstack

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestNormalizeChecksum(t *testing.T) {
	sha256Hex := strings.Repeat("0f", 32)
	tests := []struct{ in, want, errPart string }{
		{in: "{SHA-512}" + sha512Hex, want: "{SHA-512}" + sha512Hex},
		{in: "{sha512}" + strings.ToUpper(sha512Hex), want: "{SHA-512}" + sha512Hex},
		{in: sha512Hex, want: "{SHA-512}" + sha512Hex},
		{in: sha256Hex, want: "{SHA-256}" + sha256Hex},
		{in: "{MD5}" + strings.Repeat("a", 32), want: "{MD5}" + strings.Repeat("a", 32)},
		{in: "{SHA-512}" + sha256Hex, errPart: "128 hex digits, not 64"},
		{in: "{SHA-3}" + sha256Hex, errPart: "CloudStack supports"},
		{in: "{SHA-512" + sha512Hex, errPart: "missing '}'"},
		{in: "{SHA-512}xyz", errPart: "not hexadecimal"},
		{in: "{SHA-512}abc", errPart: "128 hex digits, not 3"},
		{in: "", errPart: "not hexadecimal"},
		{in: strings.Repeat("a", 32), errPart: "write it as {SHA-512}<hex>"},
	}
	for _, tc := range tests {
		got, err := NormalizeChecksum(tc.in)
		switch {
		case tc.errPart != "":
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("NormalizeChecksum(%q) error %v, want one containing %q", tc.in, err, tc.errPart)
			}
		case err != nil || got != tc.want:
			t.Errorf("NormalizeChecksum(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name           string
		url            string // when set, the URL the request gives instead of the base one
		mod            func(r *Request)
		errPart        string
		absent         string // must not be in the error
		hypervisor     string
		wantURL        string
		wantWait       time.Duration
		wantDisplayTxt string
	}{
		{name: "defaults", mod: func(r *Request) { r.DisplayText, r.Wait = "", 0 },
			hypervisor: "KVM", wantWait: DefaultWait, wantDisplayTxt: "debian-12-x86_64"},
		{name: "vhd defaults to XenServer", mod: func(r *Request) { r.Format, r.URL = "vhd", "http://h.example/x.vhd" }, hypervisor: "XenServer"},
		{name: "hyper-v spelled as CloudStack wants", mod: func(r *Request) { r.Format, r.Hypervisor, r.URL = "VHD", "hyper-v", "http://h.example/x.VHD.bz2" }, hypervisor: "Hyperv"},
		{name: "ova defaults to VMware", mod: func(r *Request) { r.Format, r.URL = "OVA", "https://h.example/x.ova?X-Amz-Signature=abc" }, hypervisor: "VMware"},
		{name: "compressed qcow2", url: "https://h.example:443/x.qcow2.gz", hypervisor: "KVM"},
		{name: "port 8000 refused by CloudStack", url: "http://h.example:8000/x.qcow2", errPart: "ports 80, 8080 and 443, not 8000"},
		{name: "loopback host", url: "http://127.0.0.1/x.qcow2", errPart: "loopback"},
		{name: "localhost", url: "http://localhost:8080/x.qcow2", errPart: "localhost"},
		{name: "IPv6 host", url: "http://[2001:db8::1]/x.qcow2", errPart: "IPv6"},
		{name: "extension does not match the format", url: "http://h.example/x.vhd", errPart: "end in .qcow2"},
		{name: "query is not shown", url: "http://h.example/x.img?token=s3cr3t",
			errPart: "http://h.example/x.img?REDACTED", absent: "s3cr3t"},
		{name: "userinfo is not shown", url: "http://u:s3cr3t@h.example:8000/x.qcow2",
			errPart: "http://REDACTED@h.example:8000/x.qcow2:", absent: "s3cr3t"},
		{name: "userinfo of an unusable URL is not shown", url: "ftp://u:s3cr3t@h.example/x.qcow2?sig=s3cr3t2",
			errPart: `"ftp://REDACTED@h.example/x.qcow2?REDACTED"`, absent: "s3cr3t"},
		{name: "KVM cannot run OVA", mod: func(r *Request) { r.Format, r.Hypervisor = "ova", "KVM" }, errPart: "cannot run a OVA"},
		{name: "unknown hypervisor", mod: func(r *Request) { r.Hypervisor = "bhyve" }, errPart: `unknown hypervisor "bhyve"`},
		{name: "unknown format", mod: func(r *Request) { r.Format = "vmdk" }, errPart: `unknown template format "vmdk"`},
		{name: "empty name", mod: func(r *Request) { r.Name = " " }, errPart: "name is empty"},
		{name: "empty OS type", mod: func(r *Request) { r.OSType = "" }, errPart: "OS type"},
		{name: "empty zone", mod: func(r *Request) { r.Zone = "" }, errPart: "zone"},
		{name: "relative URL", url: "out/debian.qcow2", errPart: "absolute http"},
		{name: "file URL", url: "file:///out/debian.qcow2", errPart: "absolute http"},
		{name: "tilde in URL becomes %7E", url: "https://h.example/~me/x.qcow2",
			hypervisor: "KVM", wantURL: "https://h.example/%7Eme/x.qcow2"},
		{name: "tilde in name", mod: func(r *Request) { r.Name = "debian~12" }, errPart: "contains '~'"},
		{name: "tilde in detail", mod: func(r *Request) { r.Details = map[string]string{"k": "a~b"} }, errPart: "contains '~'"},
		{name: "bad checksum", mod: func(r *Request) { r.Checksum = "{SHA-512}abcd" }, errPart: "128 hex digits"},
		{name: "negative wait", mod: func(r *Request) { r.Wait = -time.Second }, errPart: "negative wait"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRequest()
			if tc.url != "" {
				r.URL = tc.url
			}
			if tc.mod != nil {
				tc.mod(&r)
			}
			p, err := prepare(r)
			if testcheck.Err(t, err, tc.errPart) {
				if !errors.Is(err, ErrInvalidRequest) {
					t.Errorf("err = %v, want an ErrInvalidRequest", err)
				}
				if tc.absent != "" && strings.Contains(err.Error(), tc.absent) {
					t.Errorf("err = %v shows %q", err, tc.absent)
				}
				return
			}
			if p.hypervisor != tc.hypervisor {
				t.Errorf("hypervisor %q, want %q", p.hypervisor, tc.hypervisor)
			}
			if tc.wantURL != "" && p.url != tc.wantURL {
				t.Errorf("url %q, want %q", p.url, tc.wantURL)
			}
			if tc.wantWait != 0 && p.Wait != tc.wantWait {
				t.Errorf("wait %s", p.Wait)
			}
			if tc.wantDisplayTxt != "" && p.DisplayText != tc.wantDisplayTxt {
				t.Errorf("display text %q", p.DisplayText)
			}
		})
	}
}

func TestNewPublisherValidates(t *testing.T) {
	for _, tc := range []struct{ endpoint, key, secret string }{
		{"cloud.example/client/api", "k", "s"},
		{"https://cloud.example/client/api?apiKey=k", "k", "s"},
		{"https://cloud.example/client/api", "", "s"},
		{"https://cloud.example/client/api", "k", " "},
	} {
		_, err := NewPublisher(tc.endpoint, tc.key, tc.secret)
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("NewPublisher(%q, %q, %q) err = %v", tc.endpoint, tc.key, tc.secret, err)
		}
	}
}

// TestFakeCloudVerifier checks the emulator's own signature check against a hand-signed request, so
// the Publish tests do not pass merely because the verifier accepts anything.
func TestFakeCloudVerifier(t *testing.T) {
	_, srv := newFakeCloud(t)
	params := url.Values{"command": {"listZones"}, "available": {"true"}, "response": {"json"},
		"apiKey": {testAPIKey}, "name": {"a b*c~d/e"}}
	params.Set("signature", expectedSignature(params, testSecretKey))
	get := func(v url.Values) int {
		resp, err := http.Get(srv.URL + "/client/api?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(params); code != 200 {
		t.Fatalf("correctly signed request: HTTP %d", code)
	}
	tampered := maps.Clone(params)
	tampered.Set("available", "false")
	if code := get(tampered); code != 401 {
		t.Errorf("tampered request: HTTP %d, want 401", code)
	}
	expired := maps.Clone(params)
	expired.Set("signatureversion", "3")
	expired.Set("expires", time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05-0700"))
	expired.Set("signature", expectedSignature(expired, testSecretKey))
	if code := get(expired); code != 401 {
		t.Errorf("expired request: HTTP %d, want 401", code)
	}
	if got := javaURLEncode("a b*c~d/e.f-_"); got != "a+b*c%7Ed%2Fe.f-_" {
		t.Errorf("javaURLEncode = %q", got)
	}
}
