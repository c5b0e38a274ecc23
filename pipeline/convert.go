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

// convertScript makes one disk file from Packer's qcow2, as a registry entry (osdefs.Formats) says:
// qemu-img to the entry's image format with its options, then the entry's compression. The file is
// written under a temporary name and renamed when complete, so a failed conversion leaves no half
// file behind.
const convertScript = `set -eu
image=$1 options=$2 clusters=$3 compression=$4 in=$5 out=$6
dir=$(dirname "$out"); tmp="$dir/.partial-$(basename "$out")"
mkdir -p "$dir"
c=""; [ "$clusters" = yes ] && c=-c
case "$compression" in
  "")    qemu-img convert -f qcow2 -O "$image" $c -o "$options" "$in" "$tmp" ;;
  bzip2) qemu-img convert -f qcow2 -O "$image" $c -o "$options" "$in" "$tmp.image"
         lbzip2 -n "$(nproc)" -c "$tmp.image" >"$tmp"
         rm -f "$tmp.image" ;;
  *) echo "unknown compression $compression" >&2; exit 2 ;;
esac
mv "$tmp" "$out"
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

// diskConvert runs convertScript for spec's disk into out (a path under /out).
func (m *CloudstackTemplates) diskConvert(tools *dagger.Container, spec osdefs.FormatSpec, out string) *dagger.File {
	options := spec.QemuImgOptions
	if spec.Format == osdefs.FormatQCOW2 {
		options += ",compression_type=" + m.Qcow2Compression
	}
	clusters := "no"
	if spec.CompressClusters {
		clusters = "yes"
	}
	return tools.WithExec([]string{"sh", "-c", convertScript, "convert", spec.Image, options, clusters, spec.Compression, "/in/image.qcow2", out}).
		File(out)
}

// convert produces the requested formats from Packer's image, as the registry names their files.
func (m *CloudstackTemplates) convert(ctx context.Context, d osdefs.Definition, image *dagger.File, name string, formats []osdefs.Format) (*dagger.Directory, error) {
	tools := aptInstall(diskTools(), "lbzip2").WithMountedFile("/in/image.qcow2", image)
	out := dag.Directory()
	for _, f := range formats {
		spec, err := osdefs.Spec(f)
		if err != nil {
			return nil, err
		}
		file := spec.FileName(name)
		if f == osdefs.FormatOVA {
			ova, err := m.packOVA(ctx, d, tools, spec, name)
			if err != nil {
				return nil, err
			}
			out = out.WithFile(file, ova)
			continue
		}
		out = out.WithFile(file, m.diskConvert(tools, spec, "/out/"+file))
	}
	if _, err := out.Sync(ctx); err != nil {
		return nil, fmt.Errorf("convert %s: %s", d.ID, execMessage(err))
	}
	return out, nil
}

func (m *CloudstackTemplates) packOVA(ctx context.Context, d osdefs.Definition, tools *dagger.Container, spec osdefs.FormatSpec, name string) (*dagger.File, error) {
	vmdkName := name + "-disk1.vmdk"
	vmdk := m.diskConvert(tools, spec, "/out/"+vmdkName)
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
