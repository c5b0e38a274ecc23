package checksum

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/checksum/checksumtest"
	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// The SHA-256 and SHA-512 of "abc" (FIPS 180-2 test vectors), for the writer's coreutils check.
const (
	abcSHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	abcSHA512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
)

func TestAlgorithms(t *testing.T) {
	if got := Algorithms(); !reflect.DeepEqual(got, []string{"sha256", "sha512"}) {
		t.Fatalf("Algorithms() = %v", got)
	}
}

func TestIsLowerHex(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want bool
	}{
		{abcSHA256, SHA256HexLen, true},
		{abcSHA512, SHA512HexLen, true},
		{abcSHA256, SHA512HexLen, false},
		{strings.ToUpper(abcSHA256), SHA256HexLen, false},
		{strings.Repeat("g", 64), SHA256HexLen, false},
		{"", 0, true},
		{"0a", 3, false},
	}
	for _, tc := range tests {
		if got := IsLowerHex(tc.s, tc.n); got != tc.want {
			t.Errorf("IsLowerHex(%q, %d) = %v", tc.s, tc.n, got)
		}
	}
}

// TestParseLine pins the one grammar: what is an entry, and what each part of it is.
func TestParseLine(t *testing.T) {
	h := checksumtest.Synth256("p")
	tests := []struct {
		name, line string
		want       Entry
		ok         bool
	}{
		{"gnu text mode", h + "  a.iso", Entry{7, h + "  a.iso", "", "a.iso", h}, true},
		{"gnu binary mode", h + " *a.iso", Entry{7, h + " *a.iso", "", "a.iso", h}, true},
		{"gnu one space", h + " a.iso", Entry{7, h + " a.iso", "", "a.iso", h}, true},
		{"gnu ./ prefix", h + "  ./a.iso", Entry{7, h + "  ./a.iso", "", "a.iso", h}, true},
		{"gnu crlf and surrounding space", " " + h + "  a.iso \r\n", Entry{7, h + "  a.iso", "", "a.iso", h}, true},
		{"gnu digest as written", strings.ToUpper(h) + "  a.iso", Entry{7, strings.ToUpper(h) + "  a.iso", "", "a.iso", strings.ToUpper(h)}, true},
		{"bsd", "SHA256 (a.iso) = " + h, Entry{7, "SHA256 (a.iso) = " + h, "SHA256", "a.iso", h}, true},
		{"bsd lower-case tag", "sha256 (./a.iso) = " + h, Entry{7, "sha256 (./a.iso) = " + h, "SHA256", "a.iso", h}, true},
		{"bsd unknown tag is an entry", "BLAKE3 (a.iso) = zz", Entry{7, "BLAKE3 (a.iso) = zz", "BLAKE3", "a.iso", "zz"}, true},
		{"bsd openssl layout", "SHA256(a.ovf)= " + h, Entry{7, "SHA256(a.ovf)= " + h, "SHA256", "a.ovf", h}, true},
		{"blank", "  \r\n", Entry{}, false},
		{"comment", "# a.iso: 12 bytes", Entry{}, false},
		{"gnu without name", h, Entry{}, false},
		{"html", "<html>404 Not Found</html>", Entry{}, false},
		{"pgp armour", "-----BEGIN PGP SIGNATURE-----", Entry{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseLine(7, tc.line)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("ParseLine(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	h := checksumtest.Synth256("h")
	h512 := checksumtest.Synth512("h")
	tests := []struct {
		name      string
		data      string
		algorithm string
		file      string
		want      string
		wantErr   string
	}{
		{"gnu two spaces", h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"gnu binary marker", h + " *a.iso\n", "sha256", "a.iso", h, ""},
		{"gnu upper-case hex", strings.ToUpper(h) + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"gnu ./ prefix", h + "  ./a.iso\n", "sha256", "a.iso", h, ""},
		{"bsd", "SHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"bsd crlf", "SHA256 (a.iso) = " + h + "\r\nSHA256 (b.iso) = " + checksumtest.Synth256("b") + "\r\n", "sha256", "a.iso", h, ""},
		{"gnu crlf", h + " *a.iso\r\n", "sha256", "a.iso", h, ""},
		{"no trailing newline", "SHA256 (a.iso) = " + h, "sha256", "a.iso", h, ""},
		{"mixed file picks sha256", "SHA512 (a.iso) = " + h512 + "\nSHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"mixed file picks sha512", "SHA256 (a.iso) = " + h + "\nSHA512 (a.iso) = " + h512 + "\n", "sha512", "a.iso", h512, ""},
		{"mixed gnu lengths", h512 + "  a.iso\n" + h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"same digest twice", h + "  a.iso\nSHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"other files' odd lines are not read", "SHA256 (b.iso) = short\n" + h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"missing entry", "SHA256 (b.iso) = " + h + "\n", "sha256", "a.iso", "", `no sha256 entry for "a.iso" (it lists b.iso)`},
		{"only other algorithm", "SHA512 (a.iso) = " + h512 + "\n", "sha256", "a.iso", "", "listed only with other digests (SHA512), none of them sha256"},
		{"bad algorithm", h + "  a.iso\n", "md5", "a.iso", "", `unsupported checksum algorithm "md5": use sha256 or sha512`},
		// A malformed or contradictory entry for the requested file is an error that quotes it.
		{"two different digests", h + "  a.iso\n" + checksumtest.Synth256("other") + "  a.iso\n", "sha256", "a.iso", "",
			`two different sha256 digests for the same file: line 1 "` + h + `  a.iso" and line 2 "` + checksumtest.Synth256("other") + `  a.iso"`},
		{"two different digests, bsd and gnu", "SHA256 (a.iso) = " + h + "\n" + checksumtest.Synth256("x") + " *a.iso\n", "sha256", "a.iso", "", "two different sha256 digests"},
		{"bsd digest too short", "SHA256 (a.iso) = " + h[:63] + "\n", "sha256", "a.iso", "",
			`line 1 "SHA256 (a.iso) = ` + h[:63] + `": a sha256 digest has 64 hex characters, this one 63`},
		{"gnu digest of no known length", h + "0  a.iso\n", "sha256", "a.iso", "", "a sha256 digest has 64 hex characters, this one 65"},
		{"bsd digest not hex", "SHA256 (a.iso) = " + strings.Repeat("z", 64) + "\n", "sha256", "a.iso", "", "the sha256 digest is not hexadecimal"},
		{"unknown algorithm tag", "BLAKE3 (a.iso) = " + h + "\n", "sha256", "a.iso", "", `line 1 "BLAKE3 (a.iso) = ` + h + `": unknown checksum algorithm "BLAKE3"`},
		{"md5 beside sha256 is another algorithm", "MD5 (a.iso) = " + h[:32] + "\n" + "SHA256 (a.iso) = " + h + "\n", "sha256", "a.iso", h, ""},
		{"gnu md5 length beside sha256", h[:32] + "  a.iso\n" + h + "  a.iso\n", "sha256", "a.iso", h, ""},
		{"garbage", "<html>404 Not Found</html>\n", "sha256", "a.iso", "", "no sha256 entries found in checksum file"},
		{"empty", "", "sha256", "a.iso", "", "no sha256 entries found in checksum file"},
		// Vendor layouts.
		{"ubuntu SHA256SUMS", checksumtest.UbuntuSHA256SUMS, "sha256", checksumtest.UbuntuServerISO, checksumtest.Synth256("server"), ""},
		{"alma CHECKSUM", checksumtest.AlmaCHECKSUM, "sha256", checksumtest.AlmaDVDISO, checksumtest.Alma91DVDSHA256, ""},
		{"fedora CHECKSUM", checksumtest.FedoraCHECKSUM, "sha256", checksumtest.FedoraServerDVD, checksumtest.Fedora41DVDSHA256, ""},
		{"rocky CHECKSUM", checksumtest.RockyCHECKSUM, "sha256", checksumtest.RockyMinimalISO, checksumtest.Rocky96MinimalSHA256, ""},
		{"centos stream SHA256SUM", checksumtest.CentosSHA256SUM, "sha256", checksumtest.CentosStreamBootISO, checksumtest.Centos9BootSHA256, ""},
		{"fedora size comment is not an entry", checksumtest.FedoraCHECKSUM, "sha256", checksumtest.FedoraServerDVD + ": 2612854784 bytes", "", "no sha256 entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Lookup([]byte(tc.data), tc.algorithm, tc.file)
			testcheck.Result(t, "Lookup", got, err, tc.want, tc.wantErr)
		})
	}
}

func TestNormalize(t *testing.T) {
	h := checksumtest.Synth256("n")
	tests := []struct {
		name, algorithm, in, want string
		errPart                   string // "" = the input is valid
	}{
		{"plain", "sha256", h, h, ""},
		{"prefixed upper", "sha256", "sha256:" + strings.ToUpper(h), h, ""},
		{"short", "sha256", h[:60], "", "must be 64 hex characters, got 60"},
		{"not hex", "sha256", strings.Repeat("z", 64), "", "not hexadecimal"},
		{"sha512 length", "sha512", checksumtest.Synth512("n"), checksumtest.Synth512("n"), ""},
		// An algorithm the pipeline does not verify with is named as such, not measured against a
		// length of 0.
		{"unknown algorithm", "sha1", h[:40], "", `unsupported checksum algorithm "sha1": use sha256 or sha512`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.algorithm, tc.in)
			testcheck.Err(t, err, tc.errPart)
			if got != tc.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		hex, name, want, err string
	}{
		{abcSHA256, "a.qcow2", abcSHA256 + "  a.qcow2\n", ""},
		{abcSHA512, "a.ova", abcSHA512 + "  a.ova\n", ""},
		{strings.ToUpper(abcSHA256), "a", "", "lower-case"},
		{abcSHA256[:63], "a", "", "lower-case"},
		{abcSHA256, "dir/a", "", "plain base name"},
		{abcSHA256, "a\nb", "", "plain base name"},
		{abcSHA256, "", "", "empty"},
		// Names the grammar would read back as another name.
		{abcSHA256, "*a", "", "would not read back"},
		{abcSHA256, " a", "", "would not read back"},
		{abcSHA256, "a ", "", "would not read back"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
			got, err := Line(tc.hex, tc.name)
			testcheck.Err(t, err, tc.err)
			if got != tc.want {
				t.Errorf("Line(%q, %q) = %q, want %q", tc.hex, tc.name, got, tc.want)
			}
		})
	}
}

// TestLineVerifiesWithCoreutils proves the text really is what sha256sum/sha512sum -c read.
func TestLineVerifiesWithCoreutils(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "img.qcow2"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	for tool, hex := range map[string]string{"sha256sum": abcSHA256, "sha512sum": abcSHA512} {
		line, err := Line(hex, "img.qcow2")
		if err != nil {
			t.Fatal(err)
		}
		sumFile := filepath.Join(dir, "img.qcow2."+tool)
		if err := os.WriteFile(sumFile, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "--strict", "-c", filepath.Base(sumFile))
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s -c: %v\n%s", tool, err, out)
		}
	}
}

// TestLineReadsBack: every line the writer accepts, the strict reader returns unchanged.
func TestLineReadsBack(t *testing.T) {
	for _, name := range []string{"a.qcow2", "debian-12 (copy).ova", "x*y", "#a"} {
		line, err := Line(abcSHA512, name)
		if err != nil {
			t.Fatalf("Line(%q): %v", name, err)
		}
		got, err := ParseStrict(line)
		if err != nil || len(got) != 1 || got[0].Name != name || got[0].Digest != abcSHA512 {
			t.Fatalf("ParseStrict(Line(%q)) = %+v, %v", name, got, err)
		}
	}
}

func TestParseStrict(t *testing.T) {
	text := abcSHA256 + "  a.qcow2\n\n" + strings.ToUpper(abcSHA512) + " *b.ova\r\n" + abcSHA256 + "  ./logs/packer.log\n"
	got, err := ParseStrict(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{1, abcSHA256 + "  a.qcow2", "", "a.qcow2", abcSHA256},
		{3, strings.ToUpper(abcSHA512) + " *b.ova", "", "b.ova", abcSHA512},
		{4, abcSHA256 + "  ./logs/packer.log", "", "logs/packer.log", abcSHA256},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseStrictRejects(t *testing.T) {
	tests := []struct {
		name, text, errPart string
	}{
		{"not hex", "nothex  a\n", `checksum line 1: want "<hex>  <name>"`},
		{"one space", abcSHA256 + " a\n", `checksum line 1: want "<hex>  <name>"`},
		{"no name", abcSHA256 + "  \n", `checksum line 1: want "<hex>  <name>"`},
		{"short digest", abcSHA256[:10] + "  a\n", `checksum line 1: "ba7816bf8f" is not a SHA-256 or SHA-512 hex digest`},
		// What Lookup forgives in a vendor file is an error in the project's own text.
		{"bsd line", "SHA256 (a) = " + abcSHA256 + "\n", `checksum line 1: want "<hex>  <name>"`},
		{"comment", "# a: 3 bytes\n", `checksum line 1: want "<hex>  <name>"`},
		{"md5 length", abcSHA256[:32] + "  a\n", "is not a SHA-256 or SHA-512 hex digest"},
		{"leading space", " " + abcSHA256 + "  a\n", `checksum line 1: want "<hex>  <name>"`},
		{"trailing space", abcSHA256 + "  a \n", `checksum line 1: want "<hex>  <name>"`},
		{"three spaces", abcSHA256 + "   a\n", `checksum line 1: want "<hex>  <name>"`},
		{"binary marker without name", abcSHA256 + " *\n", `checksum line 1: want "<hex>  <name>"`},
		{"only ./", abcSHA256 + "  ./\n", "checksum line 1: no file name"},
		{"error names the line", abcSHA256 + "  a\n\n" + abcSHA256 + "  b\ngarbage\n", "checksum line 4:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStrict(tc.text)
			testcheck.Refused(t, err, tc.errPart)
		})
	}
}
