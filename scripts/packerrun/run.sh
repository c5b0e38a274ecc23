#!/bin/bash
# run.sh — runs `packer build` in the pipeline's toolchain container (/work holds the template, the
# HTTP directory and the guest scripts) and, when it fails, puts what explains the failure where the
# error message will show it: Packer's last lines and the tail of the guest's serial console.
#
# These states end the build at once, where Packer itself would wait out the SSH timeout (an hour for
# an install):
#   - the guest powered off before it answered SSH: an installer stopped (a bad config, or a boot
#     command that started another menu entry);
#   - the guest's kernel panicked before it answered SSH: a panicked kernel halts and never answers
#     (an installer kernel started without its initrd, say, when keys of a boot command were lost);
#   - the guest printed nothing on its serial console for $CST_CONSOLE_TIMEOUT seconds after the boot
#     command was typed: every definition's kernel writes to ttyS0, so the keys did not start it
#     (a boot menu that changed, or keys typed before the menu was ready);
#   - the filesystem under $CST_WORK has less than $CST_MIN_FREE_BYTES (default 512 MiB) left while the
#     guest runs: QEMU pauses a guest whose disk image cannot grow (its default werror=enospc), and the
#     paused guest never answers SSH.
#
# Arguments are passed to `packer build`; CST_WORK (default /work) is the working directory and
# CST_QEMU_COMM (default qemu-system) how the guest's process name starts.
set -u -o pipefail
W=${CST_WORK:-/work}
cd "$W" || exit 1
mkdir -p "$W"/result
: >"$W/result/packer.log"
qemu_running() { grep -qs "^${CST_QEMU_COMM:-qemu-system}" /proc/[0-9]*/comm; }
free_bytes() { df -P -B1 "$W" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
min_free=${CST_MIN_FREE_BYTES:-536870912}
# Stops this run's Packer: SIGTERM to the packer process the subshell started. Packer's wrapper
# (panicwrap) forwards SIGTERM to the Packer that does the work, which cancels the build, stops the
# guest and cleans up, as on Ctrl-C.
stop_packer() {
  local s pid comm ppid
  for s in /proc/[0-9]*/stat; do
    { read -r pid comm _ ppid _ <"$s"; } 2>/dev/null || continue
    if [ "$ppid" = "$run" ] && [ "$comm" = "(packer)" ]; then kill -TERM "$pid" 2>/dev/null; fi
  done
}
( packer build -color=false "$@" template.pkr.hcl 2>&1 | tee "$W/result/packer.log" ) &
run=$!
seen=no stopped="" typed_at=""
while kill -0 "$run" 2>/dev/null; do
  if grep -q 'Connected to SSH' "$W/result/packer.log"; then :
  elif qemu_running; then
    seen=yes
    if grep -qa 'Kernel panic - not syncing' "$W/serial.log" 2>/dev/null; then
      stopped="the guest's kernel panicked before it answered SSH, and a panicked kernel never answers: $(grep -a -m1 -o 'Kernel panic - not syncing.*' "$W/serial.log" | tr -d '\r')"
      stop_packer; break
    fi
    free=$(free_bytes)
    if [ -n "$free" ] && [ "$free" -lt "$min_free" ]; then
      stopped="the engine's disk is full ($((free >> 20)) MiB free where the guest's disk grows, under $((min_free >> 20)) MiB): QEMU pauses a guest that cannot write, so it would never answer SSH; free space on the engine host (dagger core engine local-cache prune, or a bigger disk) and run again"
      stop_packer; break
    fi
    if [ -z "$typed_at" ] && grep -q 'Waiting for SSH to become available' "$W/result/packer.log"; then typed_at=$SECONDS; fi
    if [ -n "$typed_at" ] && [ ! -s "$W/serial.log" ] && [ $((SECONDS - typed_at)) -ge "${CST_CONSOLE_TIMEOUT:-600}" ]; then
      stopped="the guest printed nothing on its serial console in ${CST_CONSOLE_TIMEOUT:-600}s after the boot command was typed: the keys did not start the installer's kernel (the boot menu differs from what the boot command expects, or the keys came before the menu was ready)"
      stop_packer; break
    fi
  elif [ $seen = yes ]; then
    stopped="the guest powered off before it answered SSH: the installer stopped or the boot command started another menu entry (its serial console below says which)"
    stop_packer; break
  fi
  sleep 2
done
if [ -n "$stopped" ]; then
  # Packer stops the guest and exits; a child that still holds the log pipe must not keep us waiting.
  for _ in $(seq 30); do kill -0 "$run" 2>/dev/null || break; sleep 2; done
  kill "$run" 2>/dev/null
fi
wait "$run"
rc=$?
[ -f "$W/serial.log" ] && cp "$W/serial.log" "$W/result/serial.log"
if [ -n "$stopped" ] && [ $rc -eq 0 ]; then rc=1; fi
if [ $rc -ne 0 ]; then
  {
    [ -n "$stopped" ] && echo "$stopped"
    echo "packer build failed (exit $rc); its last lines:"
    grep -v '^\s*$' "$W/result/packer.log" | tail -n 12
    echo "guest serial console, last 25 lines:"
    if [ -s "$W/serial.log" ]; then tr -d '\r' < "$W/serial.log" | grep -v '^\s*$' | tail -n 25; else echo "(empty: the guest printed nothing)"; fi
  } >&2
  exit $rc
fi
mv "$W"/output/* "$W"/result/
