//go:build !unix

package testenc

import (
	"fmt"
	"runtime"
)

// lock is not available here.
func lock(string) (func(), error) {
	return nil, fmt.Errorf("testenc: file locks are not supported on %s", runtime.GOOS)
}
