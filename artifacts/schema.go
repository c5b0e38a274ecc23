package artifacts

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/metadata.schema.json
var metadataSchemaJSON []byte

const metadataSchemaURL = "https://github.com/cloudstack-templates/cloudstack-templates/blob/main/artifacts/schema/metadata.schema.json"

// registryEnum is an enum of the metadata schema that the format registry (osdefs.Formats) fills.
type registryEnum struct {
	// path leads from the schema's root to the "enum" array.
	path []string
	// values are the registry's, in its order.
	values func() []string
}

var registryEnums = []registryEnum{
	{[]string{"properties", "artifacts", "items", "properties", "format", "enum"}, func() []string {
		var out []string
		for _, s := range osdefs.Formats {
			out = append(out, string(s.Format))
		}
		return out
	}},
	{[]string{"properties", "cloudStack", "items", "properties", "format", "enum"}, func() []string {
		var out []string
		for _, s := range osdefs.Formats {
			out = append(out, s.CloudStackFormat)
		}
		return out
	}},
	{[]string{"properties", "cloudStack", "items", "properties", "hypervisor", "enum"}, func() []string {
		var out []string
		seen := map[string]bool{}
		for _, s := range osdefs.Formats {
			for _, h := range s.Hypervisors() {
				if !seen[h] {
					seen[h] = true
					out = append(out, h)
				}
			}
		}
		return out
	}},
}

// registryEnumValues is what the registry puts in each of registryEnums now.
func registryEnumValues() [][]string {
	out := make([][]string, len(registryEnums))
	for i, e := range registryEnums {
		out[i] = e.values()
	}
	return out
}

// withRegistryEnums returns the schema document doc with each of registryEnums replaced by values (one
// list each), written as the schema file writes them (["a", "b"]); every other byte is doc's.
func withRegistryEnums(doc []byte, values [][]string) ([]byte, error) {
	type span struct {
		start, end int
		text       string
	}
	var spans []span
	for i, e := range registryEnums {
		start, end, err := jsonValueSpan(doc, e.path)
		if err != nil {
			return nil, fmt.Errorf("metadata schema: %s: %w", strings.Join(e.path, "."), err)
		}
		quoted := make([]string, len(values[i]))
		for j, v := range values[i] {
			b, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			quoted[j] = string(b)
		}
		spans = append(spans, span{start, end, "[" + strings.Join(quoted, ", ") + "]"})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var out []byte
	at := 0
	for _, s := range spans {
		out = append(append(out, doc[at:s.start]...), s.text...)
		at = s.end
	}
	return append(out, doc[at:]...), nil
}

// jsonValueSpan finds doc[start:end], the bytes of the value at path (object keys from the root).
func jsonValueSpan(doc []byte, path []string) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	for _, want := range path {
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return 0, 0, fmt.Errorf("no object holds %q", want)
		}
		for {
			if !dec.More() {
				return 0, 0, fmt.Errorf("no key %q", want)
			}
			key, err := dec.Token()
			if err != nil {
				return 0, 0, err
			}
			if key == want {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, 0, err
			}
		}
	}
	var value json.RawMessage
	if err := dec.Decode(&value); err != nil {
		return 0, 0, err
	}
	end = int(dec.InputOffset())
	return end - len(value), end, nil
}

// MetadataSchema returns the JSON Schema (draft 2020-12) of the metadata document that
// ValidateMetadata applies: the embedded schema/metadata.schema.json with its format, CloudStack
// format and hypervisor enums taken from the format registry (osdefs.Formats) as it is now. It panics
// only if the embedded file lost one of those enums, which the package's tests rule out.
func MetadataSchema() []byte {
	doc, err := withRegistryEnums(metadataSchemaJSON, registryEnumValues())
	if err != nil {
		panic(err)
	}
	return doc
}

// schemas holds the compiled schema for each registry content seen (keyed by registryEnumValues as
// JSON): compiled once per registry, not once per process, so a format added to the registry is
// valid metadata at once.
var schemas struct {
	sync.Mutex
	byRegistry map[string]compiled
}

type compiled struct {
	schema *jsonschema.Schema
	err    error
}

func compiledSchema() (*jsonschema.Schema, error) {
	values := registryEnumValues()
	key, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	schemas.Lock()
	defer schemas.Unlock()
	if c, ok := schemas.byRegistry[string(key)]; ok {
		return c.schema, c.err
	}
	var c compiled
	c.schema, c.err = compileSchema(values)
	if schemas.byRegistry == nil {
		schemas.byRegistry = map[string]compiled{}
	}
	schemas.byRegistry[string(key)] = c
	return c.schema, c.err
}

func compileSchema(values [][]string) (*jsonschema.Schema, error) {
	text, err := withRegistryEnums(metadataSchemaJSON, values)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// In 2020-12 "format" is only an annotation unless asserted; we want bad timestamps rejected.
	c.AssertFormat()
	if err := c.AddResource(metadataSchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(metadataSchemaURL)
}
