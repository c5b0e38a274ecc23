package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// checkMirror refuses, when the module is created, a mirror the engine would record with credentials
// and the arguments that make sense only with a mirror.
func checkMirror(mirror string, svc *dagger.Service, auth *dagger.Secret) error {
	if redact.HasCredentials(mirror) {
		return fmt.Errorf("--mirror %q carries credentials (user:password@ or a query), which the engine would record with the call: give the URL without them and the credentials as a secret, e.g. dagger call --mirror-auth env:MIRROR_AUTH (user:password) --mirror URL build ...", redact.URL(mirror))
	}
	if auth != nil && mirror == "" {
		return fmt.Errorf("--mirror-auth is for a --mirror that asks for credentials; no --mirror was given")
	}
	if svc != nil {
		if mirror == "" {
			return fmt.Errorf("--mirror-service needs --mirror: the service answers for the mirror URL's host name, e.g. --mirror http://isos:8383 --mirror-service tcp://localhost:8383")
		}
		if _, p := fetch.ParseLocation(mirror); p == fetch.NotHTTP {
			return fmt.Errorf("mirror %q is not an http(s) URL like http://isos:8383", mirror)
		}
	}
	return nil
}

// fetchContainer runs cst-fetch for d: from the mirror (mirrorContainer), or, given no mirror, a
// fixture from the module's own fixture mirror, built in the engine. What fetch.NewPlan refuses (a
// bad mirror for d's source) is refused first, before anything is built.
func (m *CloudstackTemplates) fetchContainer(ctx context.Context, d osdefs.Definition) (*dagger.Container, error) {
	if _, err := fetch.NewPlan(d, m.Mirror); err != nil {
		return nil, err
	}
	if m.Mirror == "" {
		dir, ok, err := m.fixtureFiles(ctx, d)
		if err != nil {
			return nil, err
		}
		if ok {
			return m.fetchBase().WithServiceBinding(testbedMirrorHost(), fixtureMirror(dir)), nil
		}
	}
	return m.mirrorContainer(), nil
}

// mirrorContainer runs cst-fetch with the mirror service bound under the mirror URL's host name and
// the mirror's credentials in its environment.
func (m *CloudstackTemplates) mirrorContainer() *dagger.Container {
	c := m.fetchBase()
	if m.MirrorAuth != nil {
		// cst-fetch reads it from the environment: never an argument, which the engine records.
		c = c.WithSecretVariable("CST_MIRROR_AUTH", m.MirrorAuth)
	}
	return bindServiceFor(c, m.Mirror, m.MirrorService)
}

// fetchBase is the container cst-fetch runs in: Debian with CA certificates and the fetcher.
func (m *CloudstackTemplates) fetchBase() *dagger.Container {
	return aptInstall(dag.Container().From(debianImage), "ca-certificates").
		WithFile("/usr/local/bin/cst-fetch", m.fetchTool())
}

// bindServiceFor binds svc, when given, under the host name of rawURL (a mirror, a tools mirror, a
// Pushgateway), so that a URL only the caller can reach resolves inside the container. The URL was
// checked where it came in.
func bindServiceFor(c *dagger.Container, rawURL string, svc *dagger.Service) *dagger.Container {
	if svc == nil {
		return c
	}
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		c = c.WithServiceBinding(u.Hostname(), svc)
	}
	return c
}

// resolveISO reads and authenticates the checksum file. It runs on every build (the vendor may have
// re-spun an ISO under the same URL); what it learns, the digest, is what keys the download.
func (m *CloudstackTemplates) resolveISO(ctx context.Context, d osdefs.Definition) (fetch.Plan, error) {
	c, err := m.fetchContainer(ctx, d)
	if err != nil {
		return fetch.Plan{}, err
	}
	return m.resolveIn(ctx, c, d)
}

// resolveIn is resolveISO in c, a fetchContainer the caller goes on to use.
func (m *CloudstackTemplates) resolveIn(ctx context.Context, c *dagger.Container, d osdefs.Definition) (fetch.Plan, error) {
	return planExec(ctx, c, d, "resolve", "--os", d.ID, "--mirror", m.Mirror)
}

// planExec runs, in c (a fetchContainer), a cst-fetch command that prints the plan, anew on every
// call, and reads the plan.
func planExec(ctx context.Context, c *dagger.Container, d osdefs.Definition, args ...string) (fetch.Plan, error) {
	out, err := c.
		WithEnvVariable("CST_RESOLVED_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(append([]string{"cst-fetch"}, args...)).
		Stdout(ctx)
	if err != nil {
		return fetch.Plan{}, fmt.Errorf("fetch %s: %s", d.ID, execMessage(err))
	}
	var p fetch.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return fetch.Plan{}, fmt.Errorf("fetch %s: unreadable plan %q: %w", d.ID, out, err)
	}
	return p, nil
}

// fetch returns the verified installer (fetch-iso). The download exec is keyed by URL and digest, so
// a repeated call reuses the engine's result without touching the network; below that, the cache
// volume keeps verified files across engine cache pruning.
func (m *CloudstackTemplates) fetch(ctx context.Context, d osdefs.Definition, stallTimeout string) (*dagger.File, fetch.Plan, error) {
	c, err := m.fetchContainer(ctx, d)
	if err != nil {
		return nil, fetch.Plan{}, err
	}
	p, err := m.resolveIn(ctx, c, d)
	if err != nil {
		return nil, p, err
	}
	ran := c.WithMountedCache("/cache", cacheVolume("iso")).
		WithExec([]string{"cst-fetch", "download", "--os", d.ID, "--mirror", m.Mirror, "--digest", p.Digest,
			"--cache", "/cache", "--out", "/out", "--stall-timeout", stallTimeout})
	if _, err := ran.Sync(ctx); err != nil {
		return nil, p, fmt.Errorf("fetch %s: %s", d.ID, execMessage(err))
	}
	return ran.File("/out/" + p.FileName), p, nil
}

// isoCacheMount is where builds see the ISO cache volume.
const isoCacheMount = "/isos"

// fetchIntoCache resolves the checksum file and makes sure the verified installer is in the ISO
// cache volume, in one exec that runs on every build (the vendor may re-spin an ISO under the same
// URL; a cache hit costs a stat). Packer then reads the file from the volume by its digest, so the
// build is keyed by what the installer is: another mirror of the same file reuses every later stage.
func (m *CloudstackTemplates) fetchIntoCache(ctx context.Context, d osdefs.Definition, stallTimeout string) (fetch.Plan, error) {
	c, err := m.fetchContainer(ctx, d)
	if err != nil {
		return fetch.Plan{}, err
	}
	return planExec(ctx, c.WithMountedCache("/cache", cacheVolume("iso")), d,
		"get", "--os", d.ID, "--mirror", m.Mirror, "--cache", "/cache", "--stall-timeout", stallTimeout)
}

// defaultStallTimeout is how long a download may receive nothing before it is aborted and retried.
const defaultStallTimeout = "60s"
