# shellcheck shell=bash
# need_packages PKG... installs the Debian packages that are not installed yet, quietly, and says which
# on stderr. A PKG written CMD=PKG counts as present when CMD is on PATH already (a tool that came
# another way, e.g. Node.js from nvm). Sourced by every host script that installs what it needs.
need_packages() {
  local missing=() p
  for p in "$@"; do
    if [[ $p == *=* ]]; then
      command -v "${p%%=*}" >/dev/null 2>&1 && continue
      p=${p#*=}
    fi
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    printf 'need root to apt-get install %s (or install them first)\n' "${missing[*]}" >&2
    return 1
  fi
  printf 'apt-get install %s\n' "${missing[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
}
