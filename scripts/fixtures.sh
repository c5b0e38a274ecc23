#!/usr/bin/env bash
# fixtures.sh — the offline fixtures the tests and benchmarks serve from this host: the testbed image
# and the installer replicas, built in the engine (`dagger call testbed` and `dagger call replicas`:
# the recipes of scripts/testbed.sh and scripts/replicas.sh, in privileged containers) and exported to
# DIR, which it prints:
#
#   scripts/fixtures.sh [DIR]    DIR defaults to $CST_FIXTURES_DIR or /var/lib/cloudstack-templates/fixtures
#
# DIR then holds testbed-bookworm.qcow2 and SHA256SUMS, and replicas/ the five ISOs and their
# SHA256SUMS: what `--mirror http://testbed-mirror:PORT` (and .../replicas) expects. It needs an engine
# (eval "$(scripts/engine.sh up)") and no root here. The engine caches both; a changed recipe rebuilds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR="${1:-${CST_FIXTURES_DIR:-/var/lib/cloudstack-templates/fixtures}}"
say() { printf '[fixtures %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

call() { # $1 = what, $2 = function, $3 = export path
  local log t0=$SECONDS
  log=$(mktemp /tmp/cst-fixtures.XXXXXX.log)
  export_it() { dagger --progress=plain call "$2" export --path "$3" --wipe >/dev/null 2>"$log"; }
  # A session the engine lost (dagger/dagger#9557) is its flake, not the recipe's: one more try.
  if ! export_it "$@" &&
    ! { grep -q 'failed to get requester session' "$log" && say "the engine lost the session; again" && export_it "$@"; }; then
    tail -40 "$log" >&2
    say "error: dagger call $2 failed (log: $log)"
    exit 1
  fi
  rm -f "$log"
  say "$1 in $3 ($((SECONDS - t0))s)"
}

mkdir -p "$DIR"
# The testbed first: exporting it wipes DIR, replicas/ included.
call "testbed" testbed "$DIR"
call "installer replicas" replicas "$DIR/replicas"
echo "$DIR"
