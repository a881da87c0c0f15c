package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ebitengine/purego"
)

// EnvLibs names the environment variable holding a ':'-separated list of
// folders (searched in order) or library files (used as they are) that Load
// tries before every other place.
const EnvLibs = "MOCOEDGE_CUDA_LIBS"

// ErrNotFound is wrapped by Load's and Find's error when a library is in
// none of the places searched.
var ErrNotFound = errors.New("CUDA libraries not found")

// Library identifies one of the shared libraries the backend needs.
type Library int

// The libraries, in the order Load opens them (cuBLASLt before cuBLAS and
// both before cuDNN, which links against them).
const (
	Driver Library = iota // libcuda.so.1, the driver API
	CublasLt
	Cublas
	NVRTC
	Cudnn
	numLibraries
)

// libraryInfo is a library's display name and the file names tried in each
// folder, newest first.
var libraryInfo = [numLibraries]struct {
	name  string
	files []string
}{
	Driver:   {"libcuda", []string{"libcuda.so.1", "libcuda.so"}},
	CublasLt: {"libcublasLt", []string{"libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"}},
	Cublas:   {"libcublas", []string{"libcublas.so.12", "libcublas.so.11", "libcublas.so"}},
	NVRTC:    {"libnvrtc", []string{"libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0", "libnvrtc.so"}},
	Cudnn:    {"libcudnn", []string{"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"}},
}

// String returns the library's name, e.g. "libcudnn".
func (l Library) String() string {
	if l < 0 || l >= numLibraries {
		return fmt.Sprintf("Library(%d)", int(l))
	}
	return libraryInfo[l].name
}

// LoadOptions say where Load looks.
type LoadOptions struct {
	// Getenv reads the environment (MOCOEDGE_CUDA_LIBS, LD_LIBRARY_PATH,
	// HOME, VIRTUAL_ENV, CONDA_PREFIX); nil means os.Getenv.
	Getenv func(string) string
	// Root is prefixed to the fixed system folders (/usr/local/cuda*, the
	// Python site-packages, /usr/lib/...). Empty means "/", and only then
	// does Load also ask the dynamic loader for the bare file names (its
	// ld.so.cache); a non-empty Root is for tests and chroots.
	Root string
}

// Found is where each library was found.
type Found struct {
	// Paths holds one file per library, indexed by Library.
	Paths [numLibraries]string
}

// Libraries are the opened CUDA libraries.
type Libraries struct {
	// Paths is the file each library was opened from (a bare file name when
	// the dynamic loader found it).
	Paths   [numLibraries]string
	handles [numLibraries]uintptr
}

// Handle returns the dlopen handle of l.
func (l *Libraries) Handle(lib Library) uintptr { return l.handles[lib] }

// Places are where Load looks, in order.
type Places struct {
	// Files are the library files named directly in MOCOEDGE_CUDA_LIBS.
	Files []string
	// Dirs are the folders searched, in order (only those that exist, for
	// the fixed places).
	Dirs []string
	// Absent are the fixed places (folders or glob patterns) that matched
	// nothing on this machine, listed so an error can say they were tried.
	Absent []string
}

// SearchPath returns where Load looks. The order: MOCOEDGE_CUDA_LIBS;
// LD_LIBRARY_PATH; /usr/local/cuda/lib64, then /usr/local/cuda-*/lib64
// newest first, and their targets/*/lib; the nvidia/*/lib folders of Python
// site-packages (VIRTUAL_ENV, CONDA_PREFIX, ~/.local, /usr/local/lib,
// /usr/lib, /opt/conda); /opt/conda/lib; then the distribution's library
// folders, JetPack's /usr/lib/aarch64-linux-gnu among them.
func SearchPath(opts LoadOptions) Places {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	root := opts.Root
	var p Places
	seen := map[string]bool{}
	addDir := func(d string) {
		if d == "" || seen[d] {
			return
		}
		seen[d] = true
		p.Dirs = append(p.Dirs, d)
	}
	for _, e := range filepath.SplitList(getenv(EnvLibs)) {
		if e == "" {
			continue
		}
		if st, err := os.Stat(e); err == nil && !st.IsDir() {
			p.Files = append(p.Files, e)
			continue
		}
		addDir(filepath.Clean(e))
	}
	for _, e := range filepath.SplitList(getenv("LD_LIBRARY_PATH")) {
		if e != "" {
			addDir(filepath.Clean(e))
		}
	}
	// glob adds the folders matching pattern, newest version first
	// (cuda-12.4 before cuda-12.1, python3.12 before python3.10).
	glob := func(pattern string) {
		m, _ := filepath.Glob(pattern) // the only error is a malformed pattern
		if len(m) == 0 {
			p.Absent = append(p.Absent, pattern)
			return
		}
		slices.SortFunc(m, func(a, b string) int { return -compareVersions(a, b) })
		for _, d := range m {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				addDir(d)
			}
		}
	}
	sys := func(p string) string { return filepath.Join(root, p) }
	glob(sys("/usr/local/cuda/lib64"))
	glob(sys("/usr/local/cuda-*/lib64"))
	glob(sys("/usr/local/cuda*/targets/*/lib"))
	var pythonRoots []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if d := getenv(v); d != "" {
			pythonRoots = append(pythonRoots, d)
		}
	}
	if home := getenv("HOME"); home != "" {
		pythonRoots = append(pythonRoots, filepath.Join(home, ".local"))
	}
	pythonRoots = append(pythonRoots, sys("/usr/local"), sys("/usr"), sys("/opt/conda"))
	for _, pr := range pythonRoots {
		glob(filepath.Join(pr, "lib", "python3*", "*-packages", "nvidia", "*", "lib"))
	}
	for _, d := range []string{"/opt/conda/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib"} {
		glob(sys(d))
	}
	return p
}

// compareVersions orders paths by their text, comparing runs of digits as
// numbers, so "cuda-12.10" sorts after "cuda-12.9".
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			if len(strings.TrimLeft(da, "0")) != len(strings.TrimLeft(db, "0")) {
				return len(strings.TrimLeft(da, "0")) - len(strings.TrimLeft(db, "0"))
			}
			if c := strings.Compare(strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// Find locates every library without opening it. A library is taken from
// the first MOCOEDGE_CUDA_LIBS file whose name matches it, else from the
// first searched folder holding one of its file names (newest version
// first); with the default Root a library found nowhere is left to the
// dynamic loader by its bare file name, which Load then tries. The error
// wraps ErrNotFound and is one line naming each missing library and the
// folders searched.
func Find(opts LoadOptions) (Found, error) {
	places := SearchPath(opts)
	var f Found
	var missing []string
	for lib := Library(0); lib < numLibraries; lib++ {
		f.Paths[lib] = findOne(lib, places)
		if f.Paths[lib] == "" {
			if opts.Root == "" {
				continue // Load asks the dynamic loader
			}
			missing = append(missing, lib.String())
		}
	}
	if len(missing) > 0 {
		return f, notFound(missing, places, false)
	}
	return f, nil
}

func findOne(lib Library, places Places) string {
	names := libraryInfo[lib].files
	for _, file := range places.Files {
		base := filepath.Base(file)
		for _, n := range names {
			if strings.HasPrefix(base, n) {
				return file
			}
		}
	}
	for _, d := range places.Dirs {
		for _, n := range names {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	return ""
}

// notFound formats the one-line error for the missing libraries.
func notFound(missing []string, places Places, loader bool) error {
	where := slices.Concat(places.Files, places.Dirs)
	if len(where) == 0 {
		where = []string{"no existing folder"}
	}
	msg := strings.Join(where, ", ")
	if loader {
		msg += ", the dynamic loader's default paths"
	}
	if len(places.Absent) > 0 {
		msg += " (absent here: " + strings.Join(places.Absent, ", ") + ")"
	}
	return fmt.Errorf("%w: missing %s; looked in %s; set %s to a ':'-separated list of folders or files",
		ErrNotFound, strings.Join(missing, ", "), msg, EnvLibs)
}

// Load finds and opens the CUDA libraries (see Find and SearchPath for
// where it looks). Every error is one line: ErrNotFound when a library is
// missing, naming each missing library and where Load looked; otherwise
// the dynamic loader's reason for the first file that would not open.
// Loading needs no GPU: a machine with the libraries but no device passes
// Load and fails in New.
func Load(opts LoadOptions) (*Libraries, error) {
	found, err := Find(opts)
	if err != nil {
		return nil, err
	}
	libs := &Libraries{}
	var missing []string
	for lib := Library(0); lib < numLibraries; lib++ {
		path := found.Paths[lib]
		if path == "" {
			// Default Root and nothing in the searched folders: the loader's
			// own search (ld.so.cache, RUNPATH) by bare name.
			for _, n := range libraryInfo[lib].files {
				if h, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
					libs.handles[lib], libs.Paths[lib] = h, n
					break
				}
			}
			if libs.handles[lib] == 0 {
				missing = append(missing, lib.String())
			}
			continue
		}
		h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			return nil, fmt.Errorf("cuda: cannot open %s (%s): %s", lib, path, oneLine(err.Error()))
		}
		libs.handles[lib], libs.Paths[lib] = h, path
	}
	if len(missing) > 0 {
		return nil, notFound(missing, SearchPath(opts), true)
	}
	return libs, nil
}

// oneLine joins a multi-line message into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
