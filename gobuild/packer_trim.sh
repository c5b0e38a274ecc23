#!/bin/sh
# Keeps only the QEMU builder among the plugins Packer 1.9 vendors (packer_plugins.awk, beside this
# script, says why). Run it in a writable copy of the Packer module source: sh packer_trim.sh
f=command/vendored_plugins.go
# A version without the file vendors nothing: build it as it is.
[ -f "$f" ] || exit 0
awk -f "$(dirname "$0")/packer_plugins.awk" "$f" "$f" >"$f.new"
mv "$f.new" "$f"
grep -q '"github.com/hashicorp/packer-plugin-qemu/' "$f" || { echo "$f no longer vendors the QEMU builder" >&2; exit 1; }
