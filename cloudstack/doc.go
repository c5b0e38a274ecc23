// Package cloudstack registers a built OS template with Apache CloudStack and waits until CloudStack
// has downloaded it and marked it Ready.
//
// The pipeline's publish function builds a [Publisher] from the API endpoint and the API/secret keys
// (read from *dagger.Secret values) and calls [Publisher.Publish] with a [Request] describing the
// artifact. Publish
//
//  1. resolves the OS type description with listOsTypes and the zone name or ID with listZones,
//  2. looks for an existing template of the same name in that zone (listTemplates templatefilter=self)
//     and reuses it when its checksum matches, so re-runs do not register duplicates,
//  3. otherwise calls registerTemplate, which CloudStack answers synchronously with the new template,
//  4. polls listTemplates (templatefilter=self, id, zoneid) until isready=true, reporting CloudStack's
//     status text ("35% Downloaded", "Installing Template", ...) to a callback, and fails with that
//     text when the secondary storage VM reports a download error, or when the wait times out.
//
// A reused template that is still downloading although it was created longer ago than the wait is
// taken to be stuck: Publish fails at once and says how to delete it, since waiting again would only
// run out again on every re-run.
//
// # Client
//
// Requests are made with the maintained Go client github.com/apache/cloudstack-go/v2 (a fresh client
// per Publish call, whose HTTP transport carries the call's context). It signs every request itself
// with signature version 3: the parameters sorted by name, values URL-encoded with spaces as %20, the
// whole string lower-cased, HMAC-SHA1 with the secret key, base64 — the algorithm of the CloudStack
// API developer's guide ("Signing API Requests", docs.huihoo.com/apache/cloudstack/4.0.0/.../
// signing-api-requests.html) and of ApiServer.verifyRequest in apache/cloudstack, which also rejects
// requests whose "expires" time (the client sets now+15 min) has passed.
//
// One incompatibility is worked around here: the client escapes values with Go's url.QueryEscape,
// which leaves '~' as is, while CloudStack re-encodes values with java.net.URLEncoder, which writes
// %7E, so a value containing '~' can never be verified. Publish therefore writes '~' in the download
// URL as the equivalent %7E and rejects '~' in names, display texts and details up front.
//
// # Secrets
//
// The API and secret keys are never put into an error, a log line, a progress report or a result.
// Errors from the HTTP layer (which quote the signed request URL, apiKey included) are rewritten
// before they are returned, and a Publisher prints as its endpoint only. The download URL may carry
// credentials too (userinfo, a pre-signed query), and CloudStack's status text is the server's and may
// quote it: both are shown only through the shared package redact (redact.URL for the download URL,
// redact.Text with the keys for everything that comes from the server), in errors, Error.Status,
// Progress.Status and Result.Status alike.
package cloudstack
