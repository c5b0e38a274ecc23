package cloudstack

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
)

// ctxTransport binds the requests of one Publish call to its context (cloudstack-go's calls take no
// context) and remembers the last HTTP status, to explain answers that are not CloudStack JSON.
type ctxTransport struct {
	ctx        context.Context
	base       http.RoundTripper
	lastStatus atomic.Int64
}

// RoundTrip sends req, cancelling it when either its own context or the Publish context ends.
func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	t.lastStatus.Store(int64(resp.StatusCode))
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: func() { stop(); cancel() }}
	return resp, nil
}

// releasingBody releases the request's context once the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
