// Command enginebootstrap prepares a freshly built host Dagger engine for offline use. It is run by
// scripts/engine.sh, with the engine already up:
//
//	enginebootstrap seed  --rootfs DIR --goroot DIR --go-version V --registry HOST:PORT
//	enginebootstrap gosdk --rootfs DIR --goroot DIR --codegen FILE --sdk-src DIR --out FILE.tar
//	enginebootstrap gc-cap --state DIR --headroom BYTES
//	enginebootstrap gc-config --cap BYTES [--run-room BYTES]
//
// seed publishes debian:bookworm-slim (a debootstrap minbase root filesystem) and golang:V-bookworm (the
// same plus the official Go release) to the local docker.io mirror. gosdk builds the Go SDK runtime
// image that `dagger call` needs and the official engine image ships as built-in content. gc-cap
// says what cache cap keeps the engine's disk from filling, and gc-config the collector's policies
// around it (gc.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"dagger.io/dagger"
)

const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: enginebootstrap seed|gosdk|gc-cap|gc-config [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "gosdk":
		err = goSDK(os.Args[2:])
	case "gc-cap":
		err = gcCap(os.Args[2:])
	case "gc-config":
		err = gcConfig(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want seed, gosdk, gc-cap or gc-config", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enginebootstrap:", err)
		os.Exit(1)
	}
}

// withEngine runs fn with a client of the engine that scripts/engine.sh brought up, closing it after.
func withEngine(fn func(ctx context.Context, c *dagger.Client) error) error {
	ctx := context.Background()
	c, err := dagger.Connect(ctx, dagger.WithLogOutput(os.Stderr))
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// debianSlim is the root filesystem as debian:bookworm-slim presents it: same PATH, same shell entry.
func debianSlim(c *dagger.Client, rootfs string) *dagger.Container {
	return c.Container().
		WithRootfs(c.Host().Directory(rootfs, dagger.HostDirectoryOpts{Exclude: []string{".complete"}})).
		WithEnvVariable("PATH", basePath).
		WithDefaultArgs([]string{"bash"})
}

// imageFlags are the flags of the two commands that build images: both start from the debootstrap
// root filesystem and add a Go tree to it.
func imageFlags(command, gorootUse string) (fs *flag.FlagSet, rootfs, goroot *string) {
	fs = flag.NewFlagSet(command, flag.ExitOnError)
	rootfs = fs.String("rootfs", "", "debootstrap bookworm minbase root filesystem")
	goroot = fs.String("goroot", "", gorootUse+" (GOROOT)")
	return fs, rootfs, goroot
}

func seed(args []string) error {
	fs, rootfs, goroot := imageFlags("seed", "official Go release tree")
	goVersion := fs.String("go-version", "", "Go release version, e.g. 1.25.4")
	registry := fs.String("registry", "127.0.0.1:5000", "registry mirror address")
	_ = fs.Parse(args)
	if *rootfs == "" || *goroot == "" || *goVersion == "" {
		return fmt.Errorf("seed needs --rootfs, --goroot and --go-version")
	}
	return withEngine(func(ctx context.Context, c *dagger.Client) error {
		slim := debianSlim(c, *rootfs)
		if _, err := slim.Publish(ctx, *registry+"/library/debian:bookworm-slim"); err != nil {
			return fmt.Errorf("publish debian:bookworm-slim: %w", err)
		}
		// golang:<v>-bookworm: like the official image, git, curl and certificates for `go get`, gcc for cgo.
		golang := slim.
			WithEnvVariable("DEBIAN_FRONTEND", "noninteractive").
			WithExec([]string{"sh", "-c", "apt-get update -q && apt-get install -y -q --no-install-recommends " +
				"ca-certificates curl git gcc libc6-dev make openssh-client && rm -rf /var/lib/apt/lists/*"}).
			WithoutEnvVariable("DEBIAN_FRONTEND").
			WithDirectory("/usr/local/go", c.Host().Directory(*goroot)).
			WithEnvVariable("GOLANG_VERSION", *goVersion).
			WithEnvVariable("GOTOOLCHAIN", "local").
			WithEnvVariable("GOPATH", "/go").
			WithEnvVariable("PATH", "/go/bin:/usr/local/go/bin:"+basePath).
			WithExec([]string{"mkdir", "-p", "/go/src", "/go/bin"}).
			WithWorkdir("/go")
		if _, err := golang.Publish(ctx, fmt.Sprintf("%s/library/golang:%s-bookworm", *registry, *goVersion)); err != nil {
			return fmt.Errorf("publish golang:%s-bookworm: %w", *goVersion, err)
		}
		return nil
	})
}

func goSDK(args []string) error {
	fs, rootfs, goroot := imageFlags("gosdk", "Go toolchain for module builds")
	codegen := fs.String("codegen", "", "the dagger codegen binary built with the engine")
	sdkSrc := fs.String("sdk-src", "", "dagger.io/dagger source, to pre-warm the Go caches")
	out := fs.String("out", "", "OCI tarball to write")
	_ = fs.Parse(args)
	if *rootfs == "" || *goroot == "" || *codegen == "" || *sdkSrc == "" || *out == "" {
		return fmt.Errorf("gosdk needs --rootfs, --goroot, --codegen, --sdk-src and --out")
	}
	return withEngine(func(ctx context.Context, c *dagger.Client) error {
		base := debianSlim(c, *rootfs).
			WithEnvVariable("DEBIAN_FRONTEND", "noninteractive").
			WithExec([]string{"sh", "-c", "apt-get update -q && apt-get install -y -q --no-install-recommends " +
				"git openssh-client openssl ca-certificates && rm -rf /var/lib/apt/lists/*"}).
			WithoutEnvVariable("DEBIAN_FRONTEND").
			WithDirectory("/usr/local/go", c.Host().Directory(*goroot)).
			WithEnvVariable("GOPATH", "/go").
			WithEnvVariable("PATH", "/go/bin:/usr/local/go/bin:"+basePath).
			WithEnvVariable("GOTOOLCHAIN", "local").
			WithWorkdir("/go")
		// Module builds start warm, as with the official image: the SDK's dependencies are pre-compiled.
		warm := base.
			WithExec([]string{"go", "build", "std"}).
			WithDirectory("/sdk", c.Host().Directory(*sdkSrc)).
			WithExec([]string{"go", "list", "-C", "/sdk", "-e", "-export=true", "-compiled=true", "-deps=true", "-test=false", "."})
		image := base.
			WithFile("/usr/local/bin/codegen", c.Host().File(*codegen)).
			WithDirectory("/go/pkg/mod", warm.Directory("/go/pkg/mod")).
			WithDirectory("/root/.cache/go-build", warm.Directory("/root/.cache/go-build"))
		_, err := image.AsTarball(dagger.ContainerAsTarballOpts{ForcedCompression: dagger.ImageLayerCompressionZstd}).Export(ctx, *out)
		return err
	})
}
