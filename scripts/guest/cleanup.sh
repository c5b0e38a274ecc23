#!/bin/bash
# Seals the guest so that every instance cloned from the template is its own machine: no shared SSH
# host keys, machine-id, DHCP leases or network bindings, no build logs, history, cloud-init state or
# package caches, and no usable build password. Run as root by Packer's shell provisioner, last.
# Works on Debian, Ubuntu, EL9 and Fedora; every step tolerates what a distribution does not have.
set -euo pipefail

log() { printf 'cleanup.sh: %s\n' "$*"; }

[[ $(id -u) -eq 0 ]] || { echo "cleanup.sh: must run as root" >&2; exit 1; }

# --- package caches -------------------------------------------------------------------------------
if command -v apt-get >/dev/null 2>&1; then
	apt-get clean
	rm -rf /var/lib/apt/lists/*
fi
if command -v dnf >/dev/null 2>&1; then
	dnf -y clean all >/dev/null || true
	rm -rf /var/cache/dnf/*
fi

# --- cloud-init state -----------------------------------------------------------------------------
# Without this, cloud-init believes the instance already ran and skips its per-instance modules.
if command -v cloud-init >/dev/null 2>&1; then
	cloud-init clean --logs
fi
rm -rf /var/lib/cloud/instance /var/lib/cloud/instances/*

# --- identity -------------------------------------------------------------------------------------
# New host keys are generated on first boot (cloud-init's ssh module, or sshd-keygen on EL/Fedora).
rm -f /etc/ssh/ssh_host_*
# An empty (not missing) machine-id makes systemd generate a fresh one on first boot and run it as a
# first boot; D-Bus's copy must follow it rather than keep the build's.
: >/etc/machine-id
if [[ -e /var/lib/dbus/machine-id || -L /var/lib/dbus/machine-id ]]; then
	rm -f /var/lib/dbus/machine-id
	ln -s /etc/machine-id /var/lib/dbus/machine-id
fi
rm -f /var/lib/systemd/random-seed /var/lib/systemd/credential.secret

# --- network --------------------------------------------------------------------------------------
rm -f /etc/udev/rules.d/70-persistent-net.rules /etc/udev/rules.d/75-persistent-net-generator.rules
# DHCP leases of dhclient (Debian, Ubuntu, older EL), NetworkManager and systemd-networkd.
rm -f /var/lib/dhcp/*.leases /var/lib/dhclient/*.lease /var/lib/dhclient/*.leases
rm -f /var/lib/NetworkManager/*.lease /var/lib/NetworkManager/internal-* /var/lib/NetworkManager/timestamps
rm -rf /var/lib/systemd/network/* /run/systemd/netif/leases/*
# Connection profiles pinned to the build VM's MAC address would not match any clone.
if [[ -d /etc/NetworkManager/system-connections ]]; then
	grep -l -i -E '^mac-address=' /etc/NetworkManager/system-connections/* 2>/dev/null |
		xargs -r sed -i -E '/^mac-address=/Id'
fi
for ifcfg in /etc/sysconfig/network-scripts/ifcfg-*; do
	[[ -f $ifcfg && $ifcfg != */ifcfg-lo ]] || continue
	sed -i -E '/^(HWADDR|UUID)=/d' "$ifcfg"
done

# --- build account --------------------------------------------------------------------------------
# Packer keeps its SSH connection open for the shutdown command, so locking now is safe. CloudStack
# sets the default user's password through cloud-init on each instance.
build_user="${SUDO_USER:-root}"
passwd -l root >/dev/null
if [[ $build_user != root ]] && id "$build_user" >/dev/null 2>&1; then
	passwd -l "$build_user" >/dev/null
	# The account is still needed for Packer's "sudo shutdown": remove it, with its sudoers rule, on
	# the template's first boot.
	cat >/etc/systemd/system/cloudstack-templates-remove-build-user.service <<UNIT
[Unit]
Description=Remove the template build account ${build_user}
ConditionPathExists=/etc/sudoers.d/${build_user}

[Service]
Type=oneshot
ExecStart=/usr/sbin/userdel --remove ${build_user}
ExecStart=/bin/rm -f /etc/sudoers.d/${build_user}
ExecStartPost=/bin/systemctl disable cloudstack-templates-remove-build-user.service

[Install]
WantedBy=multi-user.target
UNIT
	systemctl enable cloudstack-templates-remove-build-user.service >/dev/null 2>&1
fi

# --- logs, history, temporary files ---------------------------------------------------------------
if command -v journalctl >/dev/null 2>&1; then
	journalctl --rotate >/dev/null 2>&1 || true
	journalctl --vacuum-time=1s >/dev/null 2>&1 || true
fi
rm -rf /var/log/journal/*
# Rotated logs go; current ones are kept (some daemons expect the files) but emptied.
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
find /var/log -type f -exec truncate -s 0 {} +
rm -f /root/.bash_history /home/*/.bash_history /root/.lesshst /root/.viminfo /root/.wget-hsts
unset HISTFILE
# The running provisioner script lives in /tmp; bash keeps reading it after it is unlinked.
find /tmp /var/tmp -mindepth 1 -delete 2>/dev/null || true

sync
log "guest sealed"
