package onnxrt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mocoedge/mocoedge/internal/repo"
)

// EnvLibrary is the environment variable that, when set to a non-empty value,
// names the ONNX Runtime shared library to load (for example the JetPack build
// with the TensorRT provider on a Jetson). It overrides every other location.
const EnvLibrary = "MOCOEDGE_ORT_LIB"

// LibraryFileName is the file name of the library that
// deploy/fetch-onnxruntime.sh puts under third_party/onnxruntime/linux-<arch>/.
const LibraryFileName = "libonnxruntime.so.1"

// FixHint says how to make the library available; it ends every
// ErrLibraryNotFound message.
const FixHint = "run deploy/fetch-onnxruntime.sh or set " + EnvLibrary + "=/path/to/libonnxruntime.so"

// ErrLibraryNotFound is returned (wrapped, with the places searched and
// FixHint) when no ONNX Runtime shared library can be found, including when
// EnvLibrary names a file that does not exist. Test for it with errors.Is.
var ErrLibraryNotFound = errors.New("ONNX Runtime shared library not found")

// LibraryPath returns the absolute path of the ONNX Runtime shared library to
// load. It looks, in order, at:
//
//  1. $MOCOEDGE_ORT_LIB when set and non-empty; it must name an existing file,
//     and nothing else is tried when it is set;
//  2. third_party/onnxruntime/linux-<arch>/libonnxruntime.so.1 in the
//     repository root, the directory whose go.mod declares repo.ModulePath, found
//     by walking up from the working directory and then from the directory
//     of the running executable (arch is x64 or arm64);
//  3. libonnxruntime.so* in /usr/local/lib, /usr/lib and their multiarch
//     subdirectories (for example /usr/lib/x86_64-linux-gnu).
//
// When nothing is found the error wraps ErrLibraryNotFound and lists every
// place it looked, followed by FixHint.
func LibraryPath() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		starts = append(starts, filepath.Dir(exe))
	}
	return findLibrary(search{
		env:     os.Getenv(EnvLibrary),
		starts:  starts,
		goos:    runtime.GOOS,
		goarch:  runtime.GOARCH,
		systems: systemGlobs(runtime.GOARCH),
	})
}

// search is the input of findLibrary; LibraryPath fills it from the process
// and tests fill it by hand.
type search struct {
	env     string   // value of EnvLibrary, "" when unset
	starts  []string // directories to walk up from, looking for the repo root
	goos    string
	goarch  string
	systems []string // glob patterns of system-wide installs, in order
}

func findLibrary(s search) (string, error) {
	if s.env != "" {
		return checkEnvLibrary(s.env)
	}

	var looked []string
	looked = append(looked, "$"+EnvLibrary+" (unset)")

	sub, subErr := bundledSubdir(s.goos, s.goarch)
	seen := map[string]bool{}
	for _, start := range s.starts {
		root, err := repo.Root(start)
		if err != nil {
			looked = append(looked, fmt.Sprintf("the repository root above %s (%v)", start, err))
			continue
		}
		if seen[root] {
			continue
		}
		seen[root] = true
		if subErr != nil {
			looked = append(looked, fmt.Sprintf("%s/third_party/onnxruntime (%v)", root, subErr))
			continue
		}
		candidate := filepath.Join(root, "third_party", "onnxruntime", sub, LibraryFileName)
		if isFile(candidate) {
			return candidate, nil
		}
		looked = append(looked, candidate)
	}

	for _, pattern := range s.systems {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return "", fmt.Errorf("onnxrt: bad search pattern %q: %w", pattern, err)
		}
		// Glob sorts, so libonnxruntime.so comes before .so.1 and .so.1.x.y.
		for _, m := range matches {
			if isFile(m) {
				return m, nil
			}
		}
		looked = append(looked, pattern)
	}

	return "", fmt.Errorf("%w; looked at: %s; fix: %s",
		ErrLibraryNotFound, strings.Join(looked, ", "), FixHint)
}

// checkEnvLibrary validates the path given in EnvLibrary and makes it
// absolute, so that dlopen does not search the system for a bare file name.
func checkEnvLibrary(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%w: %s=%q: %w; fix: set %s to an existing libonnxruntime.so, or unset it and run deploy/fetch-onnxruntime.sh",
			ErrLibraryNotFound, EnvLibrary, path, err, EnvLibrary)
	}
	info, err := os.Stat(abs)
	if err == nil && info.IsDir() {
		err = errors.New("is a directory, not the library file")
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s=%q: %w; fix: set %s to an existing libonnxruntime.so, or unset it and run deploy/fetch-onnxruntime.sh",
			ErrLibraryNotFound, EnvLibrary, path, err, EnvLibrary)
	}
	return abs, nil
}

// bundledSubdir names the third_party/onnxruntime subdirectory that
// deploy/fetch-onnxruntime.sh fills for this platform.
func bundledSubdir(goos, goarch string) (string, error) {
	if goos != "linux" {
		return "", fmt.Errorf("no bundled library for GOOS=%s", goos)
	}
	switch goarch {
	case "amd64":
		return "linux-x64", nil
	case "arm64":
		return "linux-arm64", nil
	default:
		return "", fmt.Errorf("no bundled library for GOARCH=%s", goarch)
	}
}

// systemGlobs lists where system-wide installs of ONNX Runtime usually live.
func systemGlobs(goarch string) []string {
	dirs := []string{"/usr/local/lib"}
	triplet := map[string]string{
		"amd64": "x86_64-linux-gnu",
		"arm64": "aarch64-linux-gnu",
	}[goarch]
	if triplet != "" {
		dirs = append(dirs, "/usr/local/lib/"+triplet)
	}
	dirs = append(dirs, "/usr/lib")
	if triplet != "" {
		dirs = append(dirs, "/usr/lib/"+triplet)
	}
	globs := make([]string, len(dirs))
	for i, d := range dirs {
		globs[i] = filepath.Join(d, "libonnxruntime.so*")
	}
	return globs
}

// isFile reports whether path exists (following symbolic links) and is not a
// directory.
func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}
