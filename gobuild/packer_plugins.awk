# Packer 1.9 compiles in ("vendors") the Amazon, Azure, Google, vSphere, VirtualBox, VMware, Docker,
# Vagrant and Ansible plugins; templates here use only the QEMU builder and Packer's core provisioners.
# This keeps the QEMU builder and drops the rest from command/vendored_plugins.go, as Packer 1.10+
# does for all of them: 927 packages to compile instead of 1200, 175 s instead of 283 s on two cores,
# a 49 MB binary instead of 88 MB. Other plugins still install the usual way (`packer plugins`).
#
# Usage: awk -f packer_plugins.awk vendored_plugins.go vendored_plugins.go > trimmed.go
# (two passes over the same file: the first learns the import names of the dropped plugins).

function dropped(line) {
	return line ~ /"github\.com\/hashicorp\/packer-plugin-[a-z0-9-]+\// &&
		line !~ /"github\.com\/hashicorp\/packer-plugin-(sdk|qemu)\//
}

NR == FNR {
	if (dropped($0) && $1 ~ /^[A-Za-z_][A-Za-z0-9_]*$/) drop[$1] = 1
	next
}

dropped($0) { next }

{
	for (name in drop)
		if (index($0, "(" name ".") > 0) next
	print
}
