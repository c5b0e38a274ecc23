package ci

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/doctor"
	"github.com/cloudstack-templates/cloudstack-templates/osdefs"
)

// docs/ci.md states doctor's estimate for every OS CI builds.
func TestDocsDiskNumbers(t *testing.T) {
	doc := string(readFile(t, "docs/ci.md"))
	for _, d := range osdefs.All() {
		if d.Fixture {
			continue
		}
		need, err := doctor.BuildNeed(d)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%d GiB", need>>30)
		found := false
		for _, line := range strings.Split(doc, "\n") {
			if strings.Contains(line, "`"+d.ID+"`") && strings.Contains(line, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("docs/ci.md has no line naming `%s` with doctor's disk estimate for it (%s)", d.ID, want)
		}
	}
	if !strings.Contains(doc, "14 GB") || !strings.Contains(doc, "CST_RUNNER") {
		t.Error("docs/ci.md does not explain hosted runners' 14 GB or the CST_RUNNER switch")
	}
}
