package artifacts

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// The schema's format and hypervisor enums are the format registry's: a format added to
// osdefs.Formats and not to the schema (or the other way round) fails here.
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
	hv := map[string]bool{}
	for _, s := range osdefs.Formats {
		formats = append(formats, string(s.Format))
		csFormats = append(csFormats, s.CloudStackFormat)
		for _, h := range s.Hypervisors() {
			if !hv[h] {
				hv[h] = true
				hypervisors = append(hypervisors, h)
			}
		}
	}
	same := func(what string, got, want []string) {
		g, w := append([]string(nil), got...), append([]string(nil), want...)
		sort.Strings(g)
		sort.Strings(w)
		if strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("schema %s enum %v, registry %v", what, got, want)
		}
	}
	same("artifacts[].format", schema.Properties.Artifacts.Items.Properties.Format.Enum, formats)
	same("cloudStack[].format", schema.Properties.CloudStack.Items.Properties.Format.Enum, csFormats)
	same("cloudStack[].hypervisor", schema.Properties.CloudStack.Items.Properties.Hypervisor.Enum, hypervisors)
}
