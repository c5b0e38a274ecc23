package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "https://mirror.example/isos/a.iso", "https://mirror.example/isos/a.iso"},
		{"userinfo", "https://user:pass@mirror.example/isos/a.iso", "https://REDACTED@mirror.example/isos/a.iso"},
		{"user only", "http://token@mirror.example:8080/a.iso", "http://REDACTED@mirror.example:8080/a.iso"},
		{"signed query", "https://bucket.s3.example/a.iso?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc", "https://bucket.s3.example/a.iso?REDACTED"},
		{"query and fragment", "https://h/a.iso?sig=abc#part", "https://h/a.iso?REDACTED#part"},
		{"both", "https://u:p@h/a.iso?token=abc", "https://REDACTED@h/a.iso?REDACTED"},
		{"not a URL", "no url here", "no url here"},
		{"unparsable with userinfo", "http://u:p@h:port/x", "http://REDACTED@h:port/x"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Fatalf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"url in a sentence", `GET https://u:s3cret@h/a.iso: HTTP 404.`, nil, `GET https://REDACTED@h/a.iso: HTTP 404.`},
		{"quoted url", `Get "https://h/a.iso?X-Amz-Signature=zz": dial tcp`, nil, `Get "https://h/a.iso?REDACTED": dial tcp`},
		{"two urls", "a http://x:y@h1/ b https://h2/p?q=1", nil, "a http://REDACTED@h1/ b https://h2/p?REDACTED"},
		{"bare parameters", "command=listTemplates&apiKey=AKEY&signature=SIG", nil, "command=listTemplates&apiKey=REDACTED&signature=REDACTED"},
		{"named secret and its escaped form", "key abc/def+ghi or abc%2Fdef%2Bghi", []string{"abc/def+ghi"}, "key REDACTED or REDACTED"},
		{"empty secret ignored", "nothing", []string{""}, "nothing"},
		{"status text", "Failed post download script: https://u:p@store/t.qcow2 unreachable", nil, "Failed post download script: https://REDACTED@store/t.qcow2 unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in, tc.secrets...); got != tc.want {
				t.Fatalf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Whatever the shape, a planted credential never survives.
func TestPlantedSecretNeverSurvives(t *testing.T) {
	const secret = "PLANTED-s3cr3t"
	for _, in := range []string{
		"https://user:" + secret + "@h/a.iso",
		"https://" + secret + "@h/a.iso",
		"https://h/a.iso?X-Amz-Signature=" + secret,
		"https://h/a.iso?a=1&token=" + secret + "#x",
		"ftp://user:" + secret + "@h/",
		"http://u:" + secret + "@h:bad/x",
	} {
		for _, out := range []string{URL(in), Text("error: " + in + ", retrying")} {
			if strings.Contains(out, secret) {
				t.Errorf("%q kept the secret: %q", in, out)
			}
		}
	}
}

func TestHasCredentials(t *testing.T) {
	for in, want := range map[string]bool{
		"http://mirror:8383/":         false,
		"http://u:p@mirror/":          true,
		"https://h/x?X-Amz-Signature": true,
		"https://h/x?":                true,
		"":                            false,
	} {
		if got := HasCredentials(in); got != want {
			t.Errorf("HasCredentials(%q) = %v, want %v", in, got, want)
		}
	}
}
