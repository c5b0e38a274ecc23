package osdefs

import (
	"embed"
	"fmt"
	"io/fs"
)

// installFiles holds the unattended-install configs Packer's HTTP server serves, one directory per
// Definition.HTTPDir ("all:" keeps dot files, should a config ever need one).
//
//go:embed all:files
var installFiles embed.FS

// HTTPFiles returns the install configs of d (its files/<HTTPDir> subtree) as the root of an fs.FS,
// ready to be written out as Packer's http_directory. A definition without HTTPDir (disk-image builds)
// gets an error, as does one whose directory is missing.
func HTTPFiles(d Definition) (fs.FS, error) {
	if d.HTTPDir == "" {
		return nil, fmt.Errorf("os %s serves no install files (HTTPDir is empty)", d.ID)
	}
	if !fs.ValidPath(d.HTTPDir) {
		return nil, fmt.Errorf("os %s: invalid HTTPDir %q", d.ID, d.HTTPDir)
	}
	sub, err := fs.Sub(installFiles, "files/"+d.HTTPDir)
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(sub, "."); err != nil {
		return nil, fmt.Errorf("os %s: no install files under files/%s: %w", d.ID, d.HTTPDir, err)
	}
	return sub, nil
}
