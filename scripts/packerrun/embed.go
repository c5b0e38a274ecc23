// Package packerrun holds run.sh, the script the pipeline runs `packer build` with in its toolchain
// container: it keeps Packer's log and the guest's serial console, explains a failure with their
// tails, and ends a build whose guest powered off or stayed silent before SSH instead of waiting out
// the SSH timeout.
package packerrun

import _ "embed"

// Script is run.sh, run as `bash -c "$Script" packer-run PACKER-ARGS...`.
//
//go:embed run.sh
var Script string
