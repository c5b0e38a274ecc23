#!/usr/bin/env bash
# Installs the tools the CI-definition tests (go test ./ci/...) need, from a cold Debian 12 machine, and
# prints the directory that holds the built binaries (put it on PATH; the tests also look in that
# directory by themselves).
#
#   jq               CI steps and generators that read JSON       (Debian package, jq)
#   go-pipeline      v0.18.1, Buildkite's pipeline parser, in     (Go module proxy: `go mod download`
#                    ci/bkparse (a module of its own) that the      in ci/bkparse, so the test builds it
#                    test builds                                    offline)
#   gitlab-ci-local  4.65.1, GitLab CI's parser run offline       (npm registry, `npm ci` from
#                    (--preview, --list) on .gitlab-ci.yml and      ci/tools/package-lock.json;
#                    the generated child pipeline                   Node.js and npm from Debian
#                                                                   if there are none)
#
# gitlab-ci-local lands in "$dir/gitlab-ci-local" (a link into "$CST_TOOLS_DIR/node"); the tests find
# it there, or where CST_GITLAB_CI_LOCAL points. 4.65.1 is its last release that declares Node >= 18
# (the later ones are built for Node 22 and fail on Node 20 with "union is not a function"); its
# dependencies are pinned, with their hashes, by ci/tools/package-lock.json.
#
# actionlint and ShellCheck are not needed here: they run in containers, as the module's Dagger checks
# (lint-workflows, lint-shell). Idempotent: a second run only checks what is installed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GITLAB_CI_LOCAL_VERSION="$(sed -n 's/^ *"gitlab-ci-local": "\(.*\)"$/\1/p' "$REPO/ci/tools/package.json")"
TOOLS_DIR="${CST_TOOLS_DIR:-/var/lib/cloudstack-templates/tools}"
BIN_DIR="$TOOLS_DIR/bin"
mkdir -p "$BIN_DIR"

log() { printf 'ci-tools.sh: %s\n' "$*" >&2; }

# gitlab-ci-local reads the repository with git.
# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. "$REPO/scripts/lib/packages.sh"
need_packages jq=jq flock=util-linux git=git node=nodejs npm=npm

# go-pipeline and its modules, for ci/bkparse (the test compiles it with GOPROXY=off). A no-op when
# they are in the module cache already.
(
	cd "$REPO/ci/bkparse"
	GOFLAGS="-modcacherw" GOWORK=off go mod download
) || { log "go mod download in ci/bkparse failed"; exit 1; }

# gitlab-ci-local: `npm ci` from the lock file in ci/tools, redone only when that lock file changes.
# .installed-lock is the lock of the last install that finished and ran; nothing else counts.
NODE_DIR="$TOOLS_DIR/node"
LOCK="$REPO/ci/tools/package-lock.json"
gitlab_ci_local_ok() {
	cmp -s "$LOCK" "$NODE_DIR/.installed-lock" && [[ -x "$NODE_DIR/node_modules/.bin/gitlab-ci-local" ]] &&
		[[ "$("$NODE_DIR/node_modules/.bin/gitlab-ci-local" --version 2>/dev/null)" == "$GITLAB_CI_LOCAL_VERSION" ]]
}
if ! gitlab_ci_local_ok; then
	log "installing gitlab-ci-local $GITLAB_CI_LOCAL_VERSION from the npm registry (npm ci, ci/tools/package-lock.json)"
	mkdir -p "$NODE_DIR"
	rm -f "$NODE_DIR/.installed-lock"
	install -m 0644 "$REPO/ci/tools/package.json" "$LOCK" "$NODE_DIR/"
	npm ci --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error >&2
	cp "$LOCK" "$NODE_DIR/.installed-lock"
	gitlab_ci_local_ok || {
		rm -f "$NODE_DIR/.installed-lock"
		log "installed gitlab-ci-local does not run or does not report $GITLAB_CI_LOCAL_VERSION (node $(node --version))"
		exit 1
	}
fi
ln -sfn "$NODE_DIR/node_modules/.bin/gitlab-ci-local" "$BIN_DIR/gitlab-ci-local"

echo "$BIN_DIR"
