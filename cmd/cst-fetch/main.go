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
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"github.com/cloudstack-templates/cloudstack-templates/fetch"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

func main() {
	logger := log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "fetch"})
	if len(os.Args) < 2 {
		logger.Fatal("usage: cst-fetch resolve|download|get [flags]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	osName := fs.String("os", "", "OS id or alias")
	mirror := fs.String("mirror", "", "flat mirror URL that replaces the vendor location")
	digest := fs.String("digest", "", "expected hex digest (download)")
	cache := fs.String("cache", "/cache", "cache directory")
	out := fs.String("out", "/out", "directory to copy the verified file to")
	attempts := fs.Int("attempts", 5, "tries for transient failures")
	stall := fs.Duration("stall-timeout", time.Minute, "abort a transfer that receives nothing for this long")
	_ = fs.Parse(os.Args[2:])

	d, err := osdefs.Lookup(*osName)
	if err != nil {
		logger.Fatal(err)
	}
	plan, err := fetch.NewPlan(d, *mirror)
	if err != nil {
		logger.Fatal(err)
	}
	client := &fetch.Client{Attempts: *attempts, StallTimeout: *stall, Log: func(f string, a ...any) { logger.Info(fmt.Sprintf(f, a...), "os", d.ID) }}

	var result any
	switch os.Args[1] {
	case "resolve":
		plan, err = client.Resolve(ctx, d, plan)
		result = plan
	case "download":
		plan.Digest, err = osdefs.NormalizeDigest(plan.Algorithm, *digest)
		if err == nil {
			result, err = download(ctx, client, plan, *cache, *out)
		}
	case "get":
		if plan, err = client.Resolve(ctx, d, plan); err == nil {
			_, err = client.Download(ctx, plan.URL, plan.CachePath(*cache), plan.Algorithm, plan.Digest)
		}
		result = plan
	default:
		err = fmt.Errorf("unknown command %q: use resolve, download or get", os.Args[1])
	}
	if err != nil {
		// The pipeline quotes this line in its error: keep it free of log decoration.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		logger.Fatal(err)
	}
}

func download(ctx context.Context, c *fetch.Client, p fetch.Plan, cache, out string) (fetch.Result, error) {
	res, err := c.Download(ctx, p.URL, p.CachePath(cache), p.Algorithm, p.Digest)
	if err != nil {
		return res, err
	}
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
