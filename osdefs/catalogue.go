package osdefs

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// Entry is the machine-readable description of one OS, as `list --format json` prints it.
type Entry struct {
	ID               string   `json:"id"`
	Aliases          []string `json:"aliases"`
	Name             string   `json:"name"`
	Version          string   `json:"version"`
	Family           string   `json:"family"`
	ISOURL           string   `json:"isoUrl"`
	ChecksumURL      string   `json:"checksumUrl"`
	Verification     string   `json:"verification"`
	Formats          []Format `json:"formats"`
	CloudStackOSType string   `json:"cloudstackOsType"`
	// Fixture is true for the offline testbed and its variants, which need a local mirror (CI matrices skip them).
	Fixture bool `json:"fixture"`
}

// Entries describes every OS in the catalogue.
func Entries() []Entry {
	var out []Entry
	for _, d := range All() {
		aliases := d.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		out = append(out, Entry{
			ID: d.ID, Aliases: aliases, Name: d.Name, Version: d.Version, Family: d.Family,
			ISOURL: d.Source.URL, ChecksumURL: d.Source.ChecksumURL, Verification: d.Verification(),
			Formats: d.OutputFormats(), CloudStackOSType: d.CloudStackOSType, Fixture: d.Fixture,
		})
	}
	return out
}

// Verification says in a few words how the installer is authenticated.
func (d Definition) Verification() string {
	switch d.Source.Signing {
	case SigningClearsigned:
		return d.Source.Algorithm + ", clearsigned checksum file (" + d.Source.SigningKey + ")"
	case SigningDetached:
		return d.Source.Algorithm + ", detached signature (" + d.Source.SigningKey + ")"
	case SigningSigstore:
		return d.Source.Algorithm + ", Sigstore bundle by " + d.Source.SigstoreIdentity + " (" + d.Source.SigningKey + ")"
	}
	if d.Source.PinnedDigest != "" {
		return d.Source.Algorithm + ", unsigned by the vendor: digest pinned in the catalogue"
	}
	return d.Source.Algorithm + ", unsigned (local fixture)"
}

// CatalogueJSON is Entries as indented JSON.
func CatalogueJSON() (string, error) {
	b, err := json.MarshalIndent(Entries(), "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// CatalogueTable is Entries as a table for people.
func CatalogueTable() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "OS\tALIASES\tNAME\tFORMATS\tVERIFIED BY")
	for _, e := range Entries() {
		var formats []string
		for _, f := range e.Formats {
			formats = append(formats, string(f))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.ID, strings.Join(e.Aliases, ","), e.Name, strings.Join(formats, ","), e.Verification)
	}
	_ = w.Flush()
	return b.String()
}
