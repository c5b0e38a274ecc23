//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package fetch

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked by another open file")

// tryLock cannot tell a live partial file from a stale one here, so none is ever removed.
func tryLock(f *os.File) error { return errors.ErrUnsupported }
