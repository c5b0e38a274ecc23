#!/usr/bin/env bash
# engine.sh — a real Dagger engine for cloudstack-templates, online or air-gapped.
#
#   scripts/engine.sh up       reuse a live engine, or build and start one on this host
#   scripts/engine.sh down     stop what `up` started (engine, registry mirror); nothing else
#   scripts/engine.sh status   say what runs
#   scripts/engine.sh env      print the environment to `eval` / source
#
# `up` needs only a Go toolchain, Debian packages and the Go module proxy: it builds Dagger
# ${CST_DAGGER_VERSION} (engine, CLI, the Go SDK runtime image that `dagger call` needs), starts the
# engine as a host process and a registry mirror for docker.io on 127.0.0.1:5000 seeded with images it
# builds itself (debian:bookworm-slim from debootstrap; golang:<ver>-bookworm = that plus the official Go
# release). Pipeline code therefore says From("debian:bookworm-slim") exactly as it does online.
#
# If _EXPERIMENTAL_DAGGER_RUNNER_HOST already points at an engine that answers, `up` uses it and builds
# nothing (a remote x86 engine, say). Everything is idempotent: a warm `up` takes seconds.
#
# Knobs: CST_ENGINE_HOME (build tree, logs, pids; /var/lib/cloudstack-templates/engine),
#        CST_DAGGER_STATE (engine --root; /var/lib/dagger), CST_DEBIAN_MIRROR (debootstrap mirror),
#        CST_GO_IMAGE_VERSION (Go release in the golang image; 1.25.4), CST_ENGINE_FREE_GB (space the
#        engine's cache leaves writable on its disk; 25), CST_ENGINE_RUN_GB (room an idle engine's cache is
#        pruned to under the cap at `up`, so the collector need not prune while a run goes on; 6).
set -euo pipefail

CST_DAGGER_VERSION="${CST_DAGGER_VERSION:-v0.19.7}"
HOME_DIR="${CST_ENGINE_HOME:-/var/lib/cloudstack-templates/engine}"
STATE_DIR="${CST_DAGGER_STATE:-/var/lib/dagger}"
DEBIAN_MIRROR="${CST_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
GO_IMAGE_VERSION="${CST_GO_IMAGE_VERSION:-1.25.4}"
FREE_GB="${CST_ENGINE_FREE_GB:-25}"
RUN_GB="${CST_ENGINE_RUN_GB:-6}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

BIN_DIR="$HOME_DIR/bin"
SRC_DIR="$HOME_DIR/src"
ROOTFS="$HOME_DIR/rootfs-bookworm"
LOG_DIR="$HOME_DIR/log"
SOCK=/run/dagger/engine.sock
RUNNER="unix://$SOCK"
REGISTRY_ADDR=127.0.0.1:5000
# Paths compiled into the engine (engine/distconsts): it looks for these exact files.
RUNC=/usr/local/bin/runc
DAGGER_INIT=/usr/local/bin/dagger-init
CONTENT_DIR=/usr/local/share/dagger/content
CNI_DIR=/opt/cni/bin
ENGINE_CONFIG=/etc/dagger/engine.json

export DO_NOT_TRACK=1 DAGGER_NO_NAG=1
# One setting for every Go build here (and in scripts/test.sh): packages they share compile once.
export GOFLAGS="-mod=mod -buildvcs=false -trimpath" CGO_ENABLED=0
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/dagger/dagger"

say() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { say "error: $*"; exit 1; }
step() { local t0=$SECONDS name=$1; shift; "$@"; say "$name: $((SECONDS - t0))s"; }

# ---------------------------------------------------------------- remote / existing engine
engine_answers() { # $1 = runner host
  local cli="${_EXPERIMENTAL_DAGGER_CLI_BIN:-}"
  [ -x "$cli" ] || cli="$(command -v dagger || true)"
  [ -x "$BIN_DIR/dagger" ] && cli="$BIN_DIR/dagger"
  [ -n "$cli" ] || return 1
  _EXPERIMENTAL_DAGGER_RUNNER_HOST="$1" timeout 30 "$cli" core version >/dev/null 2>&1
}

# ---------------------------------------------------------------- packages
# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/packages.sh"

install_packages() {
  # The runtime pieces the official engine image bundles, plus debootstrap and a registry.
  need_packages runc containernetworking-plugins dnsmasq-base iptables git openssh-client pigz xz-utils \
    e2fsprogs ripgrep sqlite3 ca-certificates util-linux iproute2 debootstrap docker-registry curl \
    || fail "the engine's host packages are missing"
}

# ---------------------------------------------------------------- build
module_dir() { (cd "$HOME_DIR/gomod" && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }

prepare_source() {
  # `go install github.com/dagger/dagger/cmd/...@v` cannot work: the module's go.mod replaces
  # dagger.io/dagger => ./sdk/go and engine/distconsts => ./engine/distconsts, and neither nested
  # module is in the module zip. Rebuild that layout from the two published modules.
  [ -f "$SRC_DIR/.complete-$CST_DAGGER_VERSION" ] && return 0
  mkdir -p "$HOME_DIR/gomod"
  local engine_mod sdk_mod
  engine_mod=$(module_dir "github.com/dagger/dagger@$CST_DAGGER_VERSION") || true
  [ -n "$engine_mod" ] || fail "the Go module proxy did not serve github.com/dagger/dagger@$CST_DAGGER_VERSION"
  sdk_mod=$(module_dir "dagger.io/dagger@$CST_DAGGER_VERSION") || true
  [ -n "$sdk_mod" ] || fail "the Go module proxy did not serve dagger.io/dagger@$CST_DAGGER_VERSION"
  rm -rf "$SRC_DIR"
  cp -r "$engine_mod" "$SRC_DIR"
  mkdir -p "$SRC_DIR/sdk/go" "$SRC_DIR/engine/distconsts"
  cp -r "$sdk_mod/." "$SRC_DIR/sdk/go/"
  chmod -R u+w "$SRC_DIR"
  printf 'module github.com/dagger/dagger/engine/distconsts\n\ngo 1.22\n' >"$SRC_DIR/engine/distconsts/go.mod"
  cp "$REPO_ROOT/scripts/engine/distconsts.go.txt" "$SRC_DIR/engine/distconsts/consts.go"
  touch "$SRC_DIR/.complete-$CST_DAGGER_VERSION"
}

build_binaries() {
  if [ -x "$BIN_DIR/dagger-engine" ] && [ -f "$BIN_DIR/.version" ] \
     && [ "$(cat "$BIN_DIR/.version")" = "$CST_DAGGER_VERSION" ]; then
    return 0
  fi
  prepare_source
  mkdir -p "$BIN_DIR"
  local ld="-s -w -X github.com/dagger/dagger/engine.Version=$CST_DAGGER_VERSION -X github.com/dagger/dagger/engine.Tag=$CST_DAGGER_VERSION"
  say "building Dagger $CST_DAGGER_VERSION from the Go module proxy (cold: ~7 min on 2 idle cores, with an empty Go module cache)"
  # One `go build` for all five commands: it compiles shared packages once and links in parallel.
  local out="$BIN_DIR/.build"
  rm -rf "$out" && mkdir -p "$out"
  (
    cd "$SRC_DIR"
    go build -ldflags "$ld" -o "$out/" ./cmd/engine ./cmd/dagger ./cmd/codegen ./cmd/init ./cmd/dnsname
  ) >"$LOG_DIR/build.log" 2>&1 || { tail -30 "$LOG_DIR/build.log" >&2; fail "building Dagger failed (log: $LOG_DIR/build.log)"; }
  mv "$out/engine" "$BIN_DIR/dagger-engine"
  mv "$out/dagger" "$BIN_DIR/dagger"
  mv "$out/codegen" "$BIN_DIR/dagger-codegen"
  mv "$out/init" "$BIN_DIR/dagger-init"
  mv "$out/dnsname" "$BIN_DIR/dnsname"
  rmdir "$out"
  echo "$CST_DAGGER_VERSION" >"$BIN_DIR/.version"
}

install_layout() {
  [ -e "$RUNC" ] || ln -s "$(command -v runc)" "$RUNC"
  install -m 0755 "$BIN_DIR/dagger-init" "$DAGGER_INIT"
  mkdir -p "$CNI_DIR" "$STATE_DIR" /run/dagger /etc/dagger "$CONTENT_DIR"
  local p
  for p in bridge loopback firewall host-local; do ln -sf "/usr/lib/cni/$p" "$CNI_DIR/$p"; done
  install -m 0755 "$BIN_DIR/dnsname" "$CNI_DIR/dnsname"
}

make_rootfs() {
  [ -f "$ROOTFS/.complete" ] && return 0
  say "debootstrap bookworm minbase (~1 min)"
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$DEBIAN_MIRROR" >"$LOG_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$LOG_DIR/debootstrap.log" >&2; fail "debootstrap failed (log: $LOG_DIR/debootstrap.log)"; }
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  touch "$ROOTFS/.complete"
}

go_release_dir() {
  # The official Go release, as the Go module proxy serves it (the same zip `GOTOOLCHAIN` fetches).
  # Module zips carry no file modes: restore the executables in a copy.
  local dest="$HOME_DIR/go$GO_IMAGE_VERSION" d
  if [ ! -x "$dest/bin/go" ]; then
    d=$(module_dir "golang.org/toolchain@v0.0.1-go$GO_IMAGE_VERSION.linux-amd64") || true
    if [ -z "$d" ] || [ ! -f "$d/bin/go" ]; then fail "the Go module proxy did not serve Go $GO_IMAGE_VERSION"; fi
    rm -rf "$dest.tmp"
    cp -r "$d" "$dest.tmp"
    chmod -R u+w "$dest.tmp"
    chmod +x "$dest.tmp"/bin/* "$dest.tmp"/pkg/tool/linux_amd64/*
    mv "$dest.tmp" "$dest"
  fi
  echo "$dest"
}

build_bootstrap_tool() {
  (cd "$REPO_ROOT" && go build -o "$BIN_DIR/cst-engine-bootstrap" ./scripts/enginebootstrap) \
    || fail "cannot build scripts/enginebootstrap"
}

# ---------------------------------------------------------------- registry mirror
registry_pid() { cat "$HOME_DIR/registry.pid" 2>/dev/null || true; }
registry_running() { local p; p=$(registry_pid); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

start_registry() {
  registry_running && return 0
  if curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; then
    fail "something not started by this script already listens on $REGISTRY_ADDR"
  fi
  mkdir -p "$HOME_DIR/registry"
  cat >"$HOME_DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $HOME_DIR/registry/data
http:
  addr: $REGISTRY_ADDR
EOF
  setsid /usr/bin/docker-registry serve "$HOME_DIR/registry/config.yml" \
    >>"$LOG_DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$HOME_DIR/registry.pid"
  local _
  for _ in $(seq 1 50); do curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail "registry did not start (log: $LOG_DIR/registry.log)"
}

write_engine_config() { # [$1 = bytes to prune under the cap: the config an idle engine settles with]
  # Read by the engine at start: docker.io pulls go through the local mirror first, and the cache is
  # collected under the cap cap_engine_cache chose (no policies until it has measured).
  local want gc="" policies
  if [ -s "$HOME_DIR/gc-cap" ]; then
    policies=$("$BIN_DIR/cst-engine-bootstrap" gc-config --cap "$(cat "$HOME_DIR/gc-cap")" --run-room "${1:-0}") \
      || fail "cannot write the engine's collection policies"
    gc=$(printf ',\n  "gc": %s' "$policies")
  fi
  want=$(printf '{\n  "registries": {\n    "docker.io": { "mirrors": ["%s"] },\n    "%s": { "http": true }\n  }%s\n}\n' \
    "$REGISTRY_ADDR" "$REGISTRY_ADDR" "$gc")
  [ -f "$ENGINE_CONFIG" ] && [ "$(cat "$ENGINE_CONFIG")" = "$want" ] && return 0
  printf '%s\n' "$want" >"$ENGINE_CONFIG"
}

image_published() { # $1 = repo, $2 = tag
  curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_ADDR/v2/$1/manifests/$2" 2>/dev/null
}

seed_registry() {
  if image_published library/debian bookworm-slim && image_published library/golang "$GO_IMAGE_VERSION-bookworm"; then
    return 0
  fi
  say "publishing debian:bookworm-slim and golang:$GO_IMAGE_VERSION-bookworm to the mirror"
  local goroot
  goroot=$(go_release_dir) || exit 1
  engine_env "$BIN_DIR/cst-engine-bootstrap" seed --rootfs "$ROOTFS" --goroot "$goroot" \
    --go-version "$GO_IMAGE_VERSION" --registry "$REGISTRY_ADDR" >"$LOG_DIR/seed.log" 2>&1 \
    || { tail -30 "$LOG_DIR/seed.log" >&2; fail "seeding the registry failed (log: $LOG_DIR/seed.log)"; }
}

# ---------------------------------------------------------------- engine
engine_pid() { cat "$HOME_DIR/engine.pid" 2>/dev/null || true; }
engine_running() { local p; p=$(engine_pid); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
engine_env() { _EXPERIMENTAL_DAGGER_RUNNER_HOST="$RUNNER" _EXPERIMENTAL_DAGGER_CLI_BIN="$BIN_DIR/dagger" "$@"; }

start_engine() {
  engine_running && return 0
  # A socket left by a stopped engine refuses connections (curl exit 7); only a live one is asked
  # its version, which otherwise waits out the CLI's connect retries.
  local probe=0
  [ -S "$SOCK" ] && { curl -s -m 2 --unix-socket "$SOCK" -o /dev/null http://engine/ || probe=$?; }
  if [ -S "$SOCK" ] && [ "$probe" != 7 ] && engine_answers "$RUNNER"; then
    fail "an engine this script did not start answers on $SOCK; stop it or export _EXPERIMENTAL_DAGGER_RUNNER_HOST=$RUNNER"
  fi
  rm -f "$SOCK"
  # The engine asks for a huge open-files limit; take the hard limit we are allowed.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  local sdk_env=()
  [ -s "$HOME_DIR/go-sdk.digest" ] && sdk_env=("DAGGER_GO_SDK_MANIFEST_DIGEST=$(cat "$HOME_DIR/go-sdk.digest")")
  # unshare --mount: the engine bind-mounts its own resolv.conf over /etc/resolv.conf and never
  # undoes it; a private mount namespace keeps the host's DNS configuration untouched.
  cp "$ENGINE_CONFIG" "$HOME_DIR/engine-config.started" 2>/dev/null || rm -f "$HOME_DIR/engine-config.started"
  setsid env "${sdk_env[@]}" unshare --mount --propagation private \
    "$BIN_DIR/dagger-engine" --root "$STATE_DIR" --addr "$RUNNER" >>"$LOG_DIR/engine.log" 2>&1 </dev/null &
  echo $! >"$HOME_DIR/engine.pid"
  local t0=$SECONDS _
  for _ in $(seq 1 240); do
    engine_running || { tail -30 "$LOG_DIR/engine.log" >&2; fail "the engine exited (log: $LOG_DIR/engine.log)"; }
    if engine_answers "$RUNNER"; then say "engine up in $((SECONDS - t0))s"; return 0; fi
    sleep 0.5
  done
  fail "the engine did not answer within 120 s (log: $LOG_DIR/engine.log)"
}

stop_pid_file() { # $1 = pid file, $2 = what
  local p; p=$(cat "$1" 2>/dev/null || true)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p"
    local _
    for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$p" 2>/dev/null && kill -KILL -- "-$p" 2>/dev/null
    say "$2 stopped"
  fi
  rm -f "$1"
}

build_go_sdk_image() {
  # In v0.19.7 the Go SDK runtime is not pulled from a registry: the engine loads it from OCI content
  # in $CONTENT_DIR named by DAGGER_GO_SDK_MANIFEST_DIGEST. Build an equivalent with the engine itself.
  local digest_file="$HOME_DIR/go-sdk.digest"
  if [ -s "$digest_file" ] && [ -f "$CONTENT_DIR/blobs/sha256/$(cut -d: -f2 "$digest_file")" ]; then
    return 0
  fi
  say "building the Go SDK runtime image (~4 min cold)"
  local out="$HOME_DIR/go-sdk-oci"
  rm -rf "$out" "$out.tar"
  engine_env "$BIN_DIR/cst-engine-bootstrap" gosdk --rootfs "$ROOTFS" --goroot "$(go env GOROOT)" \
    --codegen "$BIN_DIR/dagger-codegen" --sdk-src "$SRC_DIR/sdk/go" --out "$out.tar" \
    >"$LOG_DIR/gosdk.log" 2>&1 || { tail -30 "$LOG_DIR/gosdk.log" >&2; fail "Go SDK image build failed (log: $LOG_DIR/gosdk.log)"; }
  mkdir -p "$out"
  tar -xf "$out.tar" -C "$out"
  cp -r "$out/blobs" "$CONTENT_DIR/"
  grep -o '"digest":"sha256:[0-9a-f]*"' "$out/index.json" | head -1 | cut -d'"' -f4 >"$digest_file"
  rm -rf "$out" "$out.tar"
  say "Go SDK image $(cat "$digest_file")"
}

load_go_sdk_image() {
  # The engine reads DAGGER_GO_SDK_MANIFEST_DIGEST at start: restart it if it runs without it.
  local p; p=$(engine_pid)
  [ -n "$p" ] && tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "DAGGER_GO_SDK_MANIFEST_DIGEST=$(cat "$HOME_DIR/go-sdk.digest")" \
    && return 0
  say "restarting the engine to load the Go SDK image"
  stop_pid_file "$HOME_DIR/engine.pid" engine
  start_engine
}

gigabytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e9 }'; }

restart_engine_if_config_changed() { # $1 = why
  cmp -s "$ENGINE_CONFIG" "$HOME_DIR/engine-config.started" && return 0
  say "restarting the engine: $1"
  stop_pid_file "$HOME_DIR/engine.pid" engine
  start_engine
}

prune_engine_cache() {
  engine_env "$BIN_DIR/dagger" core engine local-cache prune --use-default-policy >>"$LOG_DIR/gc.log" 2>&1 \
    || fail "pruning the engine cache failed (log: $LOG_DIR/gc.log)"
}

cap_engine_cache() {
  # The engine's own garbage collector counts blocks reserved for other users as free and would fill
  # this disk (scripts/enginebootstrap/gc.go); cap its cache so $FREE_GB GB stay writable, restarting
  # it when the cap it runs with is off. The collector prunes only above the cap, and while sessions
  # run that can remove a record another session is looking up; so an idle engine whose cache sits
  # less than $RUN_GB GB under the cap is first pruned down to that (least recently used first: what
  # the last run used stays), with a settling config, then restarted with its cap.
  local out cap decision avail cached clients room=$((RUN_GB * 1000000000))
  out=$(engine_env "$BIN_DIR/cst-engine-bootstrap" gc-cap --state "$STATE_DIR" --headroom "$((FREE_GB * 1000000000))" \
    2>>"$LOG_DIR/gc.log") || fail "cannot measure the engine's cache (log: $LOG_DIR/gc.log)"
  read -r cap decision avail cached clients <<<"$out"
  say "engine cache $(gigabytes "$cached") GB, $(gigabytes "$avail") GB free: cap $(gigabytes "$cap") GB ($decision)"
  echo "$cap" >"$HOME_DIR/gc-cap"
  if [ "$((cached + room))" -gt "$cap" ]; then
    if [ "$clients" -gt 0 ]; then
      say "engine busy ($clients other clients): its cache is not pruned to make room for this run"
    else
      write_engine_config "$room"
      restart_engine_if_config_changed "pruning its cache to $RUN_GB GB under the cap, to make room for a run"
      prune_engine_cache
      say "engine cache pruned: $(gigabytes "$(df -P -B1 "$STATE_DIR" | awk 'NR == 2 { print $4 }')") GB free"
    fi
  fi
  write_engine_config
  restart_engine_if_config_changed "its cache cap is $(gigabytes "$cap") GB"
}

write_env() {
  cat >"$HOME_DIR/env.sh" <<EOF
export _EXPERIMENTAL_DAGGER_RUNNER_HOST=$RUNNER
export _EXPERIMENTAL_DAGGER_CLI_BIN=$BIN_DIR/dagger
export DO_NOT_TRACK=1
export DAGGER_NO_NAG=1
export PATH=$BIN_DIR:\$PATH
EOF
}

print_env() {
  if [ -n "${_EXPERIMENTAL_DAGGER_RUNNER_HOST:-}" ] && [ "${_EXPERIMENTAL_DAGGER_RUNNER_HOST}" != "$RUNNER" ]; then
    printf 'export _EXPERIMENTAL_DAGGER_RUNNER_HOST=%s\nexport DO_NOT_TRACK=1\nexport DAGGER_NO_NAG=1\n' \
      "$_EXPERIMENTAL_DAGGER_RUNNER_HOST"
    [ -n "${_EXPERIMENTAL_DAGGER_CLI_BIN:-}" ] && printf 'export _EXPERIMENTAL_DAGGER_CLI_BIN=%s\n' "$_EXPERIMENTAL_DAGGER_CLI_BIN"
    return 0
  fi
  [ -f "$HOME_DIR/env.sh" ] || write_env
  cat "$HOME_DIR/env.sh"
}

cmd_up() {
  if [ -n "${_EXPERIMENTAL_DAGGER_RUNNER_HOST:-}" ] && [ "${_EXPERIMENTAL_DAGGER_RUNNER_HOST}" != "$RUNNER" ]; then
    engine_answers "$_EXPERIMENTAL_DAGGER_RUNNER_HOST" \
      || fail "_EXPERIMENTAL_DAGGER_RUNNER_HOST=$_EXPERIMENTAL_DAGGER_RUNNER_HOST does not answer; unset it to build a local engine"
    say "using the engine at $_EXPERIMENTAL_DAGGER_RUNNER_HOST"
    print_env; return 0
  fi
  [ "$(id -u)" = 0 ] || fail "a host engine needs root (it runs containers); or point _EXPERIMENTAL_DAGGER_RUNNER_HOST at an engine"
  command -v go >/dev/null || fail "Go is needed to build the engine (https://go.dev/dl)"
  local t0=$SECONDS
  mkdir -p "$HOME_DIR" "$LOG_DIR"
  step packages install_packages
  step "dagger build" build_binaries
  install_layout
  # Not beside the compile: dpkg is CPU work too, and on two cores both took longer than in turn.
  step rootfs make_rootfs
  build_bootstrap_tool
  step registry start_registry
  write_engine_config
  step engine start_engine
  # The seed (a registry push) and the Go SDK image (compiling the standard library) overlap.
  step "registry seed" seed_registry &
  local seed_job=$!
  step "go sdk image" build_go_sdk_image
  wait "$seed_job" || fail "seeding the registry mirror failed"
  step "go sdk load" load_go_sdk_image
  step "cache cap" cap_engine_cache
  write_env
  say "ready in $((SECONDS - t0))s"
  print_env
}

cmd_down() {
  stop_pid_file "$HOME_DIR/engine.pid" engine
  stop_pid_file "$HOME_DIR/registry.pid" "registry mirror"
}

cmd_status() {
  local rc=0
  if engine_running; then echo "engine: running (pid $(engine_pid), $RUNNER)"; else echo "engine: stopped"; rc=1; fi
  if registry_running; then echo "registry mirror: running (pid $(registry_pid), $REGISTRY_ADDR)"; else echo "registry mirror: stopped"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
