package provenance

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func sum(c byte) string { return strings.Repeat(string(c), 64) }

func testStatement(t *testing.T) Statement {
	t.Helper()
	st, err := New(Input{
		OS: "testbed", Template: "testbed-12-x86_64", SourceCommit: strings.Repeat("0", 40),
		Started: time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 28, 20, 10, 0, 0, time.UTC),
		Parameters: map[string]any{"formats": []string{"qcow2"}},
		Tools:      map[string]string{"packer": "1.9.4"},
		Materials: []Material{
			{Name: "installer:testbed-bookworm.qcow2", URI: "http://mirror/testbed-bookworm.qcow2", Digest: DigestSet{"sha256": sum('a')}},
			{Name: "guest:cloudstack.sh", Digest: DigestSet{"sha256": sum('b')}},
		},
		Files: map[string]string{"t.qcow2": sum('c'), "metadata.json": sum('d'), "logs/packer.log": sum('e')},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRoundTrip(t *testing.T) {
	st := testStatement(t)
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Subject) != 3 || back.Subject[0].Name != "logs/packer.log" || back.Predicate.BuildDefinition.ResolvedDependencies[0].Name != "guest:cloudstack.sh" {
		t.Fatalf("subjects or materials not sorted: %+v", back)
	}
	for _, bad := range []string{`{}`, `{"_type":"https://in-toto.io/Statement/v0.1"}`, `not json`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%s) accepted", bad)
		}
	}
}

func TestVerify(t *testing.T) {
	st := testStatement(t)
	good := map[string]string{"t.qcow2": sum('c'), "metadata.json": sum('d'), "logs/packer.log": sum('e')}
	tests := []struct {
		name     string
		edit     func(map[string]string)
		expected map[string]string
		want     []string
	}{
		{"untouched", func(map[string]string) {}, map[string]string{"guest:cloudstack.sh": sum('b')}, nil},
		{"changed artifact", func(f map[string]string) { f["t.qcow2"] = sum('f') }, nil, []string{"changed: t.qcow2 has sha256 " + sum('f')}},
		{"added file", func(f map[string]string) { f["extra.sh"] = sum('1') }, nil, []string{"added: extra.sh is not in the provenance"}},
		{"missing file", func(f map[string]string) { delete(f, "metadata.json") }, nil, []string{"missing: metadata.json"}},
		{"input not the catalogue's", func(map[string]string) {}, map[string]string{"guest:cloudstack.sh": sum('9')},
			[]string{"input: guest:cloudstack.sh was " + sum('b') + " in this build, but this module's catalogue has " + sum('9')}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range good {
				files[k] = v
			}
			tt.edit(files)
			err := Verify(st, files, tt.expected)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("verified")
			}
			testcheck.ContainsAll(t, "error", err.Error(), tt.want...)
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"no files", nil},
		{"escaping name", map[string]string{"../x": sum('a')}},
		{"absolute name", map[string]string{"/etc/x": sum('a')}},
		{"itself", map[string]string{FileName: sum('a')}},
		{"not a digest", map[string]string{"x": "abc"}},
	}
	for _, tt := range tests {
		if _, err := New(Input{OS: "testbed", Files: tt.files}); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestParseSums(t *testing.T) {
	got, err := ParseSums(sum('a') + "  ./t.qcow2\n" + sum('b') + "  ./logs/packer.log\n")
	if err != nil || got["t.qcow2"] != sum('a') || got["logs/packer.log"] != sum('b') {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := ParseSums("xyz  ./t\n"); err == nil {
		t.Fatal("a bad line parsed")
	}
}
