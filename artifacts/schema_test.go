package artifacts

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

var update = flag.Bool("update", false, "rewrite the format and hypervisor enums of schema/metadata.schema.json from the format registry")

const schemaFile = "schema/metadata.schema.json"

// The schema file is published as documentation, so it spells out the registry's formats and
// hypervisors; the code validates with the registry itself (MetadataSchema). A format added to
// osdefs.Formats fails here until the file is rewritten with -update.
func TestSchemaFile(t *testing.T) {
	disk, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	want, err := withRegistryEnums(disk, registryEnumValues())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(disk, want) {
		return
	}
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: enums rewritten from the format registry", schemaFile)
		return
	}
	t.Fatalf("%s: the format and hypervisor enums are not the format registry's (osdefs.Formats: %v): run go test ./artifacts -run TestSchemaFile -update",
		schemaFile, registryEnumValues())
}

// MetadataSchema's format and hypervisor enums are the format registry's, in its order, hypervisors
// once each: read here through the document's structure rather than the byte offsets that put them
// there.
func TestSchemaEnumsAreTheFormatRegistry(t *testing.T) {
	var schema struct {
		Properties struct {
			Artifacts struct {
				Items struct {
					Properties struct {
						Format struct{ Enum []string } `json:"format"`
					} `json:"properties"`
				} `json:"items"`
			} `json:"artifacts"`
			CloudStack struct {
				Items struct {
					Properties struct {
						Format     struct{ Enum []string } `json:"format"`
						Hypervisor struct{ Enum []string } `json:"hypervisor"`
					} `json:"properties"`
				} `json:"items"`
			} `json:"cloudStack"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(MetadataSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	var formats, csFormats, hypervisors []string
	for _, s := range osdefs.Formats {
		formats = append(formats, string(s.Format))
		csFormats = append(csFormats, s.CloudStackFormat)
		for _, h := range s.Hypervisors() {
			if !slices.Contains(hypervisors, h) {
				hypervisors = append(hypervisors, h)
			}
		}
	}
	same := func(what string, got, want []string) {
		if !slices.Equal(got, want) {
			t.Errorf("schema %s enum %v, registry %v", what, got, want)
		}
	}
	same("artifacts[].format", schema.Properties.Artifacts.Items.Properties.Format.Enum, formats)
	same("cloudStack[].format", schema.Properties.CloudStack.Items.Properties.Format.Enum, csFormats)
	same("cloudStack[].hypervisor", schema.Properties.CloudStack.Items.Properties.Hypervisor.Enum, hypervisors)
}
