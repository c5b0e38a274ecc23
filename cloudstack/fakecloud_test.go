package cloudstack

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCloud emulates the part of the CloudStack API that Publish uses. It checks every request's
// signature with the algorithm of the CloudStack developer's guide ("Signing API Requests") as
// ApiServer.verifyRequest implements it, written here independently of cloudstack-go:
//
//   - every parameter except "signature", sorted by name, as name=URLEncoder.encode(value, UTF-8)
//     with "+" replaced by "%20", joined with "&";
//   - the whole string lower-cased, HMAC-SHA1 with the secret key, base64;
//   - with signatureversion=3 the "expires" time must not have passed.
//
// Failures get CloudStack's answer: HTTP 401 and
// {"<command>response": {"uuidList": [], "errorcode": 401, "errortext": "unable to verify user
// credentials and/or request signature"}} (the shape the CloudStack UI's error handler and the
// stacker_bee client's tests expect).
type fakeCloud struct {
	t         *testing.T
	apiKey    string
	secretKey string
	// clockSkew is added to the server's clock when checking "expires".
	clockSkew time.Duration

	mu        sync.Mutex
	osTypes   []map[string]any
	zones     []map[string]any
	templates []*fakeTemplate
	calls     map[string]int
	registers []map[string]string // parameters of each registerTemplate call
	nextID    int
	// script is the status sequence a newly registered template goes through, one step per
	// listTemplates call that names its id.
	script []fakeStep
	// slow, if set, makes the server hold back its answer to some requests.
	slow *fakeSlow
	// registerError, if set, is the errortext registerTemplate fails with; %s is replaced by the url
	// parameter as CloudStack received it.
	registerError string
}

// fakeSlow holds back the answer to command ("" for every command) until the client gives up: before
// the headers, or after the headers and the start of the body when midBody is set.
type fakeSlow struct {
	command string
	midBody bool
}

// fakeStep is one state of a template as listTemplates shows it.
type fakeStep struct {
	status        string
	ready         bool
	downloadState string
	percent       int
	datastore     string // image store name in downloaddetails; "sec1" when empty
}

type fakeTemplate struct {
	id, name, checksum, zoneID, zoneName, osTypeID, format, hypervisor, url string
	created                                                                 string // CloudStack's format, e.g. 2025-01-01T10:00:00+0000
	script                                                                  []fakeStep
	step                                                                    int
}

const (
	testAPIKey    = "TESTAPIKEY-aZ09_-fakefakefakefakefakefake"
	testSecretKey = "TESTSECRET/+=-really-secret-value-0123456789"
	zone1ID       = "0a1b2c3d-0000-4000-8000-000000000001"
	zone2ID       = "0a1b2c3d-0000-4000-8000-000000000002"
	debianOSID    = "11111111-2222-4333-8444-555555555555"
)

// progressScript is a download that takes several polls.
var progressScript = []fakeStep{
	{status: "10% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 10},
	{status: "60% Downloaded", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 60},
	{status: "Installing Template", downloadState: "DOWNLOAD_IN_PROGRESS", percent: 100},
	{status: "Download Complete", ready: true, downloadState: "DOWNLOADED", percent: 100},
}

func newFakeCloud(t *testing.T) (*fakeCloud, *httptest.Server) {
	t.Helper()
	f := &fakeCloud{t: t, apiKey: testAPIKey, secretKey: testSecretKey, calls: map[string]int{},
		script: progressScript}
	// Shapes of listostypesresponse.ostype[] (GuestOSResponse: id, description, oscategoryid, ...).
	for i, d := range []string{"Debian GNU/Linux 11 (64-bit)", "Debian GNU/Linux 12 (64-bit)",
		"Debian GNU/Linux 12 (32-bit)", "Ubuntu 22.04 LTS", "Ubuntu 24.04 LTS", "Rocky Linux 9",
		"Windows Server 2022 (64-bit)", "Other Linux (64-bit)"} {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		if d == "Debian GNU/Linux 12 (64-bit)" {
			id = debianOSID
		}
		f.osTypes = append(f.osTypes, map[string]any{"id": id, "description": d, "name": d,
			"oscategoryid": "cat-1", "oscategoryname": "Linux", "isuserdefined": false, "fordisplay": true})
	}
	// Shapes of listzonesresponse.zone[] (ZoneResponse).
	f.zones = []map[string]any{
		{"id": zone1ID, "name": "zone1", "networktype": "Advanced", "allocationstate": "Enabled", "securitygroupsenabled": false},
		{"id": zone2ID, "name": "Zone-Two", "networktype": "Basic", "allocationstate": "Enabled", "securitygroupsenabled": true},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// javaURLEncode is java.net.URLEncoder.encode(s, "UTF-8"): letters, digits and ".-*_" stay, space
// becomes "+", every other byte of the UTF-8 encoding becomes %XX (upper-case hex).
func javaURLEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// expectedSignature computes the signature CloudStack expects for the given parameters.
func expectedSignature(params map[string][]string, secret string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		if !strings.EqualFold(k, "signature") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + strings.ReplaceAll(javaURLEncode(params[k][0]), "+", "%20")
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(strings.ToLower(strings.Join(parts, "&"))))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// parseExpires reads "expires" as CloudStack's DateUtil.parseTZDateString does
// (yyyy-MM-dd'T'HH:mm:ssZ, also with a literal Z).
func parseExpires(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad expires %q", s)
}

func (f *fakeCloud) verify(params map[string][]string) bool {
	get := func(k string) string {
		for name, v := range params {
			if strings.EqualFold(name, k) {
				return v[0]
			}
		}
		return ""
	}
	sig, key := get("signature"), get("apiKey")
	if sig == "" || key != f.apiKey {
		return false
	}
	if get("signatureversion") == "3" {
		exp, err := parseExpires(get("expires"))
		if err != nil || exp.Before(time.Now().Add(f.clockSkew)) {
			return false
		}
	}
	return hmac.Equal([]byte(sig), []byte(expectedSignature(params, f.secretKey)))
}

func (f *fakeCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	params := map[string][]string(r.Form)
	command := r.Form.Get("command")
	respName := strings.ToLower(command) + "response"
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/client/api" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "<html><body>Apache CloudStack</body></html>")
		return
	}
	if r.Form.Get("response") != "json" {
		f.t.Errorf("%s: response=%q, want json", command, r.Form.Get("response"))
	}
	if !f.verify(params) {
		f.reply(w, http.StatusUnauthorized, respName, map[string]any{"uuidList": []any{}, "errorcode": 401,
			"errortext": "unable to verify user credentials and/or request signature"})
		return
	}
	if sl := f.slow; sl != nil && (sl.command == "" || sl.command == command) {
		if sl.midBody {
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, `{"%s": {"count": 1, `, respName)
			w.(http.Flusher).Flush()
		}
		// Until the client hangs up, so that closing the server does not wait for the full delay.
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[command]++
	switch command {
	case "listOsTypes":
		f.listOsTypes(w, r, respName)
	case "listZones":
		if r.Form.Get("available") != "true" {
			f.t.Errorf("listZones without available=true")
		}
		f.reply(w, 200, respName, listBody("zone", f.zones))
	case "listTemplates":
		f.listTemplates(w, r, respName)
	case "registerTemplate":
		f.registerTemplate(w, r, respName)
	default:
		f.reply(w, 432, respName, map[string]any{"uuidList": []any{}, "errorcode": 432, "cserrorcode": 9999,
			"errortext": "The given command does not exist or it is not available for user"})
	}
}

func listBody(key string, items []map[string]any) map[string]any {
	if len(items) == 0 {
		return map[string]any{} // CloudStack omits count and the list when nothing matches
	}
	return map[string]any{"count": len(items), key: items}
}

func (f *fakeCloud) reply(w http.ResponseWriter, code int, respName string, body any) {
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(map[string]any{respName: body}); err != nil {
		f.t.Errorf("encode: %v", err)
	}
}

func (f *fakeCloud) paramError(w http.ResponseWriter, respName, text string) {
	f.reply(w, 431, respName, map[string]any{"uuidList": []any{}, "errorcode": 431, "cserrorcode": 4350, "errortext": text})
}

func (f *fakeCloud) listOsTypes(w http.ResponseWriter, r *http.Request, respName string) {
	desc, id := strings.ToLower(r.Form.Get("description")), r.Form.Get("id")
	var out []map[string]any
	for _, o := range f.osTypes {
		// GuestOSDaoImpl: displayName LIKE %description% (MySQL's default collation ignores case).
		if desc != "" && !strings.Contains(strings.ToLower(o["description"].(string)), desc) {
			continue
		}
		if id != "" && o["id"] != id {
			continue
		}
		out = append(out, o)
	}
	f.reply(w, 200, respName, listBody("ostype", out))
}

// templateJSON renders a template as TemplateResponse does in listTemplates and registerTemplate.
func (f *fakeCloud) templateJSON(t *fakeTemplate) map[string]any {
	s := t.script[min(t.step, len(t.script)-1)]
	datastore := s.datastore
	if datastore == "" {
		datastore = "sec1"
	}
	m := map[string]any{
		"id": t.id, "name": t.name, "displaytext": t.name, "ispublic": false, "isready": s.ready,
		"status": s.status, "format": t.format, "hypervisor": t.hypervisor, "ostypeid": t.osTypeID,
		"zoneid": t.zoneID, "zonename": t.zoneName, "templatetype": "USER", "account": "admin",
		"checksum": checksumDigest(t.checksum), "url": t.url, "crossZones": false,
		"downloaddetails": []map[string]string{{"datastore": datastore, "downloadPercent": fmt.Sprint(s.percent),
			"downloadState": s.downloadState}},
	}
	if t.created != "" {
		m["created"] = t.created
	}
	return m
}

func (f *fakeCloud) listTemplates(w http.ResponseWriter, r *http.Request, respName string) {
	if r.Form.Get("templatefilter") != "self" {
		f.paramError(w, respName, "templatefilter must be self in this test")
		return
	}
	id, name, zone := r.Form.Get("id"), r.Form.Get("name"), r.Form.Get("zoneid")
	var out []map[string]any
	for _, t := range f.templates {
		if (id != "" && t.id != id) || (name != "" && t.name != name) || (zone != "" && t.zoneID != zone) {
			continue
		}
		out = append(out, f.templateJSON(t))
		if id != "" {
			t.step++ // each poll by id advances the download
		}
	}
	f.reply(w, 200, respName, listBody("template", out))
}

func (f *fakeCloud) registerTemplate(w http.ResponseWriter, r *http.Request, respName string) {
	if r.Method != http.MethodPost {
		f.t.Errorf("registerTemplate sent with %s, cloudstack-go POSTs it", r.Method)
	}
	p := map[string]string{}
	for k, v := range r.PostForm {
		p[k] = v[0]
	}
	f.registers = append(f.registers, p)
	for _, k := range []string{"displaytext", "format", "hypervisor", "name", "url", "ostypeid", "zoneid"} {
		if p[k] == "" {
			f.paramError(w, respName, "Unable to execute API command registertemplate due to missing parameter "+k)
			return
		}
	}
	var osOK bool
	for _, o := range f.osTypes {
		osOK = osOK || o["id"] == p["ostypeid"]
	}
	var zoneName string
	for _, z := range f.zones {
		if z["id"] == p["zoneid"] {
			zoneName = z["name"].(string)
		}
	}
	if !osOK || zoneName == "" {
		f.paramError(w, respName, "Unable to execute API command registertemplate due to invalid value")
		return
	}
	if f.registerError != "" {
		f.reply(w, 530, respName, map[string]any{"uuidList": []any{}, "errorcode": 530, "cserrorcode": 4250,
			"errortext": strings.ReplaceAll(f.registerError, "%s", p["url"])})
		return
	}
	f.nextID++
	t := &fakeTemplate{id: fmt.Sprintf("7e3f0000-0000-4000-8000-%012d", f.nextID), name: p["name"],
		checksum: p["checksum"], zoneID: p["zoneid"], zoneName: zoneName, osTypeID: p["ostypeid"],
		format: p["format"], hypervisor: p["hypervisor"], url: p["url"], created: time.Now().Format(createdLayout),
		script: append([]fakeStep{{status: "Processing", downloadState: "NOT_DOWNLOADED"}}, f.script...)}
	f.templates = append(f.templates, t)
	f.reply(w, 200, respName, map[string]any{"count": 1, "template": []map[string]any{f.templateJSON(t)}})
}

func (f *fakeCloud) count(command string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[command]
}

// addTemplate puts a template registered by an earlier run into zone1, as a KVM QCOW2 template of
// the Debian 12 OS type, going through script one step per listTemplates call by id.
func (f *fakeCloud) addTemplate(name, checksum string, created time.Time, script ...fakeStep) *fakeTemplate {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	t := &fakeTemplate{id: fmt.Sprintf("5eed0000-0000-4000-8000-%012d", f.nextID), name: name, checksum: checksum,
		zoneID: zone1ID, zoneName: "zone1", osTypeID: debianOSID, format: "QCOW2", hypervisor: "KVM",
		url: "http://artifacts.example/earlier.qcow2", created: created.Format(createdLayout), script: script}
	f.templates = append(f.templates, t)
	return t
}
