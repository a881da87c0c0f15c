// Package testenc provides real exported encoders to tests: one pretrained
// by `trainer pretrain` on CIFAR-10 and one random-init, both exported with
// `trainer export` as ONNX plus manifest, exactly as a site would make them.
//
// It is an ordinary package so that any package's tests can use it, but it
// is meant for tests only. Building the trainer and pretraining take about
// a minute and a half on two cores, so the outputs are cached in
// os.UserCacheDir()/mocoedge-testenc/<key>, where the key hashes the Go
// version, go.mod, go.sum, every non-test Go file under trainer/, models/
// and internal/, and the recipe's flags: any change to the code that makes
// the encoder makes a new one. An exclusive file lock (flock) on the entry
// makes parallel test processes build it once; the others wait and reuse
// it. Under `go test -short` the helpers skip the test.
package testenc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/repo"
)

// Recipe of the pretrained encoder: MoCo's CIFAR recipe on a ResNet-18
// (CIFAR stem) at a quarter of the width, four epochs over a
// class-balanced 5,000 of the training images.
const (
	Arch   = "resnet18-cifar"
	Width  = 0.25
	Batch  = 128
	Queue  = 1024
	Limit  = 5000
	Epochs = 4
)

// Pretrained returns the path of an ONNX encoder (with its manifest beside
// it, as manifest.PathFor names it) pretrained with MoCo as the package
// documentation describes, building it on the first call for the current
// sources. It skips the test under -short and fails it when a step fails.
func Pretrained(t testing.TB) string {
	t.Helper()
	return build(t, "pretrained", func(e *entry) error {
		train, err := repo.CIFAR10("train.tar.gz")
		if err != nil {
			return err
		}
		test, err := repo.CIFAR10("test.tar.gz")
		if err != nil {
			return err
		}
		run := filepath.Join(e.dir, "run")
		if err := os.RemoveAll(run); err != nil {
			return err
		}
		if err := e.trainer(t, "pretrain", "--recipe", "cifar", "--data", train,
			"--eval", test, "--eval-limit", "1000", "--eval-every", strconv.Itoa(Epochs),
			"--arch", Arch, "--width", ftoa(Width), "--batch", strconv.Itoa(Batch),
			"--queue", strconv.Itoa(Queue), "--limit", strconv.Itoa(Limit),
			"--epochs", strconv.Itoa(Epochs), "--out", run); err != nil {
			return err
		}
		if err := e.trainer(t, "export", "--checkpoint", filepath.Join(run, "checkpoint.safetensors"),
			"--verify-data", test, "--out", e.onnx("pretrained")); err != nil {
			return err
		}
		// The previous checkpoint is only for resuming; keep the cache small.
		return os.Remove(filepath.Join(run, "checkpoint.prev.safetensors"))
	})
}

// RandomInit returns the path of an untrained encoder of the same
// architecture and width as Pretrained's (`trainer export --random-init`),
// the baseline pretrained features must beat.
func RandomInit(t testing.TB) string {
	t.Helper()
	return build(t, "random-init", func(e *entry) error {
		test, err := repo.CIFAR10("test.tar.gz")
		if err != nil {
			return err
		}
		return e.trainer(t, "export", "--random-init", "--arch", Arch, "--width", ftoa(Width),
			"--verify-data", test, "--out", e.onnx("random-init"))
	})
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// entry is one cache folder: the trainer binary and the encoders built
// from one version of the sources.
type entry struct {
	root string // repository root
	dir  string
}

// onnx is the path of the named encoder in the entry.
func (e *entry) onnx(name string) string { return filepath.Join(e.dir, name+".onnx") }

// build returns the named encoder of the current sources, making it with
// produce (under the entry's lock) when the cache lacks it.
func build(t testing.TB, name string, produce func(*entry) error) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("testenc: building the %s encoder takes a minute or more; skipped under -short", name)
	}
	e, unlock, err := open()
	if err != nil {
		t.Fatalf("testenc: %v", err)
	}
	defer unlock()
	done := filepath.Join(e.dir, name+".done")
	if _, err := os.Stat(done); err == nil {
		t.Logf("testenc: %s encoder from the cache: %s", name, e.onnx(name))
		return e.onnx(name)
	}
	start := time.Now()
	if err := e.buildTrainer(t); err != nil {
		t.Fatalf("testenc: build the trainer: %v", err)
	}
	if err := produce(e); err != nil {
		t.Fatalf("testenc: make the %s encoder: %v", name, err)
	}
	if err := os.WriteFile(done, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		t.Fatalf("testenc: %v", err)
	}
	t.Logf("testenc: built the %s encoder in %.0f s: %s", name, time.Since(start).Seconds(), e.onnx(name))
	return e.onnx(name)
}

// open finds the repository, computes the cache key, creates the entry
// and takes its lock.
func open() (*entry, func(), error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	root, err := repo.Root(wd)
	if err != nil {
		return nil, nil, err
	}
	key, err := cacheKey(root)
	if err != nil {
		return nil, nil, fmt.Errorf("cache key: %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, nil, err
	}
	base := filepath.Join(cache, "mocoedge-testenc")
	e := &entry{root: root, dir: filepath.Join(base, key)}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, nil, err
	}
	unlock, err := lock(e.dir + ".lock")
	if err != nil {
		return nil, nil, err
	}
	return e, unlock, nil
}

// cacheKey hashes what the encoders depend on.
func cacheKey(root string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(h, "recipe %s %g %d %d %d %d\n", Arch, Width, Batch, Queue, Limit, Epochs)
	files := []string{"go.mod", "go.sum"}
	for _, dir := range []string{"trainer", "models", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				rel, err := filepath.Rel(root, path)
				if err != nil {
					return err
				}
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	slices.Sort(files)
	for _, rel := range files {
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n", rel)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// buildTrainer builds the trainer binary into the entry unless it is
// there.
func (e *entry) buildTrainer(t testing.TB) error {
	bin := filepath.Join(e.dir, "trainer")
	if _, err := os.Stat(bin); err == nil {
		return nil
	}
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-o", tmp, "./trainer/cmd/trainer")
	cmd.Dir = e.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	t.Logf("testenc: built %s", bin)
	return os.Rename(tmp, bin)
}

// trainer runs the entry's trainer binary from the repository root; its
// output goes to the test log when it fails.
func (e *entry) trainer(t testing.TB, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(e.dir, "trainer"), args...)
	cmd.Dir = e.root
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		return fmt.Errorf("trainer %s: %w\n%s", strings.Join(args, " "), err, tail(out.Bytes(), 4000))
	}
	t.Logf("testenc: trainer %s (%.0f s): %s", args[0], time.Since(start).Seconds(), lastLine(out.Bytes()))
	return nil
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// lastLine returns b's last non-empty line.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
