// Package onnxrt finds the ONNX Runtime shared library and initialises ONNX
// Runtime through github.com/yalue/onnxruntime_go.
//
// onnxruntime_go keeps one process-wide ONNX Runtime environment (and the
// loaded library) in package-level variables. This package owns that
// environment: call Init (or InitLibrary) before creating any session,
// tensor or session options, and never call onnxruntime_go's
// InitializeEnvironment or DestroyEnvironment directly. The environment lives
// until the process exits; there is deliberately no way to destroy it here,
// since sessions elsewhere in the process may still use it.
//
// onnxruntime_go is a cgo package: building needs CGO_ENABLED=1 and a C
// compiler (gcc), but no ONNX Runtime headers or library at build time; the
// library is loaded with dlopen at run time.
package onnxrt

import (
	"fmt"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// env mirrors the state of onnxruntime_go's global environment. It is the only
// package-level state, and exists because onnxruntime_go's environment is
// global and may be initialised only once.
var env struct {
	mu      sync.Mutex
	done    bool
	library string // path passed to onnxruntime_go; "" if unknown
}

// Init loads the ONNX Runtime shared library found by LibraryPath and creates
// onnxruntime_go's global environment. It is safe to call many times and from
// several goroutines: the first successful call does the work, later calls
// return nil at once. A failed call leaves nothing initialised, so it may be
// retried (for example after setting MOCOEDGE_ORT_LIB). When the library
// cannot be found the error wraps ErrLibraryNotFound and says how to fix it.
func Init() error {
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.done {
		return nil
	}
	path, err := LibraryPath()
	if err != nil {
		return fmt.Errorf("onnxrt: %w", err)
	}
	return initLocked(path)
}

// InitLibrary is Init with an explicit library path (for example one read
// from a configuration file), bypassing LibraryPath; a relative path is taken
// relative to the working directory. It returns an error if
// the environment was already initialised with a different library, since
// one process can hold only one ONNX Runtime environment.
func InitLibrary(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("onnxrt: library path %q: %w", path, err)
	}
	path = abs
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.done {
		if env.library != "" && env.library != path {
			return fmt.Errorf("onnxrt: ONNX Runtime is already initialised with %s; cannot switch to %s in the same process",
				env.library, path)
		}
		return nil
	}
	if !isFile(path) {
		return fmt.Errorf("onnxrt: %w: %s does not exist or is not a file; fix: %s",
			ErrLibraryNotFound, path, FixHint)
	}
	return initLocked(path)
}

// initLocked initialises onnxruntime_go with the library at path; env.mu must
// be held.
func initLocked(path string) error {
	if ort.IsInitialized() {
		// Someone called onnxruntime_go directly; adopt its environment.
		env.done = true
		return nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("onnxrt: initialising ONNX Runtime from %s: %w", path, err)
	}
	env.done = true
	env.library = path
	return nil
}

// Version returns the version of the loaded ONNX Runtime library, such as
// "1.24.1", or "" before a successful Init.
func Version() string {
	env.mu.Lock()
	defer env.mu.Unlock()
	if !env.done {
		return ""
	}
	return ort.GetVersion()
}

// Library returns the path of the ONNX Runtime library that Init loaded, or
// "" before a successful Init (or when the environment was created outside
// this package).
func Library() string {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.library
}
