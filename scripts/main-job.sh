#!/usr/bin/env bash
# main-job.sh — the main job on a fresh machine: a full CloudStack template build of the offline
# testbed OS on a real Dagger engine, exported to ./out/testbed (or $1).
#
# It starts (or reuses) the engine and generates an offline Trivy DB; nothing else runs on the host.
# Then exactly what a user runs for a vendor OS, with no --mirror: the module builds the testbed guest
# in the engine (its `testbed` function) and serves it to the build itself:
#   dagger call --trivy-db DIR build --os testbed export --path ./out/testbed
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-out/testbed}"
T0=$SECONDS
say() { printf '[main-job %s +%ss] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - T0))" "$*" >&2; }

say "engine"
eval "$(bash scripts/engine.sh up)"
say "offline Trivy DB"
DB=$(mktemp -d /tmp/cst-trivydb.XXXXXX)
trap 'rm -rf "$DB"' EXIT
(cd scripts/trivydb && go run . "$DB") >/dev/null

rm -rf "$OUT"
say "dagger call build --os testbed ... export --path $OUT"
# --tools source: this engine reaches the Go module proxy, not releases.hashicorp.com.
# Before `build`, what the module holds for every build; after it, this build's own choices.
dagger call --tools source --actor "$(id -un)" --origin "$(hostname)" \
  --trivy-db "$DB" --source-commit "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  build --os testbed --fail-on CRITICAL \
  export --path "$OUT"
# The engine's audit log of its builds, this one included; handed out only if its hash chain is whole.
dagger call audit export --path "$(dirname "$OUT")/audit.jsonl"
say "done: $(find "$OUT" -maxdepth 1 -type f -printf '%f ')"
say "total $((SECONDS - T0))s"
