package cloudstack

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"time"

	csapi "github.com/apache/cloudstack-go/v2/cloudstack"
)

// DefaultPollInterval is how often Publish asks CloudStack for the template's status.
const DefaultPollInterval = 10 * time.Second

// DefaultRequestTimeout bounds one API request (cloudstack-go's own default is 60 s too).
const DefaultRequestTimeout = 60 * time.Second

// Publisher registers templates with one CloudStack endpoint using one API key pair. It is safe for
// concurrent use. Printing it (%v, %+v, %#v) shows the endpoint only, never the keys.
type Publisher struct {
	endpoint       string
	apiKey         string
	secretKey      string
	transport      http.RoundTripper
	pollInterval   time.Duration
	requestTimeout time.Duration
	insecureTLS    bool
}

// Option configures a Publisher.
type Option func(*Publisher)

// WithTransport sends the API requests through rt instead of a clone of http.DefaultTransport
// (which honours HTTP_PROXY/HTTPS_PROXY/NO_PROXY).
func WithTransport(rt http.RoundTripper) Option { return func(p *Publisher) { p.transport = rt } }

// WithPollInterval sets how often the template's status is polled (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(p *Publisher) { p.pollInterval = d } }

// WithRequestTimeout bounds each API request (default DefaultRequestTimeout).
func WithRequestTimeout(d time.Duration) Option { return func(p *Publisher) { p.requestTimeout = d } }

// WithInsecureSkipVerify disables TLS certificate verification of the endpoint (self-signed test
// clouds). It has no effect together with WithTransport.
func WithInsecureSkipVerify() Option { return func(p *Publisher) { p.insecureTLS = true } }

// NewPublisher returns a Publisher for the API endpoint (e.g. "https://cloud.example/client/api")
// and the account's API key and secret key.
func NewPublisher(endpoint, apiKey, secretKey string, opts ...Option) (*Publisher, error) {
	endpoint = strings.TrimSpace(endpoint)
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		// The endpoint is not secret, but do not echo it back in case keys were pasted into it.
		return nil, invalidf("the CloudStack endpoint must be an http(s) URL without a query, e.g. https://cloud.example/client/api")
	}
	if strings.TrimSpace(apiKey) == "" || strings.TrimSpace(secretKey) == "" {
		return nil, invalidf("the CloudStack API key and secret key must not be empty")
	}
	p := &Publisher{endpoint: endpoint, apiKey: apiKey, secretKey: secretKey,
		pollInterval: DefaultPollInterval, requestTimeout: DefaultRequestTimeout}
	for _, o := range opts {
		o(p)
	}
	if p.pollInterval <= 0 {
		p.pollInterval = DefaultPollInterval
	}
	if p.requestTimeout <= 0 {
		p.requestTimeout = DefaultRequestTimeout
	}
	if p.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if p.insecureTLS {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opted in by the caller
		}
		p.transport = t
	}
	return p, nil
}

// Endpoint returns the API endpoint.
func (p *Publisher) Endpoint() string { return p.endpoint }

// String shows the endpoint only (a value receiver, so a dereferenced Publisher prints safely too).
func (p Publisher) String() string { return "cloudstack.Publisher(" + p.endpoint + ")" }

// GoString shows the endpoint only.
func (p Publisher) GoString() string { return p.String() }

// session is the state of one Publish call: a cloudstack-go client whose requests carry ctx.
type session struct {
	ctx            context.Context
	cs             *csapi.CloudStackClient
	transport      *ctxTransport
	redact         redactor
	endpoint       string
	requestTimeout time.Duration
}

func (p *Publisher) newSession(ctx context.Context) *session {
	tr := &ctxTransport{ctx: ctx, base: p.transport}
	hc := &http.Client{Transport: tr, Timeout: p.requestTimeout}
	// verifyssl only configures the client's default transport, which WithHTTPClient replaces.
	cs := csapi.NewClient(p.endpoint, p.apiKey, p.secretKey, !p.insecureTLS, csapi.WithHTTPClient(hc))
	return &session{ctx: ctx, cs: cs, transport: tr, redact: newRedactor(p.apiKey, p.secretKey),
		endpoint: p.endpoint, requestTimeout: p.requestTimeout}
}

// fail converts an error of an API call into an *Error naming what was being done.
func (s *session) fail(command string, err error, what string) *Error {
	return s.apiError(command, err, what)
}

// clean redacts server-controlled text (status text, download details) before it is shown.
func (s *session) clean(text string) string { return s.redact.clean(text) }
