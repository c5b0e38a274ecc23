#!/usr/bin/env bash
# main-job.sh — the main job on a fresh machine: a full CloudStack template build of the offline
# testbed OS on a real Dagger engine, exported to ./out/testbed (or $1).
#
# It starts (or reuses) the engine, builds the testbed guest, serves it as a local mirror, generates
# an offline Trivy DB, then runs exactly what a user runs for a vendor OS:
#   dagger call --mirror ... --mirror-service tcp://localhost:PORT --trivy-db DIR \
#     build --os testbed export --path ./out/testbed
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-out/testbed}"
PORT="${CST_TESTBED_PORT:-8383}"
T0=$SECONDS
say() { printf '[main-job %s +%ss] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - T0))" "$*" >&2; }

say "engine"
eval "$(bash scripts/engine.sh up)"
say "testbed OS"
bash scripts/testbed.sh build

say "offline Trivy DB"
DB=$(mktemp -d /tmp/cst-trivydb.XXXXXX)
(cd scripts/trivydb && go run . "$DB") >/dev/null

say "serving the testbed mirror on 127.0.0.1:$PORT"
CST_TESTBED_PORT=$PORT bash scripts/testbed.sh serve >/tmp/cst-mirror.log 2>&1 &
MIRROR_PID=$!
trap 'kill $MIRROR_PID 2>/dev/null || true; rm -rf "$DB"' EXIT
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/SHA256SUMS" 2>/dev/null && break; sleep 0.2; done

rm -rf "$OUT"
say "dagger call build --os testbed ... export --path $OUT"
# --tools source: this engine reaches the Go module proxy, not releases.hashicorp.com.
# Before `build`, what the module holds for every build; after it, this build's own choices.
dagger call --tools source --actor "$(id -un)" --origin "$(hostname)" \
  --mirror "http://testbed-mirror:$PORT" --mirror-service "tcp://localhost:$PORT" \
  --trivy-db "$DB" --source-commit "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  build --os testbed --fail-on CRITICAL \
  export --path "$OUT"
# The engine's audit log of its builds, this one included; handed out only if its hash chain is whole.
dagger call audit export --path "$(dirname "$OUT")/audit.jsonl"
say "done: $(find "$OUT" -maxdepth 1 -type f -printf '%f ')"
say "total $((SECONDS - T0))s"
