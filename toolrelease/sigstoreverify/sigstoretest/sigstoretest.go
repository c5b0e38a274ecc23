// Package sigstoretest is a Sigstore instance for tests: sigstore-go's VirtualSigstore (a Fulcio CA,
// a Rekor log, a CT log and a timestamp authority, each with a fresh key) whose signatures are
// serialized as the files a release publishes: a bundle (<file>.sigstore.json, media type v0.3, with
// the log's signed promise, an inclusion proof and an RFC 3161 timestamp) and the instance's
// trusted_root.json. Tests verify them with the real verifier; nothing here is used outside tests.
package sigstoretest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/proto"
)

// Sigstore is one virtual Sigstore instance.
type Sigstore struct{ vs *ca.VirtualSigstore }

// New starts an instance with fresh keys.
func New(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return &Sigstore{vs}
}

// TrustedRootJSON is the instance's trusted root in trusted_root.json form. withCT lists its CT log
// too: the leaf certificates the virtual Fulcio issues carry no signed certificate timestamp, so a
// verifier that requires one when the root lists CT logs refuses them under such a root.
func (s *Sigstore) TrustedRootJSON(t testing.TB, withCT bool) []byte {
	t.Helper()
	var ct map[string]*root.TransparencyLog
	if withCT {
		ct = rawLogIDs(t, s.vs.CTLogs())
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.vs.FulcioCertificateAuthorities(), ct,
		s.vs.TimestampingAuthorities(), rawLogIDs(t, s.vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawLogIDs copies the virtual logs with their IDs as the raw key digest a trusted_root.json holds:
// VirtualSigstore keeps the hex string's bytes, which serialize to an ID no log entry names.
func rawLogIDs(t testing.TB, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	out := make(map[string]*root.TransparencyLog, len(logs))
	for hexID, l := range logs {
		id, err := hex.DecodeString(hexID)
		if err != nil {
			t.Fatal(err)
		}
		c := *l
		c.ID = id
		out[hexID] = &c
	}
	return out
}

// Bundle signs artifact as identity (the certificate's subject alternative name) of OIDC issuer and
// returns the Sigstore bundle, JSON, as cosign sign-blob --bundle writes it.
func (s *Sigstore) Bundle(t testing.TB, identity, issuer string, artifact []byte) []byte {
	t.Helper()
	b, err := s.bundle(identity, issuer, artifact)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *Sigstore) bundle(identity, issuer string, artifact []byte) ([]byte, error) {
	e, err := s.vs.Sign(identity, issuer, artifact)
	if err != nil {
		return nil, err
	}
	vc, err := e.VerificationContent()
	if err != nil {
		return nil, err
	}
	sc, err := e.SignatureContent()
	if err != nil {
		return nil, err
	}
	ms := sc.MessageSignatureContent()
	alg, ok := protocommon.HashAlgorithm_value[ms.DigestAlgorithm()]
	if !ok {
		return nil, fmt.Errorf("digest algorithm %q", ms.DigestAlgorithm())
	}
	timestamps, err := e.Timestamps()
	if err != nil {
		return nil, err
	}
	var rfc3161 []*protocommon.RFC3161SignedTimestamp
	for _, ts := range timestamps {
		rfc3161 = append(rfc3161, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	entries, err := e.TlogEntries()
	if err != nil {
		return nil, err
	}
	var tles []*protorekor.TransparencyLogEntry
	for _, entry := range entries {
		tle, err := s.logEntry(entry)
		if err != nil {
			return nil, err
		}
		tles = append(tles, tle)
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{
				Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw},
			},
			TlogEntries:               tles,
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: rfc3161},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm(alg), Digest: ms.Digest()},
			Signature:     ms.Signature(),
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, err
	}
	return b.MarshalJSON()
}

// logEntry completes a virtual Rekor entry as a bundle carries it: its kind and version, the log's
// signed entry timestamp (inclusion promise), and an inclusion proof with a signed checkpoint.
func (s *Sigstore) logEntry(entry *tlog.Entry) (*protorekor.TransparencyLogEntry, error) {
	tle := proto.Clone(entry.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(tle.CanonicalizedBody, &kv); err != nil {
		return nil, err
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion}
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		return nil, err
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	ip, err := s.vs.GetInclusionProof(tle.CanonicalizedBody)
	if err != nil {
		return nil, err
	}
	rootHash, err := hex.DecodeString(*ip.RootHash)
	if err != nil {
		return nil, err
	}
	var hashes [][]byte
	for _, h := range ip.Hashes {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, b)
	}
	tle.InclusionProof = &protorekor.InclusionProof{
		LogIndex: *ip.LogIndex, RootHash: rootHash, TreeSize: *ip.TreeSize, Hashes: hashes,
		Checkpoint: &protorekor.Checkpoint{Envelope: *ip.Checkpoint},
	}
	return tle, nil
}

// TrivyReleaseDir is where a Trivy release's files sit below a mirror's root (as below github.com).
func TrivyReleaseDir(version string) string {
	return "aquasecurity/trivy/releases/download/v" + version + "/"
}

// TrivyRelease lays out one Trivy release as GitHub serves it, path below the mirror's root → bytes:
// trivy_<v>_Linux-64bit.tar.gz holding binary as trivy (with a LICENSE beside it, as Aqua's archive
// has), trivy_<v>_checksums.txt listing it (and another platform's archive), and the bundles of both
// made by s for identity and issuer, as Trivy's release workflow publishes them.
func (s *Sigstore) TrivyRelease(t testing.TB, version, identity, issuer string, binary []byte) map[string][]byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		body []byte
	}{{"LICENSE", []byte("Apache-2.0\n")}, {"trivy", binary}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	archive := b.Bytes()
	sum := sha256.Sum256(archive)
	name := fmt.Sprintf("trivy_%s_Linux-64bit.tar.gz", version)
	sums := []byte(strings.Repeat("0", 64) + fmt.Sprintf("  trivy_%s_Linux-ARM64.tar.gz\n", version) +
		hex.EncodeToString(sum[:]) + "  " + name + "\n")
	dir := TrivyReleaseDir(version)
	sumsName := fmt.Sprintf("trivy_%s_checksums.txt", version)
	return map[string][]byte{
		dir + name:                        archive,
		dir + name + ".sigstore.json":     s.Bundle(t, identity, issuer, archive),
		dir + sumsName:                    sums,
		dir + sumsName + ".sigstore.json": s.Bundle(t, identity, issuer, sums),
	}
}
