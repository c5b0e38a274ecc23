package main

// The module's fixed choices as Dagger enums: the CLI lists their members in --help and refuses any
// other value before a function runs, for API callers as well. Their values are those of the plain
// packages that act on them; ci's TestModuleEnums keeps the two lists equal. Output formats stay a
// string checked against osdefs' format registry, so that a format is added in one place.

// Accelerator is the QEMU accelerator builds and boot tests run under.
type Accelerator string

const (
	// KVM only where a test guest boots under it, else QEMU's TCG emulation with a warning.
	AcceleratorAuto Accelerator = "auto"
	// KVM; fails at once where KVM cannot run a guest.
	AcceleratorKvm Accelerator = "kvm"
	// QEMU's TCG software emulation (5-20× slower), even where KVM works.
	AcceleratorTcg Accelerator = "tcg"
)

// Severity is the Trivy severity at which a scan fails a build.
type Severity string

const (
	// Fail on critical vulnerabilities.
	SeverityCritical Severity = "CRITICAL"
	// Fail on high or critical vulnerabilities.
	SeverityHigh Severity = "HIGH"
	// Fail on medium vulnerabilities or worse.
	SeverityMedium Severity = "MEDIUM"
	// Fail on low vulnerabilities or worse.
	SeverityLow Severity = "LOW"
	// Fail on any vulnerability, unknown severities included.
	SeverityUnknown Severity = "UNKNOWN"
	// Only report: never fail on a finding.
	SeverityNone Severity = "NONE"
)

// OutputFormat is how a report is printed.
type OutputFormat string

const (
	// Aligned text, for people.
	OutputFormatTable OutputFormat = "table"
	// JSON, for machines (CI matrices, dashboards).
	OutputFormatJson OutputFormat = "json"
)

// ToolsSource is where Packer and Trivy come from.
type ToolsSource string

const (
	// The vendors' official releases, verified against their signatures.
	ToolsSourceRelease ToolsSource = "release"
	// Compiled from the Go module proxy, for engines that reach only that.
	ToolsSourceSource ToolsSource = "source"
)

// Qcow2Compression is how a qcow2 template's clusters are compressed.
type Qcow2Compression string

const (
	// zlib: every KVM host's QEMU reads it.
	Qcow2CompressionZlib Qcow2Compression = "zlib"
	// zstd: smaller and faster to decompress; needs QEMU 5.1 or later built with zstd.
	Qcow2CompressionZstd Qcow2Compression = "zstd"
)

// ToolName is a build tool the module hands out.
type ToolName string

const (
	// Packer, at the module's --packer-version.
	ToolNamePacker ToolName = "packer"
	// Trivy, at the module's version.
	ToolNameTrivy ToolName = "trivy"
)
