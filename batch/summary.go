// Package batch reports a batch of builds (build-all): one outcome per OS, the summary table and the
// counts.
package batch

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Outcome is one OS's result in a batch build.
type Outcome struct {
	OS       string
	Duration time.Duration
	// Artifacts lists the files produced (empty on failure).
	Artifacts []string
	Err       error
}

// Summary renders a batch's outcomes as a table, failures included with their first error line.
func Summary(outcomes []Outcome) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "OS\tRESULT\tTIME\tDETAIL")
	for _, o := range outcomes {
		result, detail := "ok", fmt.Sprintf("%d artifacts", len(o.Artifacts))
		if o.Err != nil {
			result, detail = "FAILED", firstLine(o.Err.Error())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.OS, result, o.Duration.Round(time.Second), detail)
	}
	_ = w.Flush()
	ok, failed := Counts(outcomes)
	fmt.Fprintf(&b, "%d built, %d failed\n", ok, failed)
	return b.String()
}

// Counts returns how many outcomes succeeded and failed.
func Counts(outcomes []Outcome) (ok, failed int) {
	for _, o := range outcomes {
		if o.Err != nil {
			failed++
		} else {
			ok++
		}
	}
	return ok, failed
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
