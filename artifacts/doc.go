// Package artifacts is the pure-Go logic behind the pipeline's artifact stages: OVF descriptors and
// OVA manifests for VMware, digests and checksum files, the CloudStack registerTemplate parameters of
// each output format, Trivy report summaries with a severity gate, and the per-template metadata JSON
// (with its embedded JSON Schema). The pipeline runs qemu-img, tar and Trivy in containers; everything
// that decides what those tools' output must look like, or whether it can be trusted, lives here so it
// can be unit-tested without an engine.
package artifacts
