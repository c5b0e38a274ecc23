package cloudstack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Sentinel errors: every error returned by Publish wraps exactly one of them, so callers can branch
// with errors.Is. The text of the returned error says what failed in words a user can act on.
var (
	// ErrInvalidRequest: the Request (or the Publisher's settings) cannot be sent as is.
	ErrInvalidRequest = errors.New("invalid publish request")
	// ErrAuth: CloudStack did not accept the credentials or the request signature (errorcode 401).
	ErrAuth = errors.New("cloudstack authentication failed")
	// ErrUnknownOSType: no CloudStack OS type has the requested description.
	ErrUnknownOSType = errors.New("unknown cloudstack OS type")
	// ErrUnknownZone: no zone visible to the account has the requested name or ID.
	ErrUnknownZone = errors.New("unknown cloudstack zone")
	// ErrConflict: a template of the same name but a different checksum already exists in the zone.
	ErrConflict = errors.New("conflicting cloudstack template")
	// ErrDownloadFailed: CloudStack reported that downloading or installing the template failed.
	ErrDownloadFailed = errors.New("cloudstack template download failed")
	// ErrTimeout: the template was not Ready before the wait ran out.
	ErrTimeout = errors.New("timed out waiting for cloudstack template")
	// ErrAPI: any other error from the API or from reaching it.
	ErrAPI = errors.New("cloudstack API error")
)

// Error is the error type returned by Publish. Its message never contains the API or secret key.
type Error struct {
	// Kind is one of the Err* sentinels above; errors.Is(err, Kind) holds.
	Kind error
	// Command is the CloudStack API command that failed ("registerTemplate"), or "" when the failure
	// is not one API call (validation, waiting).
	Command string
	// Code is CloudStack's errorcode (401, 431, 530, ...) when the API answered with an error, else 0.
	Code int
	// TemplateID is the template concerned, when there is one.
	TemplateID string
	// Status is CloudStack's last status text for the template, when there is one.
	Status string

	msg   string
	cause error // only context errors, which carry no secrets
}

// Error returns the message.
func (e *Error) Error() string { return e.msg }

// Unwrap returns Kind and, for cancelled or expired contexts, the context error.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

// csErrorRe matches the error text cloudstack-go builds from CloudStack's error JSON
// ({"<command>response": {"errorcode": N, "cserrorcode": M, "errortext": "..."}}), see CSError.Error in
// github.com/apache/cloudstack-go/v2/cloudstack/cloudstack.go.
var csErrorRe = regexp.MustCompile(`^CloudStack API error (\d+) \(CSExceptionErrorCode: (\d+)\): (?s:(.*))$`)

// credentialParamRe finds signed-request parameters that must not be shown.
var credentialParamRe = regexp.MustCompile(`(?i)\b(apikey|signature)=[^&\s"']*`)

// redactor scrubs credentials out of text that may come from the HTTP layer or the server.
type redactor struct{ secrets []string }

func newRedactor(secrets ...string) redactor {
	var r redactor
	for _, s := range secrets {
		if s != "" {
			r.secrets = append(r.secrets, s)
			if q := url.QueryEscape(s); q != s {
				r.secrets = append(r.secrets, q)
			}
		}
	}
	return r
}

func (r redactor) clean(s string) string {
	s = credentialParamRe.ReplaceAllString(s, "$1=REDACTED")
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "REDACTED")
	}
	return s
}

// apiError turns an error from a cloudstack-go call into an *Error without credentials in it.
// lastStatus is the HTTP status of the last response seen (0 if none).
func (r redactor) apiError(command string, err error, lastStatus int, what string) *Error {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// net/http quotes the whole signed GET URL (apiKey, signature) in its errors: drop the query.
		u := ue.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		e := &Error{Kind: ErrAPI, Command: command,
			msg: r.clean(fmt.Sprintf("%s: cannot reach the CloudStack API at %s: %v", what, u, ue.Err))}
		if ctxErr := contextCause(ue.Err); ctxErr != nil {
			e.cause = ctxErr
			if errors.Is(ctxErr, context.DeadlineExceeded) {
				e.Kind = ErrTimeout
			}
		}
		return e
	}
	text := err.Error()
	if m := csErrorRe.FindStringSubmatch(text); m != nil {
		code, _ := strconv.Atoi(m[1])
		errText := r.clean(strings.TrimSpace(m[3]))
		if isAuthFailure(code, errText) {
			return &Error{Kind: ErrAuth, Command: command, Code: code, msg: fmt.Sprintf(
				"%s: CloudStack rejected the API credentials (%s errorcode %d: %q): check the API key and "+
					"secret key, that the keys belong to an enabled user, and that this machine's clock is "+
					"within 15 minutes of the management server's (signed requests expire)", what, command, code, errText)}
		}
		return &Error{Kind: ErrAPI, Command: command, Code: code,
			msg: fmt.Sprintf("%s: CloudStack %s failed with errorcode %d: %s", what, command, code, errText)}
	}
	// Anything else is a response that is not CloudStack's JSON (a proxy's HTML page, a wrong path).
	msg := fmt.Sprintf("%s: unexpected answer to %s: %s", what, command, r.clean(text))
	if lastStatus != 0 {
		msg += fmt.Sprintf(" (HTTP %d; is the endpoint the API URL, e.g. https://cloud.example/client/api?)", lastStatus)
	}
	return &Error{Kind: ErrAPI, Command: command, msg: msg}
}

// isAuthFailure tells whether a CloudStack error is a credentials/signature failure. ApiServlet answers
// a request that fails ApiServer.verifyRequest with HTTP 401 and errorcode 401 (ApiErrorCode.UNAUTHORIZED)
// and the text "unable to verify user credentials and/or request signature"; the text is matched too in
// case a proxy or an older version uses another code (432 is UNSUPPORTED_ACTION_ERROR, which CloudStack
// returns for commands the caller's role may not use — not an auth failure by itself).
func isAuthFailure(code int, text string) bool {
	return code == 401 || strings.Contains(strings.ToLower(text), "unable to verify user credentials")
}

func contextCause(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	return nil
}

func invalidf(format string, args ...any) *Error {
	return &Error{Kind: ErrInvalidRequest, msg: "publish: " + fmt.Sprintf(format, args...)}
}
