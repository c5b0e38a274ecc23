package artifacts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/cloudstack"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Issue #20's done-when: a format is added, in a test, by touching one file. This test appends one
// entry to the format registry (osdefs.Formats) and touches nothing else; the registry's lookups, the
// OS catalogue, --formats, the metadata schema and CloudStack publishing all take the new format. It
// changes a package variable of osdefs, so it must not run in parallel.
func TestAFormatIsAddedInTheRegistryOnly(t *testing.T) {
	// Before: raw is no format, and the schema of the registry without it is compiled and cached.
	if _, err := osdefs.Spec("raw"); err == nil {
		t.Fatal("raw is a format before this test adds it: add another one")
	}
	before, _ := sampleBuild(t)
	if _, err := EncodeMetadata(before); err != nil {
		t.Fatal(err)
	}

	registry := osdefs.Formats
	t.Cleanup(func() { osdefs.Formats = registry })
	osdefs.Formats = append(slices.Clip(registry), osdefs.FormatSpec{
		Format: "raw", Suffix: ".raw", Image: "raw",
		CloudStackFormat: "RAW", Hypervisor: osdefs.HypervisorKVM,
		Note: "raw disk image",
	})

	// The registry's lookups.
	if spec, err := osdefs.Spec("raw"); err != nil || spec.FileName("fedora-41") != "fedora-41.raw" {
		t.Errorf("Spec(raw) = %+v, %v", spec, err)
	}
	if spec, err := osdefs.FormatForCloudStack("RAW"); err != nil || spec.Format != "raw" {
		t.Errorf("FormatForCloudStack(RAW) = %+v, %v", spec, err)
	}

	// An OS of the catalogue is built in it: --formats raw, and all includes it.
	fedora, err := osdefs.Lookup("fedora-41")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := osdefs.ParseFormats(fedora, "raw"); err != nil || !slices.Equal(got, []osdefs.Format{"raw"}) {
		t.Errorf("ParseFormats(fedora-41, raw) = %v, %v", got, err)
	}
	if got, err := osdefs.ParseFormats(fedora, "all"); err != nil || !slices.Contains(got, "raw") {
		t.Errorf("ParseFormats(fedora-41, all) = %v, %v: no raw", got, err)
	}

	// The catalogue lists it.
	catalogue, err := osdefs.CatalogueJSON()
	if err != nil {
		t.Fatal(err)
	}
	var entries []osdefs.Entry
	if err := json.Unmarshal([]byte(catalogue), &entries); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(entries, func(e osdefs.Entry) bool { return e.ID == "fedora-41" })
	if i < 0 || !slices.Contains(entries[i].Formats, "raw") {
		t.Errorf("the catalogue's fedora-41 does not list raw:\n%s", catalogue)
	}

	// Metadata: sampleBuild describes one artifact per format of the registry, now a raw one too,
	// registered as RAW on KVM, and the schema takes it.
	m, _ := sampleBuild(t)
	if !slices.ContainsFunc(m.Artifacts, func(a Artifact) bool { return a.Format == "raw" }) ||
		!slices.ContainsFunc(m.CloudStack, func(rt RegisterTemplate) bool { return rt.Format == "RAW" && rt.Hypervisor == "KVM" }) {
		t.Fatalf("the sample build has no raw artifact registered as RAW on KVM: %+v", m)
	}
	doc, err := EncodeMetadata(m)
	if err != nil {
		t.Fatalf("metadata with a raw artifact: %v", err)
	}
	// A made-up format still fails, in the schema.
	madeUp := bytes.Replace(doc, []byte(`"format": "raw"`), []byte(`"format": "floppy"`), 1)
	if bytes.Equal(madeUp, doc) {
		t.Fatal(`the metadata has no "format": "raw"`)
	}
	if err := ValidateMetadata(madeUp); err == nil || !strings.Contains(err.Error(), "does not match the schema") {
		t.Errorf("metadata with a floppy artifact: %v, want a schema error", err)
	}

	// CloudStack publishing registers a RAW template on KVM, its default hypervisor: Publish takes the
	// request and goes on to ask the cloud (a transport that fails), while VMware is refused before.
	if f, err := cloudstack.ParseFormat("raw"); err != nil || f != "RAW" || cloudstack.DefaultHypervisor(f) != "KVM" {
		t.Errorf("ParseFormat(raw) = %q, %v; default hypervisor %q", f, err, cloudstack.DefaultHypervisor(f))
	}
	asked := false
	publisher, err := cloudstack.NewPublisher("https://cloud.example/client/api", "api-key", "secret-key",
		cloudstack.WithTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
			asked = true
			return nil, errors.New("no cloud in this test")
		})))
	if err != nil {
		t.Fatal(err)
	}
	req := cloudstack.Request{Name: "fedora-41-kvm", URL: "https://downloads.example/fedora-41.raw", Format: "RAW",
		Hypervisor: "KVM", OSType: "Fedora Linux (64 bit)", Zone: "zone1", Checksum: CloudStackChecksum(abcSHA512)}
	if _, err := publisher.Publish(context.Background(), req); errors.Is(err, cloudstack.ErrInvalidRequest) || !asked {
		t.Errorf("Publish of a RAW template on KVM: %v (asked the cloud: %t)", err, asked)
	}
	asked, req.Hypervisor = false, "VMware"
	if _, err := publisher.Publish(context.Background(), req); !errors.Is(err, cloudstack.ErrInvalidRequest) || !strings.Contains(err.Error(), "cannot run a RAW") || asked {
		t.Errorf("Publish of a RAW template on VMware: %v (asked the cloud: %t), want it refused", err, asked)
	}

	// Restored, the registry no longer knows raw, and neither does the schema.
	osdefs.Formats = registry
	if err := ValidateMetadata(doc); err == nil || !strings.Contains(err.Error(), "does not match the schema") {
		t.Errorf("metadata with a raw artifact, raw removed from the registry: %v, want a schema error", err)
	}
}
