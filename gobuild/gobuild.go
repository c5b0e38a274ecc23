// Package gobuild holds the recipes the pipeline uses to build third-party Go commands (Packer,
// Trivy) from their published modules, where a recipe is more than `go build`.
package gobuild

import _ "embed"

// PackerPluginsAwk is packer_plugins.awk: it keeps Packer's QEMU builder and drops the other
// plugins Packer 1.9 vendors.
//
//go:embed packer_plugins.awk
var PackerPluginsAwk string

// PackerPluginsAwkPath is where PackerTrim expects PackerPluginsAwk.
const PackerPluginsAwkPath = "/cst/packer_plugins.awk"

// PackerTrim runs in a writable copy of the Packer module: it applies PackerPluginsAwk to
// command/vendored_plugins.go and fails if the QEMU builder is gone. A version without that file
// (none vendored) is left as it is.
const PackerTrim = `f=command/vendored_plugins.go
if [ -f "$f" ]; then
  awk -f ` + PackerPluginsAwkPath + ` "$f" "$f" >"$f.new" && mv "$f.new" "$f"
  grep -q '"github.com/hashicorp/packer-plugin-qemu/' "$f" || { echo "$f no longer vendors the QEMU builder" >&2; exit 1; }
fi
`
