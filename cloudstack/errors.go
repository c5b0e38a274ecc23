package cloudstack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloudstack-templates/cloudstack-templates/redact"
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
	// ErrTimeout: the template was not Ready before the wait (Request.Wait or the context's deadline)
	// ran out, or a template reused from an earlier run has been downloading for longer than the wait.
	ErrTimeout = errors.New("timed out waiting for cloudstack template")
	// ErrRequestTimeout: one API request got no complete answer within the request timeout
	// (WithRequestTimeout); nothing was being waited for.
	ErrRequestTimeout = errors.New("cloudstack API request timed out")
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
	// Status is CloudStack's last status text for the template, when there is one, with URLs and
	// credentials in it redacted (the text is the server's and may quote a signed download URL).
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

// redactor removes credentials from text that may come from the HTTP layer or the server, using the
// shared redact package (URLs in the text lose their userinfo and query, signed-request parameters are
// masked) plus the secrets of one Publish call: the API key pair and pieces of the download URL.
type redactor struct{ secrets []string }

func newRedactor(secrets ...string) redactor {
	return redactor{secrets: append([]string(nil), secrets...)}
}

// with returns a redactor that also removes more secrets.
func (r redactor) with(secrets ...string) redactor {
	return redactor{secrets: append(append([]string(nil), r.secrets...), secrets...)}
}

func (r redactor) clean(s string) string { return redact.Text(s, r.secrets...) }

// minURLSecret is the shortest userinfo or query value removed wherever it appears: a short value
// ("admin", "3600") is unlikely to be a credential, and replacing it everywhere would garble the text.
const minURLSecret = 6

// downloadURLSecrets returns the parts of a download URL that may be credentials. CloudStack may echo
// them without the rest of the URL (a bare host:port/path?query, a decoded value), where redact.Text
// cannot recognise a URL, so they are removed as plain strings too.
func downloadURLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	add := func(v string) {
		if len(v) >= minURLSecret {
			out = append(out, v)
		}
	}
	if u.User != nil {
		add(u.User.Username())
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
	}
	if u.RawQuery != "" {
		add(u.RawQuery)
		for _, vs := range u.Query() {
			for _, v := range vs {
				add(v)
			}
		}
	}
	return out
}

// apiError turns an error from a cloudstack-go call into an *Error without credentials in it.
func (s *session) apiError(command string, err error, what string) *Error {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e
	}
	r := s.redact
	// A request ends early for three reasons that need different advice: the Publish context ended
	// (the caller's deadline or cancellation), the per-request timeout of the http.Client ran out
	// (net/http reports that as an error that Is context.DeadlineExceeded, also while reading the
	// body), or the endpoint could not be reached at all.
	if ctxErr := s.ctx.Err(); ctxErr != nil && contextCause(err) != nil {
		e := &Error{Kind: ErrAPI, Command: command, cause: contextCause(ctxErr),
			msg: fmt.Sprintf("%s: %s was interrupted because the publish context ended: %v", what, command, ctxErr)}
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			e.Kind = ErrTimeout
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: ErrRequestTimeout, Command: command, msg: fmt.Sprintf(
			"%s: the CloudStack API at %s did not answer %s within the request timeout of %s: check that "+
				"the endpoint is the CloudStack API URL and reachable from here, that no proxy "+
				"(HTTPS_PROXY/HTTP_PROXY) holds the request, or allow a slow management server more time "+
				"with WithRequestTimeout", what, r.clean(redact.URL(s.endpoint)), command, s.requestTimeout)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// net/http quotes the whole signed GET URL (apiKey, signature) in its errors; the endpoint
		// has no query of its own (NewPublisher refuses one), so everything after '?' is the request.
		u := ue.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return &Error{Kind: ErrAPI, Command: command,
			msg: r.clean(fmt.Sprintf("%s: cannot reach the CloudStack API at %s: %v", what, redact.URL(u), ue.Err))}
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
	if lastStatus := s.transport.lastStatus.Load(); lastStatus != 0 {
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
