package zone

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// The password server's protocol (passwd_server_ip.py): a GET whose DomU_Request header asks for the
// password or acknowledges it. The answers are the password itself, or these words.
const (
	RequestPassword = "send_my_password"
	// SavedPassword is both the acknowledgement a guest sends once it has set the password and the
	// answer when no password is waiting.
	SavedPassword = "saved_password"
	BadRequest    = "bad_request"
)

// PasswordLog is what the password server saw.
type PasswordLog struct {
	// Served counts answers that carried the password.
	Served int
	// Acknowledged counts saved_password requests received while a password was waiting or after one
	// was served.
	Acknowledged int
	// Requests lists every DomU_Request header value, in order.
	Requests []string
}

// VirtualRouter is one guest network's router: metadata on port 80, passwords on port 8080.
type VirtualRouter struct {
	mu       sync.Mutex
	inst     Instance
	pending  bool // a password waits to be served
	log      PasswordLog
	requests []string // metadata paths asked for
}

// NewVirtualRouter serves inst; a non-empty password waits for the guest.
func NewVirtualRouter(inst Instance) (*VirtualRouter, error) {
	if err := inst.Check(); err != nil {
		return nil, err
	}
	return &VirtualRouter{inst: inst, pending: inst.Password != ""}, nil
}

// ResetPassword is CloudStack's "reset password": the router holds a new password for the guest's next
// request, as the management server pushes it to the VR.
func (vr *VirtualRouter) ResetPassword(password string) error {
	if password == "" || strings.ContainsAny(password, "\r\n") {
		return fmt.Errorf("zone: reset to an empty password or one with a line break")
	}
	vr.mu.Lock()
	defer vr.mu.Unlock()
	vr.inst.Password = password
	vr.pending = true
	vr.log = PasswordLog{}
	return nil
}

// PasswordLog returns what the password server saw since the instance started or the last reset.
func (vr *VirtualRouter) PasswordLog() PasswordLog {
	vr.mu.Lock()
	defer vr.mu.Unlock()
	l := vr.log
	l.Requests = append([]string(nil), vr.log.Requests...)
	return l
}

// MetadataRequests lists the metadata paths the guest asked for.
func (vr *VirtualRouter) MetadataRequests() []string {
	vr.mu.Lock()
	defer vr.mu.Unlock()
	return append([]string(nil), vr.requests...)
}

// PasswordServer answers as passwd_server_ip.py: send_my_password gets the waiting password or
// "saved_password"; saved_password forgets the password and answers "saved_password"; anything else
// is a 400 with "bad_request".
func (vr *VirtualRouter) PasswordServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := r.Header.Get("DomU_Request")
		vr.mu.Lock()
		vr.log.Requests = append(vr.log.Requests, req)
		var answer string
		status := http.StatusOK
		switch req {
		case RequestPassword:
			if vr.pending {
				answer = vr.inst.Password
				vr.log.Served++
			} else {
				answer = SavedPassword
			}
		case SavedPassword:
			if vr.pending || vr.log.Served > 0 {
				vr.log.Acknowledged++
			}
			vr.pending = false
			answer = SavedPassword
		default:
			status, answer = http.StatusBadRequest, BadRequest
		}
		vr.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	})
}

// Metadata serves /latest/meta-data/ (a listing, one name a line), /latest/meta-data/NAME,
// /latest/user-data, and the older /latest/NAME form the VR also answers.
func (vr *VirtualRouter) Metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vr.mu.Lock()
		vr.requests = append(vr.requests, r.URL.Path)
		inst := vr.inst
		vr.mu.Unlock()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		md := inst.Metadata()
		path := strings.TrimPrefix(r.URL.Path, "/latest/")
		if path == r.URL.Path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		switch path {
		case "meta-data", "meta-data/":
			io.WriteString(w, strings.Join(metadataNames(md), "\n")+"\n")
			return
		case "user-data", "user-data/":
			w.Write(inst.UserData)
			return
		}
		name := strings.TrimPrefix(path, "meta-data/")
		if v, ok := md[name]; ok {
			io.WriteString(w, v)
			return
		}
		http.NotFound(w, r)
	})
}
