#!/usr/bin/env bash
# replicas.sh — the installer replicas: one small installer ISO per vendor OS whose BIOS boot menu,
# volume label and kernel/initrd paths are those of the vendor's ISO (replicas/SOURCES.md), so that the
# catalogue's real boot commands, boot waits and install configs can be proven offline. The kernel
# boots cmd/cst-installer, which reads the command line like Anaconda or Subiquity, fetches the
# kickstart or user-data from Packer's HTTP server, checks it, writes the testbed OS to the disk with
# the config's logins, and reboots into it.
#
#   scripts/replicas.sh build   make the five ISOs + SHA256SUMS under "$(scripts/testbed.sh dir)/replicas"
#                               (cached by recipe; needs the testbed: scripts/testbed.sh build)
#   scripts/replicas.sh dir     print that directory
#
# Left out because they cannot be had here, and nothing a boot command types depends on them: the
# vendors' kernels and splash images (the testbed's Debian kernel boots instead), UEFI boot images,
# install.img/squashfs stage 2, memtest. Each initrd is padded to a vendor-like size (about 100 MB)
# so the boot loader takes as long to load it as it would the vendor's.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TESTBED_OUT="${CST_TESTBED_DIR:-/var/lib/cloudstack-templates/testbed}"
TESTBED_OUT="${TESTBED_OUT%/mirror}"
OUT="$TESTBED_OUT/mirror/replicas"
WORK="$TESTBED_OUT/replica-work"
ROOTFS="$TESTBED_OUT/rootfs"
TESTBED_IMAGE="$TESTBED_OUT/mirror/testbed-bookworm.qcow2"
# Size of each initrd: the EL9 and Ubuntu installers' initrds are on the order of 100 MB.
INITRD_MIB="${CST_REPLICA_INITRD_MIB:-96}"

say() { printf '[replicas %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# The replicas, one line each: catalogue fixture ID | ISO file name | volume label | boot loader |
# product name | version | FIPS entry (EL 9.7+). File names and labels are the vendors'.
REPLICAS=(
  "ubuntu-22.04-fixture|ubuntu-22.04.5-live-server-amd64.iso|Ubuntu-Server 22.04.5 LTS amd64|ubuntu-grub|Ubuntu-Server|22.04.5|no"
  "fedora-41-fixture|Fedora-Server-dvd-x86_64-41-1.4.iso|Fedora-S-dvd-x86_64-41|fedora-grub|Fedora|41|no"
  "almalinux-9-fixture|AlmaLinux-9.8-x86_64-minimal.iso|AlmaLinux-9-8-x86_64-dvd|isolinux|AlmaLinux|9.8|yes"
  "rocky-9-fixture|Rocky-9.6-x86_64-minimal.iso|Rocky-9-6-x86_64-dvd|isolinux|Rocky Linux|9.6|no"
  "centos-stream-9-fixture|CentOS-Stream-9-20250303.0-x86_64-boot.iso|CentOS-Stream-9-BaseOS-x86_64|isolinux|CentOS Stream|9|no"
)

recipe_hash() {
  {
    sha256sum "${BASH_SOURCE[0]}"
    find "$ROOT/replicas" "$ROOT/installer" "$ROOT/cmd/cst-installer" -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum "$TESTBED_IMAGE"
  } | sha256sum | cut -c1-16
}

# shellcheck source-path=SCRIPTDIR source=lib/packages.sh
. "$HERE/lib/packages.sh"

# The initrd every replica shares: busybox, cst-installer as /init, the kernel modules it loads (with
# their dependencies), then an uncompressed padding archive to reach a vendor-like size.
make_initrd() {
  local kver tree="$WORK/initrd" m
  kver=$(basename "$ROOTFS"/lib/modules/*)
  rm -rf "$tree" && mkdir -p "$tree"/{bin,sbin,etc,proc,sys,dev,target,cdrom,fixture,lib/modules/"$kver"}
  cp /bin/busybox "$tree/bin/busybox"
  for a in sh modprobe ip udhcpc mkpasswd mount umount sleep cat; do ln -s busybox "$tree/bin/$a"; done
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$tree/init" ./cmd/cst-installer)
  cat >"$tree/etc/udhcpc.script" <<'EOF'
#!/bin/sh
# udhcpc hook: configure the lease on the interface.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done ;;
esac
exit 0
EOF
  chmod +x "$tree/etc/udhcpc.script"
  # Modules and their dependencies, from the testbed kernel's own modules.dep.
  local want="virtio_pci virtio_blk virtio_net ext4 ata_piix sr_mod isofs" deps
  deps=$(for m in $want; do
    modprobe -d "$ROOTFS" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
  done | sort -u)
  [ -n "$deps" ] || fail "no kernel modules found for $kver under $ROOTFS"
  for m in $deps; do
    mkdir -p "$tree$(dirname "${m#"$ROOTFS"}")"
    cp "$m" "$tree${m#"$ROOTFS"}"
  done
  cp "$ROOTFS/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$tree/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$tree" "$kver"
  (cd "$tree" && find . | sort | cpio -o -H newc --quiet | gzip -9) >"$WORK/initrd.img"
  # Padding: incompressible, so the boot loader reads as many bytes as from a vendor's initrd.
  local have pad
  have=$(stat -c %s "$WORK/initrd.img")
  pad=$(( INITRD_MIB * 1024 * 1024 - have ))
  if [ "$pad" -gt 0 ]; then
    rm -rf "$WORK/pad" && mkdir -p "$WORK/pad/padding"
    head -c "$pad" /dev/urandom >"$WORK/pad/padding/vendor-size"
    (cd "$WORK/pad" && find . | sort | cpio -o -H newc --quiet) >>"$WORK/initrd.img"
  fi
  cp "$ROOTFS/boot/vmlinuz-$kver" "$WORK/vmlinuz"
}

# The fixture OS the replicas install: the testbed disk, raw and gzip'd.
make_disk_image() {
  [ -f "$WORK/disk.raw.gz" ] && [ "$WORK/disk.raw.gz" -nt "$TESTBED_IMAGE" ] && return 0
  qemu-img convert -O raw "$TESTBED_IMAGE" "$WORK/disk.raw"
  gzip -1 -c "$WORK/disk.raw" >"$WORK/disk.raw.gz.tmp" && mv "$WORK/disk.raw.gz.tmp" "$WORK/disk.raw.gz"
  rm -f "$WORK/disk.raw"
}

# xorriso prints its banner on stderr even when quiet: show its output only when it fails.
mkiso() {
  xorriso -as mkisofs -quiet "$@" 2>"$WORK/xorriso.log" || { cat "$WORK/xorriso.log" >&2; fail "xorriso failed"; }
}

grub_modules="biosdisk iso9660 normal configfile linux linux16 echo test search search_label search_fs_file \
  font gfxterm all_video gzio part_gpt part_msdos ext2 chain ls cat reboot halt"

build_one() {
  local id=$1 iso=$2 label=$3 loader=$4 product=$5 version=$6 fips=$7 tree
  tree="$WORK/iso-$id"
  rm -rf "$tree" && mkdir -p "$tree/fixture"
  ln "$WORK/disk.raw.gz" "$tree/fixture/disk.raw.gz" 2>/dev/null || cp "$WORK/disk.raw.gz" "$tree/fixture/disk.raw.gz"
  local udev_label
  udev_label=$(printf '%s' "$label" | sed 's/[^A-Za-z0-9_-]/\\x20/g')
  case "$loader" in
    ubuntu-grub)
      mkdir -p "$tree/casper" "$tree/boot/grub/i386-pc" "$tree/boot/grub/fonts" "$tree/.disk"
      cp "$WORK/vmlinuz" "$tree/casper/vmlinuz"
      cp "$WORK/initrd.img" "$tree/casper/initrd"
      cp "$ROOT/replicas/ubuntu/grub.cfg" "$tree/boot/grub/grub.cfg"
      cp /usr/share/grub/unicode.pf2 "$tree/boot/grub/fonts/unicode.pf2"
      printf 'Ubuntu-Server %s LTS "Jammy Jellyfish" - Release amd64 (20240911)\n' "$version" >"$tree/.disk/info"
      # shellcheck disable=SC2086
      grub-mkimage -O i386-pc-eltorito -p /boot/grub -o "$tree/boot/grub/i386-pc/eltorito.img" $grub_modules
      mkiso -R -J -V "$label" -c boot.catalog \
        -b boot/grub/i386-pc/eltorito.img -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info \
        -o "$OUT/$iso.tmp" "$tree"
      ;;
    fedora-grub)
      mkdir -p "$tree/images/pxeboot" "$tree/boot/grub2/i386-pc"
      cp "$WORK/vmlinuz" "$tree/images/pxeboot/vmlinuz"
      cp "$WORK/initrd.img" "$tree/images/pxeboot/initrd.img"
      sed -e "s|@PRODUCT@|$product|g" -e "s|@VERSION@|$version|g" -e "s|@ISOLABEL@|$label|g" \
        -e "s|@KERNELPATH@|/images/pxeboot/vmlinuz|g" -e "s|@INITRDPATH@|/images/pxeboot/initrd.img|g" \
        -e "s|@ROOT@|inst.stage2=hd:LABEL=$udev_label|g" "$ROOT/replicas/fedora/grub2-bios.cfg" >"$tree/boot/grub2/grub.cfg"
      # shellcheck disable=SC2086
      grub-mkimage -O i386-pc-eltorito -p /boot/grub2 -o "$tree/images/eltorito.img" $grub_modules
      mkiso -R -J -V "$label" -c boot.cat --boot-catalog-hide \
        -b images/eltorito.img -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info \
        -o "$OUT/$iso.tmp" "$tree"
      ;;
    isolinux)
      mkdir -p "$tree/isolinux" "$tree/images/pxeboot"
      cp /usr/lib/ISOLINUX/isolinux.bin "$tree/isolinux/"
      for c in ldlinux vesamenu libcom32 libutil; do cp "/usr/lib/syslinux/modules/bios/$c.c32" "$tree/isolinux/"; done
      cp "$WORK/vmlinuz" "$tree/isolinux/vmlinuz"
      cp "$WORK/initrd.img" "$tree/isolinux/initrd.img"
      ln "$tree/isolinux/vmlinuz" "$tree/images/pxeboot/vmlinuz"
      ln "$tree/isolinux/initrd.img" "$tree/images/pxeboot/initrd.img"
      printf '\n -  Press the \017\060\061<ENTER>\017\060\067 key to begin the installation process.\n' >"$tree/isolinux/boot.msg"
      local fips_block=""
      [ "$fips" = yes ] && fips_block=$(cat "$ROOT/replicas/el9/fips.cfg")$'\n'
      FIPS="$fips_block" awk '$0 == "@FIPS@" { printf "%s", ENVIRON["FIPS"]; next } { print }' \
        "$ROOT/replicas/el9/isolinux.cfg" |
        sed -e "s|@PRODUCT@|$product|g" -e "s|@VERSION@|$version|g" -e "s|@ROOT@|inst.stage2=hd:LABEL=$udev_label|g" \
          >"$tree/isolinux/isolinux.cfg"
      mkiso -R -J -V "$label" -c isolinux/boot.cat \
        -b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
        -o "$OUT/$iso.tmp" "$tree"
      ;;
    *) fail "unknown boot loader $loader" ;;
  esac
  mv "$OUT/$iso.tmp" "$OUT/$iso"
  rm -rf "$tree"
}

cmd_build() {
  [ -f "$TESTBED_IMAGE" ] || fail "no testbed image at $TESTBED_IMAGE: run scripts/testbed.sh build first"
  [ -d "$ROOTFS/lib/modules" ] || fail "no testbed root file system at $ROOTFS: run scripts/testbed.sh build first"
  local hash
  hash=$(recipe_hash)
  if [ -f "$OUT/.recipe-$hash" ] && [ -f "$OUT/SHA256SUMS" ]; then
    (cd "$OUT" && sha256sum --quiet -c SHA256SUMS) && { say "cached: $OUT"; return 0; }
  fi
  need_packages busybox-static grub-pc-bin grub-common isolinux syslinux-common xorriso cpio qemu-utils kmod
  local t0=$SECONDS line
  mkdir -p "$OUT" "$WORK"
  rm -f "$OUT"/.recipe-* "$OUT"/SHA256SUMS
  make_initrd
  make_disk_image
  for line in "${REPLICAS[@]}"; do
    IFS='|' read -r id iso label loader product version fips <<<"$line"
    say "$id: $iso ($loader, label \"$label\")"
    build_one "$id" "$iso" "$label" "$loader" "$product" "$version" "$fips"
  done
  (cd "$OUT" && sha256sum -- *.iso >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
  touch "$OUT/.recipe-$hash"
  say "built ${#REPLICAS[@]} replicas in $OUT ($(du -sh "$OUT" | cut -f1)) in $((SECONDS - t0))s"
}

case "${1:-}" in
  build) cmd_build ;;
  dir) echo "$OUT" ;;
  list) printf '%s\n' "${REPLICAS[@]}" ;;
  *) echo "usage: $0 build|dir|list" >&2; exit 2 ;;
esac
