#!/bin/bash
# Prepares the guest for Apache CloudStack: cloud-init with the CloudStack datasources, password and
# SSH-key reset on every boot, root-partition growth, the QEMU guest agent, and a release mark.
# Run as root by Packer's shell provisioner, with CST_OS_ID, CST_OS_NAME, CST_OS_VERSION and
# CST_BUILD_INFO set. Works with apt (Debian, Ubuntu) and dnf (EL9, Fedora).
set -euo pipefail

log() { printf 'cloudstack.sh: %s\n' "$*"; }
die() { printf 'cloudstack.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# --- packages -------------------------------------------------------------------------------------
# Installed only when missing: installers usually put them in already (the kickstarts and autoinstall
# ask for them), and the offline testbed has them but no package repository to reach.
have_qga() { command -v qemu-ga >/dev/null 2>&1 || [[ -x /usr/bin/qemu-ga || -x /usr/sbin/qemu-ga ]]; }

missing=()
if command -v apt-get >/dev/null 2>&1; then
	command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
	command -v growpart >/dev/null 2>&1 || missing+=(cloud-guest-utils)
	have_qga || missing+=(qemu-guest-agent)
	if ((${#missing[@]} > 0)); then
		log "installing ${missing[*]} with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
elif command -v dnf >/dev/null 2>&1; then
	command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
	command -v growpart >/dev/null 2>&1 || missing+=(cloud-utils-growpart)
	have_qga || missing+=(qemu-guest-agent)
	if ((${#missing[@]} > 0)); then
		log "installing ${missing[*]} with dnf"
		dnf -y install "${missing[@]}"
	fi
else
	command -v cloud-init >/dev/null 2>&1 || die "no apt-get or dnf, and cloud-init is missing"
fi
command -v cloud-init >/dev/null 2>&1 || die "cloud-init is still missing"
command -v growpart >/dev/null 2>&1 || die "growpart is still missing"
have_qga || die "qemu-guest-agent is still missing"

# --- cloud-init configuration ---------------------------------------------------------------------
mkdir -p /etc/cloud/cloud.cfg.d
# The same bytes as scripts/guest/99-cloudstack.cfg (a Go test checks they match and that
# `cloud-init schema` accepts them): Packer uploads only this script, so the file travels inside it.
cat >/etc/cloud/cloud.cfg.d/99-cloudstack.cfg <<'CLOUDCFG'
#cloud-config
# Installed by scripts/guest/cloudstack.sh as /etc/cloud/cloud.cfg.d/99-cloudstack.cfg.
# Follows Apache CloudStack's "Cloud-init integration" guide (adminguide/templates/_cloud_init.rst).

# CloudStack offers instance data on a config drive (ConfigDrive) or from the virtual router's
# metadata/password server (CloudStack); None keeps the boot going where neither answers.
datasource_list: [ ConfigDrive, CloudStack, None ]
datasource:
  CloudStack: {}
  None: {}

# CloudStack's "reset password" sets a password cloud-init applies on the next boot, and users log in
# with it over SSH. set_passwords and ssh are switched to run on every boot in cloud.cfg by
# cloudstack.sh.
ssh_pwauth: true
disable_root: false
# ssh runs on every boot; keeping existing host keys stops it from changing the host's fingerprint at
# each reboot. cleanup.sh removes the build's keys, so each instance still gets its own on first boot.
ssh_deletekeys: false

# Grow the root partition and file system into whatever disk size the CloudStack offering gives.
growpart:
  mode: auto
  devices: ["/"]
  ignore_growroot_disabled: false
resize_rootfs: true
CLOUDCFG
chmod 0644 /etc/cloud/cloud.cfg.d/99-cloudstack.cfg

# Build-time configs that would override ours (they sort after 99-cloudstack.cfg, or pin the None
# datasource): the testbed's, and the ones Ubuntu's installer leaves behind.
rm -f /etc/cloud/cloud.cfg.d/99-testbed-build.cfg \
	/etc/cloud/cloud.cfg.d/99-installer.cfg \
	/etc/cloud/cloud.cfg.d/subiquity-disable-cloudinit-networking.cfg

# Password and SSH-key reset on every boot: the CloudStack guide switches these modules to "always"
# in cloud.cfg itself. Editing the list entries in place keeps each distribution's own module list
# (redefining cloud_init_modules in a cfg.d file would replace it wholesale). The module is named
# set-passwords in cloud-init < 23 and set_passwords after; both spellings are kept as found.
if [[ -f /etc/cloud/cloud.cfg ]]; then
	sed -i -E 's/^([[:space:]]*)- (set[-_]passwords|ssh)[[:space:]]*$/\1- [\2, always]/' /etc/cloud/cloud.cfg
	for module in 'set[-_]passwords' 'ssh'; do
		grep -Eq "^[[:space:]]*- \[ *${module} *, *always *\]" /etc/cloud/cloud.cfg ||
			die "cloud.cfg does not run ${module} on every boot"
	done
else
	die "/etc/cloud/cloud.cfg is missing"
fi

# cloud-init must run at boot; the units exist on every distribution we build.
if command -v systemctl >/dev/null 2>&1; then
	for unit in cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service; do
		systemctl enable "$unit" >/dev/null 2>&1 || log "could not enable $unit"
	done
	# The agent's unit is static on Debian and Ubuntu (udev starts it when the virtio port appears);
	# on EL and Fedora it has an [Install] section.
	if ! systemctl enable qemu-guest-agent.service >/dev/null 2>&1; then
		log "qemu-guest-agent.service is static: started by udev when the virtio serial port appears"
	fi
fi

# --- release mark ---------------------------------------------------------------------------------
# KEY=VALUE lines, shell- and systemd-EnvironmentFile-readable, for audits of running instances.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/[\\"$`]/\\&/g' | tr -d '\n')"; }
{
	echo "CST_OS_ID=$(quote "${CST_OS_ID:-unknown}")"
	echo "CST_OS_NAME=$(quote "${CST_OS_NAME:-unknown}")"
	echo "CST_OS_VERSION=$(quote "${CST_OS_VERSION:-unknown}")"
	echo "CST_BUILD_INFO=$(quote "${CST_BUILD_INFO:-}")"
	echo "CST_BUILD_DATE=$(quote "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
} >/etc/cloudstack-template-release
chmod 0644 /etc/cloudstack-template-release

log "guest prepared for CloudStack (${CST_OS_NAME:-unknown} ${CST_OS_VERSION:-})"
