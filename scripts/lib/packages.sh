# shellcheck shell=bash
# need_packages PKG... installs the Debian packages that are missing, quietly; sourced by the host
# scripts that build fixtures (testbed.sh, replicas.sh).
need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
}
