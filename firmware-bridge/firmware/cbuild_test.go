package firmware

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// warnFlags are the flags the firmware must build with, as in the Makefile.
var warnFlags = []string{"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"}

// buildDir holds the binaries the tests compile; TestMain removes it.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fwbuild-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sources lists the C files matching the Makefile's patterns.
func sources(t *testing.T, patterns ...string) []string {
	t.Helper()
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil || len(m) == 0 {
			t.Fatalf("no C sources match %s", p)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

// gcc returns gcc's path. A missing gcc fails the test rather than skipping
// it: `make test` installs gcc, so its absence is a broken setup, not a
// reason to leave the C firmware unchecked.
func gcc(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc not found: the C firmware cannot be compiled (make test installs it: deploy/install-deps.sh): %v", err)
	}
	return path
}

// builds caches one compilation per output name for the test binary's life.
var builds sync.Map // name -> *buildResult

type buildResult struct {
	once sync.Once
	path string
	out  string
	err  error
}

// compile builds the sources into buildDir/name with the warning flags and
// extra, once, and returns the binary's path.
func compile(t *testing.T, name string, extra []string, patterns ...string) string {
	t.Helper()
	cc := gcc(t)
	v, _ := builds.LoadOrStore(name, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() {
		r.path = filepath.Join(buildDir, name)
		args := append(append(append([]string{}, warnFlags...), extra...), "-Isrc", "-o", r.path)
		args = append(args, sources(t, patterns...)...)
		out, err := exec.Command(cc, args...).CombinedOutput()
		r.out, r.err = string(out), err
	})
	if r.err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(warnFlags, " "), r.err, r.out)
	}
	return r.path
}

// boardBinary is the Linux port of the firmware.
func boardBinary(t *testing.T) string {
	return compile(t, "fwboard", []string{"-O2"}, "src/mp_*.c", "src/fw*.c", "ports/linux/*.c")
}

// unitTestBinary is the C unit tests.
func unitTestBinary(t *testing.T) string {
	return compile(t, "fwtest", []string{"-O2"}, "src/mp_*.c", "src/fw*.c", "test/*.c")
}
