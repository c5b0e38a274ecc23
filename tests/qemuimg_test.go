//go:build e2e

package tests

import (
	"encoding/json"
	"testing"
)

// imgInfo is what the tests read of `qemu-img info --output=json`.
type imgInfo struct {
	Format         string `json:"format"`
	VirtualSize    int64  `json:"virtual-size"`
	FormatSpecific struct {
		Data struct {
			CompressionType string `json:"compression-type"`
		} `json:"data"`
	} `json:"format-specific"`
}

func qemuImgInfo(t *testing.T, path string) imgInfo {
	t.Helper()
	out := hostRun(t, "qemu-img", "info", "--output=json", path)
	var info imgInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("qemu-img info %s: %v\n%s", path, err, out)
	}
	return info
}
