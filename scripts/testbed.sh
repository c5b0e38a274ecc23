#!/usr/bin/env bash
# testbed.sh — the offline fixture OS ("testbed"): a small Debian 12 guest that goes through the same
# pipeline as the vendor OSes, so a full template build can run where vendor ISOs cannot be downloaded.
#
#   scripts/testbed.sh build    make testbed-bookworm.qcow2 + SHA256SUMS (cached; ~3 min cold)
#   scripts/testbed.sh serve    serve them on 127.0.0.1:${CST_TESTBED_PORT:-8383} (foreground)
#   scripts/testbed.sh dir      print the directory that holds them (what `serve` serves)
#
# The image is an MBR disk with one ext4 partition booted by extlinux, made without a mount for the
# filesystem itself (mke2fs -d) and with a loop mount only to install extlinux. The guest has what the
# CloudStack provisioning scripts expect to configure (cloud-init, growpart, qemu-guest-agent); root
# logs in over SSH with the build password "packer", which scripts/guest/cleanup.sh locks.
# The module runs this same recipe in the engine (its `testbed` function) and serves the result itself:
#   dagger call build --os testbed export --path ./out
# Built on the host instead (root: debootstrap, chroot, a loop mount) and served from there:
#   scripts/testbed.sh build && (scripts/testbed.sh serve &) &&
#   dagger call --mirror http://testbed-mirror:8383 --mirror-service tcp://localhost:8383 \
#     build --os testbed export --path ./out
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${CST_TESTBED_DIR:-/var/lib/cloudstack-templates/testbed}"
PORT="${CST_TESTBED_PORT:-8383}"
MIRROR="${CST_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SIZE_MIB=1536
IMAGE=testbed-bookworm.qcow2
SERVE_DIR="$OUT/mirror"
# The cache key: a changed recipe rebuilds the image.
RECIPE_HASH="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"

say() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. "$HERE/lib/packages.sh"

# The guest's packages. wget is how cloud-init's CloudStack datasource asks the password server.
GUEST_PACKAGES=linux-image-cloud-amd64,systemd-sysv,udev,openssh-server,iproute2,ca-certificates,cloud-guest-utils,qemu-guest-agent,sudo,e2fsprogs,wget

make_rootfs() {
  local rootfs=$1
  # The tree is reused while the package list is the same; another list makes a new tree.
  local done_mark
  done_mark="$rootfs/.complete-$(printf '%s' "$GUEST_PACKAGES" | sha256sum | cut -c1-12)"
  if [ ! -f "$done_mark" ]; then
    say "debootstrap bookworm (kernel, systemd, sshd; ~2 min)"
    rm -rf "$rootfs"
    debootstrap --variant=minbase \
      --include="$GUEST_PACKAGES" \
      bookworm "$rootfs" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 \
      || { tail -20 "$OUT/debootstrap.log" >&2; fail "debootstrap failed (log: $OUT/debootstrap.log)"; }
    # cloud-init's Python dependencies use virtual packages debootstrap cannot resolve: apt can.
    say "apt-get install cloud-init in the guest tree"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"; chmod +x "$rootfs/usr/sbin/policy-rc.d"
    mount -t proc proc "$rootfs/proc"
    local rc=0
    chroot "$rootfs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cloud-init' \
      >>"$OUT/debootstrap.log" 2>&1 || rc=$?
    umount "$rootfs/proc"
    rm -f "$rootfs/usr/sbin/policy-rc.d" "$rootfs/etc/resolv.conf"
    [ $rc = 0 ] || { tail -20 "$OUT/debootstrap.log" >&2; fail "installing cloud-init failed (log: $OUT/debootstrap.log)"; }
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    touch "$done_mark"
  fi
}

configure_guest() {
  local r=$1
  echo testbed >"$r/etc/hostname"
  printf 'LABEL=root / ext4 defaults,errors=remount-ro 0 1\n' >"$r/etc/fstab"
  mkdir -p "$r/etc/systemd/network"
  printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' >"$r/etc/systemd/network/10-dhcp.network"
  chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1
  # Units that only slow a TCG boot, or wait for a network that user-mode QEMU provides at once.
  chroot "$r" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
  echo 'root:packer' | chroot "$r" chpasswd
  printf 'PermitRootLogin yes\nPasswordAuthentication yes\nUseDNS no\n' >"$r/etc/ssh/sshd_config.d/10-build.conf"
  # During the build boot cloud-init must neither probe metadata services nor touch SSH settings;
  # scripts/guest/cloudstack.sh replaces this with the CloudStack datasources.
  cat >"$r/etc/cloud/cloud.cfg.d/99-testbed-build.cfg" <<'EOF'
datasource_list: [ None ]
disable_root: false
ssh_pwauth: true
users: []
EOF
  # minbase has no locale data; C.UTF-8 is built into glibc, so cloud-init's locale module succeeds.
  printf 'locale: C.UTF-8\n' >"$r/etc/cloud/cloud.cfg.d/90-testbed-locale.cfg"
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*_Packages
}

make_disk() {
  local rootfs=$1 raw="$OUT/work.raw" part="$OUT/part.raw" kver mnt loop
  rm -f "$raw" "$part"
  truncate -s "${SIZE_MIB}M" "$raw"
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
  # The filesystem is filled without mounting (mke2fs -d); extlinux needs ^64bit.
  mke2fs -q -t ext4 -O ^64bit -L root -d "$rootfs" "$part" "$(( (SIZE_MIB - 1) * 1024 ))k"
  dd if="$part" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
  rm -f "$part"
  dd if=/usr/lib/EXTLINUX/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
  kver=$(basename "$rootfs"/boot/vmlinuz-* | sed 's/^vmlinuz-//')
  loop=$(losetup --show -f -o $((2048 * 512)) "$raw")
  mnt=$(mktemp -d)
  trap 'umount "$mnt" 2>/dev/null || true; losetup -d "$loop" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true' RETURN
  mount "$loop" "$mnt"
  mkdir -p "$mnt/boot/extlinux"
  extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
  cat >"$mnt/boot/extlinux/extlinux.conf" <<EOF
DEFAULT linux
TIMEOUT 0
PROMPT 0
SERIAL 0 115200
LABEL linux
  LINUX /boot/vmlinuz-$kver
  INITRD /boot/initrd.img-$kver
  APPEND root=LABEL=root rw console=tty0 console=ttyS0,115200
EOF
  umount "$mnt"
  losetup -d "$loop"
  rmdir "$mnt"
  trap - RETURN
  # zstd-compressed qcow2: a third of the bytes to serve; Packer converts it while copying.
  qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$raw" "$OUT/$IMAGE.tmp"
  rm -f "$raw"
}

cmd_build() {
  if [ -f "$OUT/.recipe-$RECIPE_HASH" ] && [ -f "$SERVE_DIR/$IMAGE" ] && [ -f "$SERVE_DIR/SHA256SUMS" ]; then
    (cd "$SERVE_DIR" && sha256sum --quiet -c SHA256SUMS) && { say "cached: $SERVE_DIR/$IMAGE"; return 0; }
  fi
  [ "$(id -u)" = 0 ] || fail "building the testbed needs root (debootstrap, chroot, loop mount)"
  need_packages debootstrap qemu-utils extlinux syslinux-common fdisk e2fsprogs
  mkdir -p "$OUT"
  local t0=$SECONDS rootfs="$OUT/rootfs"
  make_rootfs "$rootfs"
  configure_guest "$rootfs"
  make_disk "$rootfs"
  mkdir -p "$SERVE_DIR"
  mv "$OUT/$IMAGE.tmp" "$SERVE_DIR/$IMAGE"
  (cd "$SERVE_DIR" && sha256sum "$IMAGE" >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
  rm -f "$OUT"/.recipe-*
  touch "$OUT/.recipe-$RECIPE_HASH"
  say "built $SERVE_DIR/$IMAGE ($(du -h "$SERVE_DIR/$IMAGE" | cut -f1)) in $((SECONDS - t0))s"
}

cmd_serve() {
  [ -f "$SERVE_DIR/$IMAGE" ] || fail "no testbed image in $SERVE_DIR: run '$HERE/testbed.sh build' first"
  need_packages python3
  say "serving $SERVE_DIR on http://127.0.0.1:$PORT/"
  exec python3 -m http.server --bind 127.0.0.1 --directory "$SERVE_DIR" "$PORT"
}

case "${1:-}" in
  build) cmd_build ;;
  serve) cmd_serve ;;
  dir) echo "$SERVE_DIR" ;;
  *) echo "usage: $0 build|serve|dir" >&2; exit 2 ;;
esac
