// Package guest holds the scripts Packer runs inside the guest (as root, in the order a Definition's
// Provisioners list them) and the cloud-init config cloudstack.sh installs. The pipeline embeds them
// so a build needs nothing from the source tree at run time.
package guest

import "embed"

// Scripts holds the guest provisioning scripts (cloudstack.sh, cleanup.sh) by file name.
//
//go:embed *.sh
var Scripts embed.FS

// CloudStackConfig is scripts/guest/99-cloudstack.cfg, the cloud-init config cloudstack.sh writes to
// /etc/cloud/cloud.cfg.d/99-cloudstack.cfg (the script carries a byte-identical copy).
//
//go:embed 99-cloudstack.cfg
var CloudStackConfig []byte
