package cuda

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// touch creates empty files (and their folders) under root.
func touch(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeEnv returns a Getenv over a map.
func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestSearchOrder(t *testing.T) {
	root, mine, ld, home := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	touch(t, root,
		"usr/local/cuda-12.1/lib64/libcublas.so.12",
		"usr/local/cuda-12.10/lib64/libcublas.so.12",
		"usr/local/cuda/lib64/libnvrtc.so.12",
		"usr/local/cuda-12.10/targets/x86_64-linux/lib/libcublasLt.so.12",
		"usr/lib/python3.10/dist-packages/nvidia/cudnn/lib/libcudnn.so.8",
		"usr/lib/aarch64-linux-gnu/libcuda.so.1",
		"usr/lib/aarch64-linux-gnu/libcudnn.so.9",
	)
	touch(t, home, ".local/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9")
	touch(t, ld, "libcublasLt.so.11", "libcublasLt.so.12")
	touch(t, mine, "only/libcuda.so.1", "libnvrtc.so.12.4.99")
	env := fakeEnv(map[string]string{
		EnvLibs:           filepath.Join(mine, "only") + ":" + filepath.Join(mine, "libnvrtc.so.12.4.99") + "::/does/not/exist",
		"LD_LIBRARY_PATH": ld,
		"HOME":            home,
	})
	opts := LoadOptions{Getenv: env, Root: root}

	places := SearchPath(opts)
	wantDirs := []string{
		filepath.Join(mine, "only"), "/does/not/exist", ld,
		filepath.Join(root, "usr/local/cuda/lib64"),
		filepath.Join(root, "usr/local/cuda-12.10/lib64"),
		filepath.Join(root, "usr/local/cuda-12.1/lib64"),
		filepath.Join(root, "usr/local/cuda-12.10/targets/x86_64-linux/lib"),
		filepath.Join(home, ".local/lib/python3.12/site-packages/nvidia/cudnn/lib"),
		filepath.Join(root, "usr/lib/python3.10/dist-packages/nvidia/cudnn/lib"),
		filepath.Join(root, "usr/lib/aarch64-linux-gnu"),
	}
	if !slices.Equal(places.Dirs, wantDirs) {
		t.Errorf("search folders:\n got %q\nwant %q", places.Dirs, wantDirs)
	}
	if want := []string{filepath.Join(mine, "libnvrtc.so.12.4.99")}; !slices.Equal(places.Files, want) {
		t.Errorf("files %q, want %q", places.Files, want)
	}

	found, err := Find(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Library]string{
		Driver:   filepath.Join(mine, "only/libcuda.so.1"),                          // MOCOEDGE_CUDA_LIBS folder beats JetPack's
		NVRTC:    filepath.Join(mine, "libnvrtc.so.12.4.99"),                        // a file named in MOCOEDGE_CUDA_LIBS beats every folder
		CublasLt: filepath.Join(ld, "libcublasLt.so.12"),                            // LD_LIBRARY_PATH beats /usr/local/cuda; .12 before .11
		Cublas:   filepath.Join(root, "usr/local/cuda-12.10/lib64/libcublas.so.12"), // newest CUDA first, numerically
		Cudnn:    filepath.Join(home, ".local/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9"),
	}
	for lib, p := range want {
		if found.Paths[lib] != p {
			t.Errorf("%s: found %q, want %q", lib, found.Paths[lib], p)
		}
	}
}

func TestNothingFoundIsOneLine(t *testing.T) {
	root := t.TempDir()
	empty := t.TempDir()
	opts := LoadOptions{Getenv: fakeEnv(map[string]string{EnvLibs: empty}), Root: root}
	_, err := Load(opts)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, want := range []string{
		"missing libcuda, libcublasLt, libcublas, libnvrtc, libcudnn",
		"looked in " + empty,
		filepath.Join(root, "usr/local/cuda/lib64"),
		"nvidia/*/lib",
		EnvLibs,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
}

func TestOneMissingLibraryIsNamedAlone(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "libcuda.so.1", "libcublas.so.12", "libcublasLt.so.12", "libnvrtc.so.12")
	_, err := Find(LoadOptions{Getenv: fakeEnv(map[string]string{"LD_LIBRARY_PATH": dir}), Root: t.TempDir()})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "missing libcudnn;") {
		t.Errorf("err %v, want only libcudnn missing", err)
	}
}

func TestUnopenableLibraryIsOneLine(t *testing.T) {
	dir := t.TempDir()
	// Empty files: found, but not shared objects.
	touch(t, dir, "libcuda.so.1", "libcublas.so.12", "libcublasLt.so.12", "libnvrtc.so.12", "libcudnn.so.9")
	_, err := Load(LoadOptions{Getenv: fakeEnv(map[string]string{EnvLibs: dir}), Root: t.TempDir()})
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v, want a dlopen failure", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "cannot open libcuda ("+filepath.Join(dir, "libcuda.so.1")+")") {
		t.Errorf("want one line naming the file, got %q", msg)
	}
}

func TestCompareVersions(t *testing.T) {
	in := []string{"cuda-12.1", "cuda-11.8", "cuda-12.10", "cuda-12.9", "cuda"}
	slices.SortFunc(in, compareVersions)
	if want := []string{"cuda", "cuda-11.8", "cuda-12.1", "cuda-12.9", "cuda-12.10"}; !slices.Equal(in, want) {
		t.Errorf("sorted %q, want %q", in, want)
	}
}
