package main

import (
	"errors"
	"strings"

	"dagger/cloudstack-templates/internal/dagger"
)

// execMessage turns a failed exec into the text a user needs: the command's own error output
// (our scripts put the evidence there), not the engine's wrapping of it.
func execMessage(err error) string {
	var ee *dagger.ExecError
	if errors.As(err, &ee) {
		msg := strings.TrimSpace(ee.Stderr)
		if msg == "" {
			msg = strings.TrimSpace(ee.Stdout)
		}
		if msg != "" {
			return tailLines(msg, 60)
		}
	}
	return err.Error()
}

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
