// Command cst-fetch is the ISO fetch stage of cloudstack-templates. The pipeline runs it inside a
// container that mounts the ISO cache volume:
//
//	cst-fetch resolve  --os ID [--mirror URL]                         → plan JSON on stdout
//	cst-fetch download --os ID [--mirror URL] --digest HEX --cache DIR --out DIR → result JSON on stdout
//	cst-fetch get      --os ID [--mirror URL] --cache DIR             → plan JSON on stdout
//
// resolve reads and authenticates the checksum file; download places the verified ISO in the cache
// (or finds it there) and copies it to --out. get does both in one run and leaves the ISO in the
// cache only, where the build reads it by digest: no copy of a multi-gigabyte file, and a build
// cached by what the installer is, not by where it came from.
//
// A mirror that asks for credentials gets them from the environment variable CST_MIRROR_AUTH
// (user:password), which the pipeline sets from a secret: an argument would be recorded by the engine.
// They go to the --mirror only, never to a vendor site.
//
// Plans are printed with their URLs redacted (no userinfo, no signed query): the pipeline reads only
// the digest, file name, algorithm and OS from them. Progress goes to stderr as log lines; a failure
// ends with one undecorated line, which the pipeline quotes in its own error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"github.com/cloudstack-templates/cloudstack-templates/checksum"
	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/redact"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: cst-fetch resolve|download|get --os ID [flags]
       cst-fetch tool --tool NAME@VERSION [--mirror URL [--key FILE] [--identity SAN --issuer URL]] --cache DIR --out DIR

  resolve   read and authenticate the checksum file; print the plan
  download  place the ISO with --digest in the --cache and copy it to --out; print the result
  get       resolve, then place the ISO in the --cache; print the plan
  tool      install a tool from its vendor's signed release (or a --mirror laid out like the
            vendor's site, optionally re-signed) as --out/NAME; print the plan. packer's release is
            signed with OpenPGP: --key is then the armored key of the mirror's signer. trivy's is
            signed with Sigstore: --key is then a trusted_root.json that replaces Sigstore's
            public-good root, and --identity/--issuer the certificate identity and OIDC issuer
            that sign the mirror's bundles instead of Aqua Security's release workflow

flags:
`

// mirrorAuthEnv names the variable that carries a mirror's credentials.
const mirrorAuthEnv = "CST_MIRROR_AUTH"

// options are the flags of every command, and the mirror's credentials.
type options struct {
	os, mirror, digest, digestFrom, cache, out string
	tool, key, identity, issuer                string
	client                                     fetch.Client
	minRate                                    int64
	auth                                       string
}

func newFlags(stderr io.Writer) (*flag.FlagSet, *options) {
	o := &options{}
	fs := flag.NewFlagSet("cst-fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.os, "os", "", "OS id or alias (required but for tool)")
	fs.StringVar(&o.tool, "tool", "", "tool and release version, e.g. packer@1.9.4 (tool)")
	fs.StringVar(&o.key, "key", "", "the --mirror's signer instead of the vendor's: an armored OpenPGP key, or for a Sigstore-signed tool a trusted_root.json (tool)")
	fs.StringVar(&o.identity, "identity", "", "certificate identity (exact subject alternative name) that signs the --mirror's Sigstore bundles instead of the vendor's (tool)")
	fs.StringVar(&o.issuer, "issuer", "", "OIDC issuer (exact) of that identity, instead of the vendor's (tool)")
	fs.StringVar(&o.mirror, "mirror", "", "flat mirror URL that replaces the vendor location")
	fs.StringVar(&o.digest, "digest", "", "expected hex digest (download; required there)")
	fs.StringVar(&o.digestFrom, "digest-from", "the --digest argument", "where --digest came from, for the mismatch error (download)")
	fs.StringVar(&o.cache, "cache", "/cache", "cache directory")
	fs.StringVar(&o.out, "out", "/out", "directory to copy the verified file to (download)")
	fs.IntVar(&o.client.Attempts, "attempts", fetch.DefaultAttempts, "tries for transient failures")
	fs.DurationVar(&o.client.ConnectTimeout, "connect-timeout", fetch.DefaultConnectTimeout, "give up an attempt that has no TCP connection after this long")
	fs.DurationVar(&o.client.TLSHandshakeTimeout, "tls-timeout", fetch.DefaultTLSHandshakeTimeout, "give up an attempt whose TLS handshake takes longer")
	fs.DurationVar(&o.client.HeaderTimeout, "header-timeout", fetch.DefaultHeaderTimeout, "give up an attempt that has no response headers this long after the request")
	fs.DurationVar(&o.client.StallTimeout, "stall-timeout", fetch.DefaultStallTimeout, "abort a transfer that receives nothing for this long")
	fs.Int64Var(&o.minRate, "min-rate", fetch.DefaultMinRate, "abort a transfer slower than this many bytes/s over --rate-window (0 disables)")
	fs.DurationVar(&o.client.RateWindow, "rate-window", fetch.DefaultRateWindow, "window over which --min-rate is averaged")
	return fs, o
}

// run is the whole command; it returns the exit status (2 for usage errors, 1 for failures).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := newFlags(stderr)
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	// The command comes first: a typo in it must not surface as a complaint about another flag.
	cmd := args[0]
	switch cmd {
	case "resolve", "download", "get", "tool":
	case "help", "-h", "-help", "--help":
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	default:
		return fail(stderr, 2, fmt.Errorf("unknown command %q: use resolve, download, get or tool", cmd))
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // flag has printed the error and the usage
	}
	if fs.NArg() > 0 {
		return fail(stderr, 2, fmt.Errorf("unexpected argument %q: every option is a flag (see cst-fetch help)", fs.Arg(0)))
	}
	o.auth = os.Getenv(mirrorAuthEnv)
	secrets := authSecrets(o.auth)
	result, err := execute(ctx, cmd, o, stderr, secrets)
	if err != nil {
		return fail(stderr, 1, err, secrets...)
	}
	if err := json.NewEncoder(stdout).Encode(result); err != nil {
		return fail(stderr, 1, err, secrets...)
	}
	return 0
}

// authSecrets are the parts of the mirror's credentials that must never be printed, whatever quotes
// them: the whole user:password and the password alone.
func authSecrets(auth string) []string {
	auth = strings.TrimRight(auth, "\r\n")
	if _, pass, ok := strings.Cut(auth, ":"); ok && pass != "" {
		return []string{auth, pass}
	}
	return nil
}

// fail prints the final error line. The pipeline quotes it in its own error: no log decoration, and
// scrubbed once more in case some message quoted a URL or a credential unredacted.
func fail(stderr io.Writer, code int, err error, secrets ...string) int {
	fmt.Fprintln(stderr, redact.Text(err.Error(), secrets...))
	return code
}

func validate(cmd string, o *options) error {
	if cmd == "tool" {
		if o.tool == "" {
			return fmt.Errorf("missing --tool: give NAME@VERSION, e.g. packer@1.9.4 (tools: %s)", strings.Join(toolrelease.Tools(), ", "))
		}
		if o.key != "" && o.mirror == "" {
			return errors.New("--key replaces the vendor's key for a --mirror only: give the mirror too")
		}
		if (o.identity != "" || o.issuer != "") && o.mirror == "" {
			return errors.New("--identity and --issuer replace the vendor's signer for a --mirror only: give the mirror too")
		}
		if strings.TrimSpace(o.auth) != "" {
			return fmt.Errorf("%s is for an installer mirror; a tools mirror takes no credentials", mirrorAuthEnv)
		}
	} else if o.identity != "" || o.issuer != "" {
		return errors.New("--identity and --issuer are for the tool command")
	} else if strings.TrimSpace(o.os) == "" {
		return fmt.Errorf("missing --os: choose one of %s", strings.Join(osdefs.IDs(), ", "))
	}
	if strings.TrimSpace(o.auth) != "" && strings.TrimSpace(o.mirror) == "" {
		// The vendor URLs of the catalogue must never receive a mirror's password.
		return fmt.Errorf("%s is set but no --mirror was given: the credentials are for a mirror only", mirrorAuthEnv)
	}
	if cmd == "download" && strings.TrimSpace(o.digest) == "" {
		return errors.New("missing --digest: download needs the expected digest (cst-fetch resolve prints it)")
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"--connect-timeout", o.client.ConnectTimeout}, {"--tls-timeout", o.client.TLSHandshakeTimeout},
		{"--header-timeout", o.client.HeaderTimeout}, {"--stall-timeout", o.client.StallTimeout},
		{"--rate-window", o.client.RateWindow},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive, got %s", d.flag, d.v)
		}
	}
	if o.minRate < 0 {
		return fmt.Errorf("--min-rate must be 0 (off) or a rate in bytes/s, got %d", o.minRate)
	}
	if o.client.Attempts < 1 {
		return fmt.Errorf("--attempts must be at least 1, got %d", o.client.Attempts)
	}
	return nil
}

func execute(ctx context.Context, cmd string, o *options, stderr io.Writer, secrets []string) (any, error) {
	if err := validate(cmd, o); err != nil {
		return nil, err
	}
	if cmd == "tool" {
		return installTool(ctx, o, stderr)
	}
	d, err := osdefs.Lookup(o.os)
	if err != nil {
		return nil, err
	}
	plan, err := fetch.NewPlan(d, o.mirror)
	if err != nil {
		return nil, err
	}
	if plan, err = plan.WithAuth(o.auth); err != nil {
		return nil, fmt.Errorf("%s: %w", mirrorAuthEnv, err)
	}
	client := o.newClient(stderr, secrets, "os", d.ID)

	switch cmd {
	case "resolve":
		if plan, err = client.Resolve(ctx, d, plan); err != nil {
			return nil, err
		}
		return plan.Redacted(), nil
	case "download":
		if plan.Digest, err = checksum.Normalize(plan.Algorithm, o.digest); err != nil {
			return nil, fmt.Errorf("--digest: %w", err)
		}
		return download(ctx, client, plan, o.cache, o.out, o.digestFrom)
	default: // get
		if plan, err = client.Resolve(ctx, d, plan); err != nil {
			return nil, err
		}
		want := fetch.Want{Algorithm: plan.Algorithm, Digest: plan.Digest, From: "the checksum file " + redact.URL(plan.ChecksumURL)}
		res, err := client.Download(ctx, plan.URL, plan.CachePath(o.cache), want)
		if err != nil {
			return nil, err
		}
		evict(client, o.cache, plan, res.Path)
		return plan.Redacted(), nil
	}
}

func download(ctx context.Context, c *fetch.Client, p fetch.Plan, cache, out, digestFrom string) (fetch.Result, error) {
	want := fetch.Want{Algorithm: p.Algorithm, Digest: p.Digest, From: digestFrom}
	res, err := c.Download(ctx, p.URL, p.CachePath(cache), want)
	if err != nil {
		return res, err
	}
	evict(c, cache, p, res.Path)
	// The cache is a mount that goes away with the exec: hand out a copy.
	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, err
	}
	if err := copyFile(res.Path, filepath.Join(out, p.FileName)); err != nil {
		return res, err
	}
	res.Path = filepath.Join(out, p.FileName)
	return res, nil
}

// evict marks the installer just placed as used and removes the OS's entries the cache keeps no
// longer (fetch.DefaultEviction: the one in use and the one before it, and any used within the hour).
// A failure only warns: the installer in hand is verified either way.
func evict(c *fetch.Client, cache string, p fetch.Plan, path string) {
	now := time.Now()
	if err := fetch.MarkUsed(path, now); err != nil {
		c.Log("download cache: %v", err)
	}
	removed, err := fetch.DefaultEviction.Evict(cache, p, now)
	for _, k := range removed {
		c.Log("download cache: evicted %s (not used for %s, and newer installers of %s are kept)", k, fetch.DefaultEviction.Grace, p.OS)
	}
	if err != nil {
		c.Log("download cache: %v", err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

// newClient is the flags' HTTP client, logging progress to stderr with secrets scrubbed and what it
// fetches for (key, value) on every line.
func (o *options) newClient(stderr io.Writer, secrets []string, key, value string) *fetch.Client {
	logger := log.NewWithOptions(stderr, log.Options{ReportTimestamp: true, Prefix: "fetch"})
	client := &o.client
	client.MinRate = o.minRate
	if o.minRate == 0 {
		client.MinRate = -1 // the Client reads 0 as "default"
	}
	client.Log = func(f string, a ...any) { logger.Info(redact.Text(fmt.Sprintf(f, a...), secrets...), key, value) }
	return client
}

// installTool is the tool command: a vendor release, verified like an installer, extracted to --out.
func installTool(ctx context.Context, o *options, stderr io.Writer) (fetch.Plan, error) {
	name, version, ok := strings.Cut(o.tool, "@")
	if !ok {
		return fetch.Plan{}, fmt.Errorf("--tool %q: give NAME@VERSION, e.g. packer@1.9.4", o.tool)
	}
	r, err := toolrelease.Lookup(name, version, o.mirror)
	if err != nil {
		return fetch.Plan{}, err
	}
	if err := o.mirrorSigner(&r); err != nil {
		return fetch.Plan{}, err
	}
	client := o.newClient(stderr, nil, "tool", r.ID())
	// The one place a Sigstore verifier is linked in: see toolrelease/sigstoreverify.
	client.VerifyBundle = sigstoreverify.Verify
	if r.Source.Signing == osdefs.SigningSigstore && o.mirror == "" && len(r.Source.TrustedRootJSON) == 0 {
		// From the vendor, online: Sigstore's current root, as cosign takes it, so that bundles made
		// with keys newer than the embedded root verify too.
		if b, err := sigstoreverify.CurrentPublicGoodRoot(filepath.Join(o.cache, "sigstore-tuf")); err != nil {
			client.Log("%v; verifying with the public-good root this program embeds", err)
		} else {
			r.Source.TrustedRootJSON = b
			client.Log("Sigstore trusted root: the current one from Sigstore's TUF repository")
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fetch.Plan{}, err
	}
	return toolrelease.Install(ctx, client, r, o.cache, filepath.Join(o.out, r.Binary))
}

// mirrorSigner puts the --mirror's own signer, if given, in place of the vendor's: the armored
// OpenPGP key of --key for a release signed with OpenPGP; for one signed with Sigstore, the trusted
// root of --key and the certificate identity of --identity and --issuer (each defaults to the
// vendor's: a newer public-good root alone keeps the vendor's identity).
func (o *options) mirrorSigner(r *toolrelease.Release) error {
	sigstore := r.Source.Signing == osdefs.SigningSigstore
	if !sigstore && (o.identity != "" || o.issuer != "") {
		return fmt.Errorf("--identity and --issuer name a Sigstore signer, and %s's release is signed with OpenPGP: give its signer's armored key with --key", r.Tool)
	}
	var key []byte
	if o.key != "" {
		var err error
		if key, err = os.ReadFile(o.key); err != nil {
			return fmt.Errorf("--key: %w", err)
		}
	}
	if !sigstore {
		if key != nil {
			r.Source.SigningKeyArmored = key
			r.Key = "the key given for the mirror (--key; the module's --tools-key)"
		}
		return nil
	}
	if key != nil {
		if _, err := sigstoreverify.ParseTrustedRoot(key); err != nil {
			return fmt.Errorf("--key %s: %s's release is signed with Sigstore, so --key gives a Sigstore trusted root: %w", o.key, r.Tool, err)
		}
		r.Source.TrustedRootJSON = key
	}
	if o.identity != "" {
		r.Source.SigstoreIdentity = o.identity
	}
	if o.issuer != "" {
		r.Source.SigstoreIssuer = o.issuer
	}
	if o.identity != "" || o.issuer != "" {
		r.Key = fmt.Sprintf("the identity %s (issuer %s) given for the mirror (--identity, --issuer)", r.Source.SigstoreIdentity, r.Source.SigstoreIssuer)
	}
	return nil
}
