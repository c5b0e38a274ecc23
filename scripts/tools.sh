#!/usr/bin/env bash
# Installs the tools the static tests need, from a cold Debian 12 machine, and prints the directory
# that holds the built binaries (put it on PATH).
#
#   gnupg        `gpg --show-keys` for keys/*.asc (Debian package)
#   packer       v1.9.4, raw builds for bench.sh   (built from the Go module proxy, QEMU builder only)
#
# ShellCheck, cloud-init's schema and `packer validate` run in containers instead, as the module's
# Dagger checks (`dagger checks`).
#
# Packer is built from source because the module proxy is the only source of Go binaries here and it
# refuses `go install module@version` for Packer (its go.mod has replace directives). The build is
# cached, so the script is idempotent and cheap after the first run. The compile is heavy (minutes on
# two cores): it runs under `flock /tmp/cst-heavy.lock` so concurrent heavy builds queue up.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKER_VERSION="v${PACKER_VERSION:-1.9.4}"
PACKER_VERSION="v${PACKER_VERSION#v}"
TOOLS_DIR="${CST_TOOLS_DIR:-/var/lib/cloudstack-templates/tools}"
BIN_DIR="$TOOLS_DIR/bin"
mkdir -p "$BIN_DIR"

log() { printf 'tools.sh: %s\n' "$*" >&2; }

# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. "$HERE/lib/packages.sh"
need_packages gpg=gnupg flock=util-linux

packer_ok() {
	[[ -x "$BIN_DIR/packer" ]] && "$BIN_DIR/packer" version 2>/dev/null | grep -q "Packer ${PACKER_VERSION}"
}

# scripts/test.sh takes Packer from the engine's toolchain instead (the same build, compiled once):
# CST_TOOLS_NO_PACKER=1 installs only the packages.
if [[ "${CST_TOOLS_NO_PACKER:-}" != 1 ]] && ! packer_ok; then
	command -v go >/dev/null 2>&1 || { log "go is required to build packer"; exit 1; }
	log "building packer $PACKER_VERSION from the Go module proxy (slow, serialized by /tmp/cst-heavy.lock)"
	# The module must be downloaded outside any other module so its own go.mod governs the build.
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	(
		cd "$work"
		export GOFLAGS="-buildvcs=false -modcacherw" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
		dir="$(go mod download -json "github.com/hashicorp/packer@${PACKER_VERSION}" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
		[[ -n "$dir" && -d "$dir" ]] || { log "go mod download gave no module dir"; exit 1; }
		# The same trim as the pipeline's toolchain (gobuild/), in a copy of the module.
		cp -r "$dir" "$work/src" && chmod -R u+w "$work/src" && cd "$work/src"
		sh -eu "$HERE/../gobuild/packer_trim.sh"
		flock /tmp/cst-heavy.lock go build -trimpath -ldflags "-s -w" -o "$work/packer" .
	)
	install -m 0755 "$work/packer" "$BIN_DIR/packer"
	packer_ok || { log "built packer does not report $PACKER_VERSION"; exit 1; }
fi

echo "$BIN_DIR"
