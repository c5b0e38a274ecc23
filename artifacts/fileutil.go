package artifacts

import (
	"errors"
	"io/fs"
	"os"
)

// readFileIfExists returns nil, nil when path does not exist, so optional files need no Stat race.
func readFileIfExists(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
