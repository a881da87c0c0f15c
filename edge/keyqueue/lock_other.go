//go:build !unix

package keyqueue

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockFileName is the file that marks a folder as a queue's.
const lockFileName = "LOCK"

// lockDir only creates dir/LOCK: without flock, a second process is not
// kept out on this platform (the edge agent runs on Linux).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("keyqueue: open lock file: %w", err)
	}
	return f, nil
}
