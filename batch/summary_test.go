package batch

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

func TestSummary(t *testing.T) {
	out := Summary([]Outcome{
		{OS: "testbed", Duration: 61500 * time.Millisecond, Artifacts: []string{"a", "b"}},
		{OS: "fedora", Duration: 3 * time.Second, Err: errors.New("checksum file for fedora: GET http://x/CHECKSUM: HTTP 404 Not Found\nmore")},
	})
	testcheck.ContainsAll(t, "summary", out,
		"OS       RESULT  TIME  DETAIL",
		"testbed  ok      1m2s  2 artifacts",
		"fedora   FAILED  3s    checksum file for fedora: GET http://x/CHECKSUM: HTTP 404 Not Found",
		"1 built, 1 failed",
	)
	if strings.Contains(out, "more") {
		t.Errorf("summary shows more than the first error line:\n%s", out)
	}
}
