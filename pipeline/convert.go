package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"dagger/cloudstack-templates/internal/dagger"

	"github.com/cloudstack-templates/cloudstack-templates/artifacts"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// convertScript turns Packer's qcow2 into one delivery format. Each format is written under a
// temporary name and renamed when complete, so a failed conversion leaves no half file behind.
const convertScript = `set -eu
fmt=$1 in=$2 name=$3 qcow2_compression=${4:-zlib}
mkdir -p /out
case "$fmt" in
  qcow2) qemu-img convert -f qcow2 -O qcow2 -c -o compat=1.1,compression_type="$qcow2_compression" "$in" "/out/.$name.qcow2"
         mv "/out/.$name.qcow2" "/out/$name.qcow2" ;;
  vhd)   qemu-img convert -f qcow2 -O vpc -o subformat=dynamic "$in" "/out/.$name.vhd"
         mv "/out/.$name.vhd" "/out/$name.vhd" ;;
  vmdk)  qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized "$in" "/out/.$name-disk1.vmdk"
         mv "/out/.$name-disk1.vmdk" "/out/$name-disk1.vmdk" ;;
  *) echo "unknown format $fmt" >&2; exit 2 ;;
esac
`

// ovaScript packs descriptor, manifest and disk, in that order (OVF 1.0: the descriptor first).
const ovaScript = `set -eu
name=$1
mkdir -p /out
cd /pack
tar --format=ustar --owner=0 --group=0 --numeric-owner -cf "/out/.$name.ova" "$name.ovf" "$name.mf" "$name-disk1.vmdk"
mv "/out/.$name.ova" "/out/$name.ova"
`

// diskTools is Debian with qemu-img, zstd and tar: the QEMU base the other images share, so a cold
// engine installs those packages once.
func diskTools() *dagger.Container {
	return qemuBase("")
}

type imageInfo struct {
	VirtualSize int64  `json:"virtual-size"`
	Format      string `json:"format"`
	ActualSize  int64  `json:"actual-size"`
}

func qemuImgInfo(ctx context.Context, f *dagger.File, name string) (imageInfo, error) {
	out, err := diskTools().WithMountedFile("/img/"+name, f).
		WithExec([]string{"qemu-img", "info", "--output=json", "/img/" + name}).Stdout(ctx)
	if err != nil {
		return imageInfo{}, fmt.Errorf("qemu-img info %s: %s", name, execMessage(err))
	}
	var info imageInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return imageInfo{}, fmt.Errorf("qemu-img info %s: %w", name, err)
	}
	return info, nil
}

// qcow2Compressions are the compression types a qcow2 template may use.
var qcow2Compressions = []string{"zlib", "zstd"}

func checkQcow2Compression(c string) error {
	for _, v := range qcow2Compressions {
		if c == v {
			return nil
		}
	}
	return fmt.Errorf("unknown --qcow2-compression %q: choose %s (zlib reads on every KVM host; zstd needs QEMU 5.1+)",
		c, strings.Join(qcow2Compressions, " or "))
}

// convert produces the requested formats from Packer's image, as files named <name>.<ext>.
func (m *CloudstackTemplates) convert(ctx context.Context, d osdefs.Definition, image *dagger.File, name string, formats []osdefs.Format) (*dagger.Directory, error) {
	tools := diskTools().WithMountedFile("/in/image.qcow2", image)
	out := dag.Directory()
	for _, f := range formats {
		switch f {
		case osdefs.FormatQCOW2, osdefs.FormatVHD:
			c := tools.WithExec([]string{"sh", "-c", convertScript, "convert", string(f), "/in/image.qcow2", name, m.Qcow2Compression})
			out = out.WithFile(name+"."+string(f), c.File("/out/"+name+"."+string(f)))
		case osdefs.FormatOVA:
			ova, err := packOVA(ctx, d, tools, name)
			if err != nil {
				return nil, err
			}
			out = out.WithFile(name+".ova", ova)
		default:
			return nil, fmt.Errorf("unknown format %q", f)
		}
	}
	if _, err := out.Sync(ctx); err != nil {
		return nil, fmt.Errorf("convert %s: %s", d.ID, execMessage(err))
	}
	return out, nil
}

func packOVA(ctx context.Context, d osdefs.Definition, tools *dagger.Container, name string) (*dagger.File, error) {
	vmdkName := name + "-disk1.vmdk"
	vmdk := tools.WithExec([]string{"sh", "-c", convertScript, "convert", "vmdk", "/in/image.qcow2", name}).File("/out/" + vmdkName)
	size, err := vmdk.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("convert %s to a streamOptimized VMDK: %s", d.ID, execMessage(err))
	}
	src, err := qemuImgInfo(ctx, tools.File("/in/image.qcow2"), "image.qcow2")
	if err != nil {
		return nil, err
	}
	ovf, err := artifacts.OVFDescriptor(artifacts.OVFParams{
		Name:           name,
		Description:    fmt.Sprintf("%s %s CloudStack template built by cloudstack-templates", d.Name, d.Version),
		DiskFile:       vmdkName,
		DiskFileSize:   int64(size),
		CapacityBytes:  src.VirtualSize,
		PopulatedBytes: src.ActualSize,
		CPUs:           d.CPUs,
		MemoryMB:       d.MemoryMB,
		OSFamily:       d.Family,
		OSID:           d.ID,
		OSVersion:      d.Version,
	})
	if err != nil {
		return nil, err
	}
	vmdkSum, err := digestOf(ctx, vmdk, "sha256")
	if err != nil {
		return nil, err
	}
	ovfDigests, err := artifacts.Digest(strings.NewReader(string(ovf)))
	if err != nil {
		return nil, err
	}
	mf := artifacts.Manifest([]artifacts.ManifestEntry{
		{Name: name + ".ovf", SHA256: ovfDigests.SHA256},
		{Name: vmdkName, SHA256: vmdkSum},
	})
	packed := tools.
		WithNewFile("/pack/"+name+".ovf", string(ovf)).
		WithNewFile("/pack/"+name+".mf", string(mf)).
		WithFile("/pack/"+vmdkName, vmdk).
		WithExec([]string{"sh", "-c", ovaScript, "ova", name})
	return packed.File("/out/" + name + ".ova"), nil
}

// digestOf hashes a file in a container: the bytes never travel to the module's runtime.
func digestOf(ctx context.Context, f *dagger.File, algorithm string) (string, error) {
	out, err := dag.Container().From(debianImage).WithMountedFile("/f", f).
		WithExec([]string{algorithm + "sum", "/f"}).Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %s", algorithm, execMessage(err))
	}
	sum, _, _ := strings.Cut(out, " ")
	return sum, nil
}
