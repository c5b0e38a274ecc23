package main

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/cloudstack"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
)

// Publish a built template to CloudStack: register the artifact at --url (CloudStack downloads it
// from there) with the format, hypervisor, OS type and {SHA-512} checksum recorded in the build's
// metadata.json, then wait until the template is Ready in the zone. Re-running with the same name and
// checksum reuses the existing template instead of registering a duplicate. Never cached.
// +cache="never"
func (m *CloudstackTemplates) Publish(
	ctx context.Context,
	// The metadata.json of the build (its cloudStack entries say how to register each artifact).
	metadata *dagger.File,
	// Where CloudStack downloads the artifact (http/https on port 80, 443 or 8080); its file name picks
	// the artifact from the metadata. A URL that carries credentials (user:password@, or a pre-signed
	// query) goes in --signed-url instead.
	// +optional
	url string,
	// The download URL as a secret (e.g. env:SIGNED_URL), for a pre-signed or password-protected URL:
	// kept out of the engine's records of the call, logs and errors.
	// +optional
	signedUrl *dagger.Secret,
	// CloudStack API endpoint, e.g. https://cloud.example.com/client/api.
	endpoint string,
	// CloudStack API key (e.g. env:CS_API_KEY).
	apiKey *dagger.Secret,
	// CloudStack secret key (e.g. env:CS_SECRET_KEY).
	secretKey *dagger.Secret,
	// Zone name or ID to register the template in.
	zone string,
	// Template name; defaults to the metadata's registerTemplate name.
	// +optional
	name string,
	// Hypervisor override (KVM, XenServer, Hyperv, VMware); defaults to the format's.
	// +optional
	hypervisor string,
	// Make the template public.
	// +optional
	public bool,
	// Mark the template featured.
	// +optional
	featured bool,
	// Override password-enabled (CloudStack resets the password at boot); defaults to the metadata's.
	// +optional
	passwordEnabled *bool,
	// How long to wait for the template to become Ready (Go duration).
	// +default="30m"
	wait string,
	// Accept a self-signed certificate on the endpoint.
	// +optional
	insecure bool,
) (string, error) {
	switch {
	case signedUrl != nil && url != "":
		return "", fmt.Errorf("give the download URL once: --url or --signed-url, not both")
	case signedUrl != nil:
		v, err := signedUrl.Plaintext(ctx)
		if err != nil {
			return "", fmt.Errorf("read --signed-url: %w", err)
		}
		url = strings.TrimSpace(v)
	case url == "":
		return "", fmt.Errorf("--url is required: where CloudStack downloads the artifact (or --signed-url env:VAR for a URL with credentials)")
	case redact.HasCredentials(url):
		return "", fmt.Errorf("--url %q carries credentials (user:password@ or a signed query), which the engine would record with the call: pass it as a secret, --signed-url env:SIGNED_URL", redact.URL(url))
	}
	waitFor, err := time.ParseDuration(wait)
	if err != nil || waitFor <= 0 {
		return "", fmt.Errorf("--wait %q is not a positive duration like 30m", wait)
	}
	raw, err := metadata.Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("read --metadata: %w", err)
	}
	md, err := artifacts.DecodeMetadata([]byte(raw))
	if err != nil {
		return "", fmt.Errorf("--metadata is not a cloudstack-templates metadata.json: %w", err)
	}
	file := path.Base(strings.SplitN(url, "?", 2)[0])
	var entry *artifacts.RegisterTemplate
	var names []string
	for i, e := range md.CloudStack {
		names = append(names, e.Artifact)
		if e.Artifact == file {
			entry = &md.CloudStack[i]
		}
	}
	if entry == nil {
		return "", fmt.Errorf("--url names %q, which is not an artifact of this build: choose one of %s", file, strings.Join(names, ", "))
	}
	key, err := apiKey.Plaintext(ctx)
	if err != nil {
		return "", fmt.Errorf("read --api-key: %w", err)
	}
	secret, err := secretKey.Plaintext(ctx)
	if err != nil {
		return "", fmt.Errorf("read --secret-key: %w", err)
	}
	var opts []cloudstack.Option
	if insecure {
		opts = append(opts, cloudstack.WithInsecureSkipVerify())
	}
	p, err := cloudstack.NewPublisher(endpoint, key, secret, opts...)
	if err != nil {
		return "", err
	}
	log := stageLogger(md.OS.ID)
	req := cloudstack.Request{
		Name: entry.Name, DisplayText: entry.DisplayText, URL: url,
		Format: cloudstack.Format(entry.Format), Hypervisor: entry.Hypervisor, OSType: entry.OSType,
		Zone: zone, Checksum: entry.Checksum, Public: public, Featured: featured,
		PasswordEnabled: entry.PasswordEnabled, SSHKeyEnabled: entry.SSHKeyEnabled, Extractable: entry.IsExtractable, Wait: waitFor,
		OnProgress: func(pr cloudstack.Progress) {
			log.Info("publish", "template", pr.TemplateID, "status", pr.Status, "ready", pr.Ready, "elapsed", pr.Elapsed.Round(time.Second))
		},
	}
	if name != "" {
		req.Name, req.DisplayText = name, name
	}
	if hypervisor != "" {
		req.Hypervisor = hypervisor
	}
	if passwordEnabled != nil {
		req.PasswordEnabled = *passwordEnabled
	}
	res, err := p.Publish(ctx, req)
	if err != nil {
		return "", err
	}
	verb := "registered"
	if res.Reused {
		verb = "reused"
	}
	return fmt.Sprintf("%s template %s (%s) in zone %s: %s, %s/%s, OS type %q, status %s\n",
		verb, res.Name, res.TemplateID, res.ZoneName, res.Checksum, res.Format, res.Hypervisor, res.OSTypeName, res.Status), nil
}
