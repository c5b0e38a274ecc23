package osdefs_test

import (
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify"
	"github.com/cloudstack-templates/cloudstack-templates/toolrelease/sigstoreverify/sigstoretest"
)

// SignedChecksumsWith hands a SigningSigstore source's checksum file and bundle to the verifier (the
// real one, over a virtual Sigstore instance's signature) and returns the file only when it verifies.
func TestSignedChecksumsSigstore(t *testing.T) {
	ss := sigstoretest.New(t)
	const id, iss = "https://ci.example/release@refs/tags/v1.0.0", "https://ci.example"
	sums := []byte(strings.Repeat("cd", 32) + "  tool_1.0.0_linux.tar.gz\n")
	src := osdefs.Source{Signing: osdefs.SigningSigstore, SigstoreIdentity: id, SigstoreIssuer: iss, TrustedRootJSON: ss.TrustedRootJSON(t, false)}
	tests := []struct {
		name    string
		data    []byte
		bundle  []byte
		wantErr string
	}{
		{"signed file", sums, ss.Bundle(t, id, iss, sums), ""},
		{"another file", append([]byte("0"), sums[1:]...), ss.Bundle(t, id, iss, sums), "failed to verify signature"},
		{"another signer", sums, ss.Bundle(t, "https://ci.example/other", iss, sums), "failed to verify certificate identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := osdefs.SignedChecksumsWith(src, tt.data, tt.bundle, sigstoreverify.Verify)
			osdefs.CheckSignedBytes(t, got, err, tt.data, tt.wantErr)
		})
	}
}
