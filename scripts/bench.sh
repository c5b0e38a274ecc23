#!/usr/bin/env bash
# bench.sh — measure the pipeline on the testbed and print a table; the JSON lands in bench/results.json.
#
#   scripts/bench.sh                    true cold start: prunes the engine's cache first (~50 min)
#   CST_BENCH_PRUNE=0 scripts/bench.sh  keep the engine cache (the "cold" figure is then not cold)
#
# Measures: cold vs warm `build --os testbed`, ISO requests and bytes on a rebuild (counted by the
# test mirror), pipeline overhead against a raw `packer build` of the same template, three builds in
# parallel vs sequentially, compressed vs raw sizes per format, and when each installer replica's boot
# menu is ready against when its boot command is typed (bench/menutiming). Nothing is asserted about speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOOLS_BIN=$(bash scripts/tools.sh)
export PATH="$TOOLS_BIN:$PATH"
if ! command -v qemu-system-x86_64 >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends qemu-system-x86 qemu-utils >/dev/null
fi
eval "$(bash scripts/engine.sh up)"
bash scripts/testbed.sh build
export CST_TESTBED_DIR CST_BENCH_JSON
CST_TESTBED_DIR=$(bash scripts/testbed.sh dir)
mkdir -p bench
CST_BENCH_JSON="$PWD/bench/results.json"
go test -count=1 -tags bench -run '^TestBenchmark$' -timeout 150m -v ./tests/ 2>&1 | tee bench/last-run.log
echo "JSON: $CST_BENCH_JSON"
# The installer replicas: the pipeline against raw Packer per boot-loader family, in interleaved
# pairs; then when each vendor menu is ready under TCG, idle and with both CPUs kept busy, against
# when its boot command starts typing.
bash scripts/replicas.sh build
go test -count=1 -tags bench -run TestBenchmarkReplicas -timeout 150m -v ./tests/ 2>&1 | tee -a bench/last-run.log
for busy in 0 2; do
  go run ./bench/menutiming -iso "$(bash scripts/replicas.sh dir)" -runs 3 -busy "$busy" | tee -a bench/last-run.log
done
