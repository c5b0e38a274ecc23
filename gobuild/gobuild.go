// Package gobuild holds the recipes the pipeline uses to build third-party Go commands (Packer,
// Trivy) from their published modules, where a recipe is more than `go build`.
package gobuild

import _ "embed"

// PackerPluginsAwk is packer_plugins.awk: it keeps Packer's QEMU builder and drops the other
// plugins Packer 1.9 vendors.
//
//go:embed packer_plugins.awk
var PackerPluginsAwk string

// PackerTrim is packer_trim.sh, which applies PackerPluginsAwk (read from the script's own
// directory) to a writable copy of the Packer module and fails if the QEMU builder is gone.
// scripts/tools.sh runs the same file for the host's Packer.
//
//go:embed packer_trim.sh
var PackerTrim string
