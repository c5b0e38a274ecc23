package fetch

import "testing"

func TestParseLocation(t *testing.T) {
	cases := []struct {
		raw  string
		want LocationProblem
	}{
		{"http://mirror.example:8080/isos", PlainLocation},
		{"https://mirror.example/", PlainLocation},
		{"ftp://mirror.example/isos", NotHTTP},
		{"http:///isos", NotHTTP},
		{"mirror.example/isos", NotHTTP},
		{"http://%zz", NotHTTP},
		{"https://bucket.example/iso?X-Amz-Signature=abc", HasQuery},
		{"https://mirror.example/isos?", HasQuery},
		{"https://mirror.example/isos#frag", HasQuery},
		{"https://user:pass@mirror.example/isos", HasCredentials},
		{"https://user@mirror.example/isos", HasCredentials},
	}
	for _, tc := range cases {
		if _, got := ParseLocation(tc.raw); got != tc.want {
			t.Errorf("ParseLocation(%q) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}
