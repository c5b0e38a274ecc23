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
# cloud-init's CloudStack datasource asks the VR's password server with wget (every version we ship:
# cloudinit/sources/DataSourceCloudStack.py, CloudStackPasswordServerClient._do_request); without it
# the password CloudStack shows never reaches the guest.
command -v wget >/dev/null 2>&1 || missing+=(wget)
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
command -v wget >/dev/null 2>&1 || die "wget is still missing (cloud-init fetches CloudStack's password with it)"
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
# cloudstack.sh. The managed account is root: the password CloudStack shows and the instance's key
# pair are root's, as with CloudStack's own password scripts.
ssh_pwauth: true
disable_root: false
system_info:
  default_user:
    name: root
    lock_passwd: false
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

# ds-identify enables cloud-init only where it recognises a datasource, and it recognises CloudStack
# by the SMBIOS product CloudStack's KVM agent sets. XenServer and VMware guests carry their own, so
# cloud-init would be disabled there and the instance left without key, password or SSH host keys.
# CloudStack's guide ("Cloud-init integration") enables cloud-init without ds-identify's verdict;
# datasource_list above still decides what is tried, in order.
printf 'policy: enabled\n' >/etc/cloud/ds-identify.cfg
chmod 0644 /etc/cloud/ds-identify.cfg

# From cloud-init 25.2 the CloudStack datasource also checks the SMBIOS product itself and stands
# down on XenServer and VMware unless datasource_list is exactly [ CloudStack ] (sources/__init__.py,
# override_ds_detect). One list cannot serve both kinds of zone, so the list is chosen at each boot,
# before cloud-init starts: the config drive when a config-2 volume is attached, else the VR. It is
# written to /run/cloud-init/cloud.cfg, which cloud-init reads over /etc/cloud (and which ds-identify,
# told "enabled", leaves alone). The list in 99-cloudstack.cfg stays for boots without this unit.
cat >/usr/local/sbin/cloudstack-datasource <<'SCRIPT'
#!/bin/sh
# Chooses cloud-init's datasource for this boot: ConfigDrive with a config-2 volume, else CloudStack.
set -eu
udevadm settle --timeout=30 2>/dev/null || true
if blkid -L config-2 >/dev/null 2>&1 || blkid -L CONFIG-2 >/dev/null 2>&1; then
	list='[ ConfigDrive, None ]'
else
	list='[ CloudStack ]'
fi
mkdir -p /run/cloud-init
printf '# Written at boot by cloudstack-datasource.service\ndatasource_list: %s\n' "$list" >/run/cloud-init/cloud.cfg
echo "cloud-init datasource for this boot: $list"
SCRIPT
chmod 0755 /usr/local/sbin/cloudstack-datasource
cat >/etc/systemd/system/cloudstack-datasource.service <<'UNIT'
[Unit]
Description=Choose cloud-init's CloudStack datasource for this boot
DefaultDependencies=no
After=systemd-udev-trigger.service systemd-remount-fs.service
Before=cloud-init-local.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cloudstack-datasource

[Install]
WantedBy=cloud-init-local.service
UNIT

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

# --- SSH ---------------------------------------------------------------------------------------------
# The managed account is root (see 99-cloudstack.cfg), so root may log in with the password CloudStack
# sets. sshd takes the first value it reads, and this file sorts before the distributions' own.
mkdir -p /etc/ssh/sshd_config.d
printf '# Installed by cloudstack-templates: CloudStack sets root'"'"'s password and key.\nPermitRootLogin yes\n' \
	>/etc/ssh/sshd_config.d/01-cloudstack.conf
# Host keys come from cloud-init on first boot. Should cloud-init not run, sshd must still start: EL
# and Fedora generate missing keys in sshd-keygen@.service; Debian and Ubuntu do not, and their
# ssh.service checks the configuration (sshd -t), which fails without keys. Generate first.
if [[ -f /lib/systemd/system/ssh.service || -f /usr/lib/systemd/system/ssh.service ]]; then
	mkdir -p /etc/systemd/system/ssh.service.d
	cat >/etc/systemd/system/ssh.service.d/10-cloudstack-host-keys.conf <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
fi

# --- config drive password ----------------------------------------------------------------------------
# On a config drive CloudStack puts the password in cloudstack/password/vm_password.txt, which
# cloud-init's ConfigDrive datasource does not read. This unit sets it for root when it changes (a new
# instance, or "reset password", which rebuilds the drive), before cloud-init's final stage.
cat >/usr/local/sbin/cloudstack-configdrive-password <<'SCRIPT'
#!/bin/sh
# Sets root's password from a CloudStack config drive, once per password the drive carries.
set -eu
dev=$(blkid -L config-2 2>/dev/null || blkid -L CONFIG-2 2>/dev/null || true)
[ -n "$dev" ] || exit 0
mnt=$(mktemp -d)
trap 'umount "$mnt" 2>/dev/null; rmdir "$mnt"' EXIT
mount -o ro "$dev" "$mnt" || exit 0
f="$mnt/cloudstack/password/vm_password.txt"
[ -s "$f" ] || { echo "no password on the config drive"; exit 0; }
pw=$(tr -d '\r\n' <"$f")
case "$pw" in "" | saved_password) exit 0 ;; esac
state=/var/lib/cloudstack-templates/configdrive-password.sha256
sum=$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)
[ "$(cat "$state" 2>/dev/null)" = "$sum" ] && { echo "config drive password already set"; exit 0; }
printf 'root:%s\n' "$pw" | chpasswd
mkdir -p "${state%/*}" && printf '%s\n' "$sum" >"$state" && chmod 0600 "$state"
echo "root password set from the config drive"
SCRIPT
chmod 0755 /usr/local/sbin/cloudstack-configdrive-password
cat >/etc/systemd/system/cloudstack-configdrive-password.service <<'UNIT'
[Unit]
Description=Set root's password from a CloudStack config drive
After=cloud-config.service
Before=cloud-final.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cloudstack-configdrive-password

[Install]
WantedBy=multi-user.target
UNIT

# cloud-init must run at boot; the units exist on every distribution we build.
if command -v systemctl >/dev/null 2>&1; then
	for unit in cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service \
		cloudstack-configdrive-password.service cloudstack-datasource.service; do
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
