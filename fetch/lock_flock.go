//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fetch

import (
	"errors"
	"os"
	"syscall"
)

var errLocked = errors.New("locked by another open file")

// tryLock takes an exclusive advisory lock on f without waiting; errLocked says someone holds it.
// flock locks belong to the open file, so another open of the same file conflicts even in this
// process, and the lock goes away with the writer, however it dies.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
