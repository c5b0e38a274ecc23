#!/usr/bin/env bash
# bench.sh — measure the pipeline on the testbed. Every comparison runs as interleaved pairs (A B, B A,
# A B, ...) and is reported as the median and range (min–max) of each side and of the per-pair ratio,
# with the machine's load before and after each run, the CPU-seconds the guest, the engine, the CLI and
# the rest used during it, its cores and the accelerator the module's probe picks. Nothing is asserted
# about speed: a slow figure fails nothing.
#
#   scripts/bench.sh            the pipeline (TestBenchmark). About 55–60 min on 2 cores under TCG:
#                                 engine cache prune + cold `build --os testbed`       ~25 min (one run)
#                                 3 unchanged rebuilds                                  ~1 min
#                                 3 pairs of packer-build (pipeline) / raw packer build ~12–15 min
#                                 1 pair of build-all --parallel 1 / --parallel 3       ~15 min
#                               about 35 min with CST_BENCH_PRUNE=0.
#   scripts/bench.sh replicas   the installer replicas: 3 boot-loader families × CST_BENCH_PAIRS pairs of
#                               packer-build / raw packer build (~40 min with 3 pairs), then when each
#                               boot menu is ready, idle and with both CPUs busy (bench/menutiming, ~10 min)
#   scripts/bench.sh all        both, one after the other (~1 h 50 min)
#
#   CST_BENCH_PAIRS=N      interleaved pairs per Packer comparison (default 3; fewer give no usable spread)
#   CST_BENCH_WARM=N       unchanged rebuilds timed after the first build (default 3)
#   CST_BENCH_ALL_PAIRS=N  build-all pairs (default 1, ~8 min each; the figure then says "a single pair"; 0 skips build-all)
#   CST_BENCH_PRUNE=0      keep the engine cache: no cold build; the first build is labelled NOT cold
#
# Output in bench/out/ (not tracked): results.json and results.md (the README's "Measured" table, also
# printed at the end), replicas.json and replicas.md, menutiming.txt, logs/ (every run's output, the
# phases are read from), run.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-pipeline}
case "$what" in
  pipeline | replicas | all) ;;
  *) echo "usage: $0 [pipeline|replicas|all]" >&2; exit 2 ;;
esac
TOOLS_BIN=$(bash scripts/tools.sh)
export PATH="$TOOLS_BIN:$PATH"
# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. scripts/lib/packages.sh
need_packages qemu-system-x86_64=qemu-system-x86 qemu-img=qemu-utils
eval "$(bash scripts/engine.sh up)"
export CST_TESTBED_DIR CST_BENCH_OUT
CST_TESTBED_DIR=$(bash scripts/fixtures.sh)
CST_BENCH_OUT="$PWD/bench/out"
mkdir -p "$CST_BENCH_OUT"
say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
say "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), CST_BENCH_PAIRS=${CST_BENCH_PAIRS:-3} CST_BENCH_PRUNE=${CST_BENCH_PRUNE:-1}"
: >"$CST_BENCH_OUT/run.log"

if [ "$what" != replicas ]; then
  say "pipeline: TestBenchmark"
  go test -count=1 -tags bench -run '^TestBenchmark$' -timeout 150m -v ./tests/ 2>&1 | tee -a "$CST_BENCH_OUT/run.log"
fi
if [ "$what" != pipeline ]; then
  # The installer replicas: the pipeline against raw Packer per boot-loader family, in interleaved
  # pairs; then when each vendor menu is ready under TCG, idle and with both CPUs kept busy, against
  # when its boot command starts typing.
  say "replicas: TestBenchmarkReplicas"
  go test -count=1 -tags bench -run '^TestBenchmarkReplicas$' -timeout 240m -v ./tests/ 2>&1 | tee -a "$CST_BENCH_OUT/run.log"
  say "replicas: boot menu timing"
  : >"$CST_BENCH_OUT/menutiming.txt"
  for busy in 0 2; do
    go run ./bench/menutiming -iso "$CST_TESTBED_DIR/replicas" -runs 3 -busy "$busy" | tee -a "$CST_BENCH_OUT/menutiming.txt"
  done
fi
say "done: figures and logs in $CST_BENCH_OUT; load $(cut -d' ' -f1-3 /proc/loadavg)"
