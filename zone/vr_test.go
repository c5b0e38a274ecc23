package zone

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func testInstance() Instance {
	return Instance{UUID: "8d4c5f0e-0000-4000-8000-000000000001", Hostname: "cst-test", PublicKey: "ssh-ed25519 AAAA cst",
		Password: "s3cret", UserData: []byte("#cloud-config\n"), IPv4: "10.0.2.15"}
}

// startVR starts a virtual router for inst and serves one of its handlers (service, such as
// (*VirtualRouter).PasswordServer) until the test ends; it returns the router as well, so a test
// can reset the password or read the password log.
func startVR(t *testing.T, inst Instance, service func(*VirtualRouter) http.Handler) (*VirtualRouter, *httptest.Server) {
	t.Helper()
	vr, err := NewVirtualRouter(inst)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(service(vr))
	t.Cleanup(srv.Close)
	return vr, srv
}

func domU(t *testing.T, srv *httptest.Server, request string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if request != "" {
		req.Header.Set("DomU_Request", request)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The password server answers as passwd_server_ip.py, step by step: the password until the guest
// acknowledges it, then "saved_password"; a reset makes a new one wait.
func TestPasswordServerProtocol(t *testing.T) {
	vr, srv := startVR(t, testInstance(), (*VirtualRouter).PasswordServer)
	steps := []struct {
		request    string
		reset      string
		wantStatus int
		wantBody   string
	}{
		{request: RequestPassword, wantStatus: 200, wantBody: "s3cret"},
		{request: RequestPassword, wantStatus: 200, wantBody: "s3cret"}, // a retry before the ack gets it again
		{request: SavedPassword, wantStatus: 200, wantBody: SavedPassword},
		{request: RequestPassword, wantStatus: 200, wantBody: SavedPassword},
		{request: "", wantStatus: 400, wantBody: BadRequest},
		{request: "send_my_pasword", wantStatus: 400, wantBody: BadRequest},
		{reset: "n3w", request: RequestPassword, wantStatus: 200, wantBody: "n3w"},
		{request: SavedPassword, wantStatus: 200, wantBody: SavedPassword},
		{request: RequestPassword, wantStatus: 200, wantBody: SavedPassword},
	}
	for i, s := range steps {
		if s.reset != "" {
			if err := vr.ResetPassword(s.reset); err != nil {
				t.Fatal(err)
			}
		}
		status, body := domU(t, srv, s.request)
		if status != s.wantStatus || body != s.wantBody {
			t.Fatalf("step %d (%q): %d %q, want %d %q", i, s.request, status, body, s.wantStatus, s.wantBody)
		}
	}
	l := vr.PasswordLog()
	if l.Served != 1 || l.Acknowledged != 1 || len(l.Requests) != 3 {
		t.Fatalf("log since the reset: %+v", l)
	}
}

func TestPasswordServerNothingWaiting(t *testing.T) {
	inst := testInstance()
	inst.Password = ""
	vr, srv := startVR(t, inst, (*VirtualRouter).PasswordServer)
	if _, body := domU(t, srv, RequestPassword); body != SavedPassword {
		t.Fatalf("no password waiting: %q", body)
	}
	// An ack without a served password proves nothing.
	domU(t, srv, SavedPassword)
	if l := vr.PasswordLog(); l.Acknowledged != 0 || l.Served != 0 {
		t.Fatalf("log %+v", l)
	}
	if err := vr.ResetPassword("a\nb"); err == nil {
		t.Fatal("a password with a line break was accepted")
	}
}

func TestMetadataService(t *testing.T) {
	_, srv := startVR(t, testInstance(), (*VirtualRouter).Metadata)
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/latest/meta-data/instance-id", 200, "8d4c5f0e-0000-4000-8000-000000000001"},
		{"/latest/meta-data/local-hostname", 200, "cst-test"},
		{"/latest/meta-data/public-keys", 200, "ssh-ed25519 AAAA cst"},
		{"/latest/user-data", 200, "#cloud-config\n"},
		{"/latest/instance-id", 200, "8d4c5f0e-0000-4000-8000-000000000001"},
		{"/latest/meta-data/vm-password", 404, ""},
		{"/2009-04-04/meta-data/instance-id", 404, ""},
	}
	for _, tt := range tests {
		status, body := get(tt.path)
		if status != tt.status || (tt.status == 200 && body != tt.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, status, body, tt.status, tt.body)
		}
	}
	// The listing: one name a line, no trailing slashes, CloudStack's metadataFileNames.
	_, listing := get("/latest/meta-data/")
	names := strings.Fields(listing)
	for _, want := range []string{"service-offering", "availability-zone", "local-ipv4", "local-hostname", "public-ipv4",
		"public-hostname", "instance-id", "vm-id", "public-keys", "cloud-identifier", "hypervisor-host-name"} {
		if !slices.Contains(names, want) {
			t.Errorf("listing lacks %s:\n%s", want, listing)
		}
	}
	if strings.Contains(listing, "/") {
		t.Errorf("listing has a directory entry:\n%s", listing)
	}
}

func TestInstanceCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Instance)
		want string
	}{
		{"complete", func(*Instance) {}, ""},
		{"no UUID", func(i *Instance) { i.UUID = "" }, "UUID"},
		{"no key", func(i *Instance) { i.PublicKey = "" }, "PublicKey"},
		{"line break in password", func(i *Instance) { i.Password = "a\r\nb" }, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := testInstance()
			tt.edit(&inst)
			testcheck.Err(t, inst.Check(), tt.want)
		})
	}
}
