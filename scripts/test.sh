#!/usr/bin/env bash
# test.sh — every test of cloudstack-templates, on a fresh machine or a warm one.
#
#   scripts/test.sh            unit + static checks, engine integration tests, end-to-end pipeline tests
#   scripts/test.sh unit       only what needs no engine (plain `go test`)
#
# It installs what it needs (Debian packages, npm tools), brings up a Dagger
# engine with scripts/engine.sh (or uses the one _EXPERIMENTAL_DAGGER_RUNNER_HOST names), builds the
# offline testbed OS and installer replicas in it (scripts/fixtures.sh), readies the pipeline's tools
# (`dagger call prepare`), takes Packer from its
# toolchain (`unit` builds it on the host instead), and runs the suites. Nothing is skipped: a
# missing tool is a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
T0=$SECONDS
# Each line also tells how busy the CPUs were since the line before: near 100% a step is compile- or
# guest-bound (only less work helps), well below it waits on something (downloads, timeouts).
cpu_ticks() { local _c u n s i w q sq st; read -r _c u n s i w q sq st _ </proc/stat; echo "$((u+n+s+q+sq+st)) $((u+n+s+i+w+q+sq+st))"; }
read -r CPU_BUSY CPU_ALL < <(cpu_ticks)
say() {
  local busy all pct=0
  read -r busy all < <(cpu_ticks)
  [ "$all" -gt "$CPU_ALL" ] && pct=$(( 100 * (busy - CPU_BUSY) / (all - CPU_ALL) ))
  CPU_BUSY=$busy CPU_ALL=$all
  printf '[test %s +%ss cpu %s%%] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - T0))" "$pct" "$*" >&2
}

# The engine build's settings (scripts/engine.sh): the standard library and the modules the tests share
# with Dagger compile once, not once per setting.
export GOFLAGS="${GOFLAGS:--buildvcs=false -trimpath}" CGO_ENABLED="${CGO_ENABLED:-0}"
mode=${1:-all}
say "tools (qemu-img, debugfs, xmllint, jq, gitlab-ci-local, ...; the linters run as Dagger checks)"
# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. scripts/lib/packages.sh
need_packages qemu-utils e2fsprogs libxml2-utils bzip2
# No unit test runs Packer (`packer validate` is a Dagger check); the e2e tests' host Packer comes out
# of the pipeline's own toolchain (below): compiled once, not twice.
export CST_TOOLS_NO_PACKER=1
TOOLS_BIN=$(bash scripts/tools.sh)
bash scripts/ci-tools.sh >/dev/null
export PATH="$TOOLS_BIN:$PATH"

if [ "$mode" != unit ]; then
  say "engine (scripts/engine.sh up)"
  eval "$(bash scripts/engine.sh up)"
  packer_version=${PACKER_VERSION:-1.9.4}
  # Not beside the engine's compiles: debootstrap is CPU and disk work too, and on two cores the pair
  # took longer side by side than in turn. Built in the engine: no root step on this host.
  say "testbed OS and installer replicas (scripts/fixtures.sh)"
  export CST_TESTBED_DIR
  CST_TESTBED_DIR=$(bash scripts/fixtures.sh)
  # Every tool of the pipeline at once (Packer and Trivy compile from source; package installs wait
  # on downloads meanwhile), before the suites: they then share nothing slow.
  say "pipeline tools (dagger call prepare)"
  prepare_log=$(mktemp /tmp/cst-prepare.XXXXXX.log)
  dagger call --tools source --packer-version "$packer_version" prepare >"$prepare_log.out" 2>"$prepare_log" \
    || { tail -40 "$prepare_log" >&2; say "dagger call prepare failed (log: $prepare_log)"; exit 1; }
  say "pipeline tools $(tr -s ' \n' ' ' <"$prepare_log.out")"

  if ! "$TOOLS_BIN/packer" version 2>/dev/null | grep -qx "Packer v${packer_version#v}"; then
    say "packer from the pipeline's toolchain (dagger call toolchain)"
    dagger call --tools source --packer-version "$packer_version" toolchain file --path /usr/local/bin/packer \
      export --path "$TOOLS_BIN/packer" >/dev/null
    chmod 0755 "$TOOLS_BIN/packer"
  fi
fi

say "unit and static tests (go test ./...)"
go test -count=1 ./...

[ "$mode" = unit ] && { say "unit tests passed"; exit 0; }

say "module: generated code and compile check"
(cd "$ROOT" && dagger develop >/dev/null 2>&1) || { say "dagger develop failed"; dagger develop; exit 1; }
# Dagger's codegen emits the function cases in a varying order: compare the committed files with the
# regenerated ones line for line, order aside; any other change means generated code is stale.
for f in $(git diff --name-only -- dagger.json pipeline/); do
  if ! diff <(git show "HEAD:$f" | sort) <(sort "$f") >/dev/null; then
    say "dagger develop changed $f: run dagger develop and commit its output"; git diff --stat; exit 1
  fi
done
git checkout -- dagger.json pipeline/
(cd pipeline && go vet ./...)

say "integration and end-to-end tests (real engine, real containers, real guests)"
log=${CST_TEST_LOG:-/tmp/cst-e2e.log}
# The suites run side by side, three at a time: much of each is waiting (module loads, downloads,
# timeouts), and on a cold engine they share the compiles and package installs instead of queueing.
set +e
go test -count=1 -tags e2e -parallel 3 -timeout 80m -v ./tests/... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || { say "end-to-end tests failed (full log: $log)"; exit "$rc"; }
say "all tests passed in $((SECONDS - T0))s"
