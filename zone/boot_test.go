package zone

import (
	"os/exec"
	"testing"

	"github.com/cloudstack-templates/cloudstack-templates/internal/testcheck"
)

// The evidence script runs on a host without cloud-init's files, as on a guest whose cloud-init
// never wrote them: every section still prints, with the error in place of what is missing.
func TestCloudInitEvidenceScript(t *testing.T) {
	out, err := exec.Command("sh", "-c", cloudInitEvidenceScript).CombinedOutput()
	if err != nil {
		t.Fatalf("the script failed: %v\n%s", err, out)
	}
	testcheck.ContainsAll(t, "evidence", string(out),
		"--- /run/cloud-init/cloud.cfg", "--- /var/log/cloud-init.log: warnings and errors, last 40",
		"--- journal of this boot: cloudstack-datasource, cloud-init-local, cloud-init, last 30 lines but network tables")
}
