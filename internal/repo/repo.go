// Package repo locates the repository on disk: its root (the folder whose
// go.mod declares this module) and the shared datasets that sit beside it.
// Tools use it for their defaults (the ONNX Runtime library fetched into
// third_party/, the CIFAR-10 images export verifies on), tests to find data.
package repo

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ModulePath is the Go module whose go.mod marks the repository root.
const ModulePath = "github.com/mocoedge/mocoedge"

// EnvCIFAR10 names a folder holding train.tar.gz and test.tar.gz, to use
// instead of ../shared/datasets/cifar10 beside the repository.
const EnvCIFAR10 = "MOCOEDGE_CIFAR10"

// ErrNotFound is wrapped when the root or a dataset cannot be found.
var ErrNotFound = errors.New("not found")

// Root walks up from dir to the first folder whose go.mod declares
// ModulePath; a go.mod of another (nested) module is passed over.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		mod, err := moduleOf(filepath.Join(dir, "go.mod"))
		if err == nil && mod == ModulePath {
			return dir, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root (the go.mod of %s) %w above %s", ModulePath, ErrNotFound, dir)
		}
		dir = parent
	}
}

// CIFAR10 returns the path of a CIFAR-10 archive ("train.tar.gz" or
// "test.tar.gz"): in $MOCOEDGE_CIFAR10 when set, else in
// ../shared/datasets/cifar10 beside the repository root found from the
// working directory.
func CIFAR10(name string) (string, error) {
	dir := os.Getenv(EnvCIFAR10)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		root, err := Root(wd)
		if err != nil {
			return "", fmt.Errorf("CIFAR-10: %w; set %s to the folder holding %s", err, EnvCIFAR10, name)
		}
		dir = filepath.Join(root, "..", "shared", "datasets", "cifar10")
	}
	p := filepath.Join(dir, name)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("CIFAR-10 archive %s %w; set %s to the folder holding it", p, ErrNotFound, EnvCIFAR10)
	}
	return p, nil
}

// moduleOf returns the module path declared in the go.mod file at path.
func moduleOf(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		mod := strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(mod); err == nil {
			mod = unq
		}
		return mod, nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return "", nil
}
