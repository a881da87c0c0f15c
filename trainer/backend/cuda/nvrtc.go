package cuda

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unsafe"
)

// kernelSource is the CUDA C of every kernel that is not cuBLAS or cuDNN.
//
//go:embed kernels.cu
var kernelSource string

// Arch is a device's compute capability, e.g. {8, 0} for an A100.
type Arch struct{ Major, Minor int }

// String returns the architecture as NVRTC names it, e.g. "sm_80".
func (a Arch) String() string { return fmt.Sprintf("sm_%d%d", a.Major, a.Minor) }

// CacheKey names the compiled kernels of source for arch: the first 16 bytes
// of the source's SHA-256 in hex, a dash and the architecture, e.g.
// "3f2a...-sm_80". A changed kernel or another GPU gives another key.
func CacheKey(source string, arch Arch) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:16]) + "-" + arch.String()
}

// DefaultCacheDir is where compiled kernels are kept unless Options say
// otherwise: os.UserCacheDir()/mocoedge/cuda.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "mocoedge", "cuda"), nil
}

// cachePath returns the file holding the cubin of key in dir.
func cachePath(dir, key string) string { return filepath.Join(dir, key+".cubin") }

// readCache returns the cached cubin of key, or nil when there is none.
func readCache(dir, key string) ([]byte, error) {
	if dir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(cachePath(dir, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// writeCache stores a cubin atomically (a temporary file renamed into place),
// so a concurrent reader sees the whole file or none.
func writeCache(dir, key string, cubin []byte) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, key+".*.tmp")
	if err != nil {
		return err
	}
	if _, err := f.Write(cubin); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), cachePath(dir, key))
}

// nvrtcOptions are the compile options for arch. No fast math: the kernels
// must agree with the CPU reference (exp, log, sqrt and division at full
// precision).
func nvrtcOptions(arch Arch) []string {
	return []string{"--gpu-architecture=" + arch.String(), "--std=c++14", "-default-device"}
}

// compile turns source into a cubin for arch with NVRTC. A compile error
// includes NVRTC's log (joined into one line).
func (a *api) compile(source, name string, arch Arch) ([]byte, error) {
	var prog uintptr
	if err := a.nvrtcError("nvrtcCreateProgram", a.nvrtcCreateProgram(&prog, source, name, 0, nil, nil)); err != nil {
		return nil, err
	}
	defer a.nvrtcDestroyProgram(&prog)

	// The options array holds pointers to NUL-terminated copies, all pinned
	// for the duration of the call.
	opts := nvrtcOptions(arch)
	var pin runtime.Pinner
	defer pin.Unpin()
	ptrs := make([]*byte, len(opts))
	for i, o := range opts {
		b := append([]byte(o), 0)
		pin.Pin(&b[0])
		ptrs[i] = &b[0]
	}
	pin.Pin(&ptrs[0])
	cerr := a.nvrtcError("nvrtcCompileProgram", a.nvrtcCompileProgram(prog, int32(len(ptrs)), unsafe.Pointer(&ptrs[0])))
	if cerr != nil {
		var n uint64
		if a.nvrtcGetProgramLogSize(prog, &n) == 0 && n > 1 {
			log := make([]byte, n)
			if a.nvrtcGetProgramLog(prog, &log[0]) == 0 {
				return nil, fmt.Errorf("%w (%s, %s): %s", cerr, name, arch, oneLine(strings.TrimRight(string(log), "\x00")))
			}
		}
		return nil, fmt.Errorf("%w (%s, %s)", cerr, name, arch)
	}
	var n uint64
	if err := a.nvrtcError("nvrtcGetCUBINSize", a.nvrtcGetCUBINSize(prog, &n)); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("nvrtcGetCUBINSize: empty cubin for %s", arch)
	}
	cubin := make([]byte, n)
	if err := a.nvrtcError("nvrtcGetCUBIN", a.nvrtcGetCUBIN(prog, &cubin[0])); err != nil {
		return nil, err
	}
	return cubin, nil
}
