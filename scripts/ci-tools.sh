#!/usr/bin/env bash
# Installs the tools the CI-definition tests (go test ./ci/...) need, from a cold Debian 12 machine, and
# prints the directory that holds the built binaries (put it on PATH or point CST_ACTIONLINT at
# "$dir/actionlint").
#
#   actionlint  v1.7.12, lints .github/workflows/*.yml   (built from the Go module proxy)
#   ShellCheck  actionlint runs it on every `run:` block   (Debian package, shellcheck)
#   jq          the CI matrix filter ci/matrix.jq           (Debian package, jq)
#
# actionlint is built inside its downloaded module directory so its own go.mod governs the build (the
# proxy may refuse `go install module@version` when it refuses the version list). Idempotent: a
# second run only checks the installed version. The compile is light but still takes the shared
# /tmp/cst-heavy.lock so it queues behind heavy builds.
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
TOOLS_DIR="${CST_TOOLS_DIR:-/var/lib/cloudstack-templates/tools}"
BIN_DIR="$TOOLS_DIR/bin"
mkdir -p "$BIN_DIR"

log() { printf 'ci-tools.sh: %s\n' "$*" >&2; }

apt_missing=()
command -v shellcheck >/dev/null 2>&1 || apt_missing+=(shellcheck)
command -v jq >/dev/null 2>&1 || apt_missing+=(jq)
command -v flock >/dev/null 2>&1 || apt_missing+=(util-linux)
if ((${#apt_missing[@]} > 0)); then
	log "installing ${apt_missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${apt_missing[@]}" >&2
fi

actionlint_ok() {
	[[ -x "$BIN_DIR/actionlint" ]] && [[ "$("$BIN_DIR/actionlint" -version 2>/dev/null | head -n1)" == "${ACTIONLINT_VERSION#v}" ]]
}

if ! actionlint_ok; then
	command -v go >/dev/null 2>&1 || { log "go is required to build actionlint"; exit 1; }
	log "building actionlint $ACTIONLINT_VERSION from the Go module proxy"
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	(
		cd "$work"
		export GOFLAGS="-buildvcs=false -modcacherw" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
		dir="$(go mod download -json "github.com/rhysd/actionlint@${ACTIONLINT_VERSION}" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
		[[ -n "$dir" && -d "$dir" ]] || { log "go mod download gave no module dir"; exit 1; }
		cd "$dir"
		# The version is stamped the way actionlint's own release build does it.
		flock /tmp/cst-heavy.lock go build -trimpath \
			-ldflags "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION#v}" \
			-o "$work/actionlint" ./cmd/actionlint
	)
	install -m 0755 "$work/actionlint" "$BIN_DIR/actionlint"
	actionlint_ok || { log "built actionlint does not report ${ACTIONLINT_VERSION#v}"; exit 1; }
fi

echo "$BIN_DIR"
