package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// DefaultKeep is how many versions a Store keeps by default.
const DefaultKeep = 5

// maxFileSize bounds what Load reads: far above any real probe (a
// 1000-class, 2048-dimension probe is about 25 MiB of JSON).
const maxFileSize = 256 << 20

// StoreOptions tune a Store. The zero value of every field means its default.
type StoreOptions struct {
	// Keep is how many of the newest versions Save leaves (default
	// DefaultKeep; at least 1).
	Keep int
	// GEMM is given to loaded models for their predictions (nil: gonum).
	GEMM blas.GEMM
	// Logger receives a warning for every corrupt file met; nil discards.
	Logger *slog.Logger
}

// Store keeps versions of the probe in a folder, one file per version named
// probe-v<N>.json (N = 1, 2, ...) in the format Encode writes. Other names
// are ignored. A Store's methods are safe for concurrent use; one process
// at a time should own the folder.
//
// Save is crash-safe: the file is written under a temporary name, synced,
// renamed into place and the folder synced, so a crash leaves either the
// complete new version or none (and at worst a stray .tmp file). A corrupt
// file is never deleted: Latest reports it and moves on to the previous
// version, Save numbers past it and pruning leaves it in place.
type Store struct {
	dir  string
	keep int
	gemm blas.GEMM
	log  *slog.Logger
	mu   sync.Mutex // serialises Save and Latest
}

// OpenStore returns the store in dir, creating the folder if needed.
func OpenStore(dir string, o StoreOptions) (*Store, error) {
	if o.Keep == 0 {
		o.Keep = DefaultKeep
	}
	if o.Keep < 1 {
		return nil, fmt.Errorf("%w: store Keep is %d, want at least 1", ErrInvalidOptions, o.Keep)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("probe: open store: %w", err)
	}
	return &Store{dir: dir, keep: o.Keep, gemm: o.GEMM, log: o.Logger}, nil
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

// Path is the file of version v.
func (s *Store) Path(v int) string { return filepath.Join(s.dir, fileName(v)) }

func fileName(v int) string { return "probe-v" + strconv.Itoa(v) + ".json" }

// parseName returns the version of a probe file name.
func parseName(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "probe-v")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".json")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 9 {
		return 0, false
	}
	v, err := strconv.Atoi(digits)
	if err != nil || v < 1 || strconv.Itoa(v) != digits {
		return 0, false
	}
	return v, true
}

// Versions lists the versions in the folder, valid or not, ascending.
func (s *Store) Versions() ([]int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("probe: list %s: %w", s.dir, err)
	}
	var out []int
	for _, e := range entries {
		if v, ok := parseName(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Save writes m as the next version (one more than the newest file in the
// folder, valid or not), sets m.Version to it, prunes versions beyond Keep
// and returns the version.
func (s *Store) Save(m *Model) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	versions, err := s.Versions()
	if err != nil {
		return 0, err
	}
	v := 1
	if len(versions) > 0 {
		v = versions[len(versions)-1] + 1
	}
	saved := *m
	saved.Version = v
	data, err := Encode(&saved)
	if err != nil {
		return 0, err
	}
	if err := writeFileAtomic(s.dir, fileName(v), data); err != nil {
		return 0, fmt.Errorf("probe: save version %d: %w", v, err)
	}
	m.Version = v
	if err := s.prune(append(versions, v)); err != nil {
		return v, err
	}
	return v, nil
}

// prune removes the valid versions older than the newest Keep.
func (s *Store) prune(versions []int) error {
	if len(versions) <= s.keep {
		return nil
	}
	removed := false
	for _, v := range versions[:len(versions)-s.keep] {
		if _, err := s.Load(v); err != nil {
			s.log.Warn("probe: old version not pruned: it does not load; left in place for inspection", "path", s.Path(v), "err", err)
			continue
		}
		if err := os.Remove(s.Path(v)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("probe: prune version %d: %w", v, err)
		}
		removed = true
	}
	if removed {
		if err := syncDir(s.dir); err != nil {
			return fmt.Errorf("probe: prune: %w", err)
		}
	}
	return nil
}

// Load reads version v. A missing file is ErrNoProbe; a damaged one, or
// one holding another version than its name says, wraps ErrCorrupt and
// names the file.
func (s *Store) Load(v int) (*Model, error) {
	path := s.Path(v)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: version %d (%s)", ErrNoProbe, v, path)
	}
	if err != nil {
		return nil, fmt.Errorf("probe: load %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("probe: load %s: %w", path, err)
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("probe: load %s: %w: %d bytes, larger than any probe", path, ErrCorrupt, st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("probe: load %s: %w", path, err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("probe: load %s: %w", path, err)
	}
	if m.Version != v {
		return nil, fmt.Errorf("probe: load %s: %w: it holds version %d", path, ErrCorrupt, m.Version)
	}
	m.gemm = s.gemm
	return m, nil
}

// Latest loads the newest version that is valid. Each newer file that does
// not load is logged as a warning and skipped (never deleted). With no
// valid version the error wraps ErrNoProbe and, when files were skipped,
// their reasons.
func (s *Store) Latest() (*Model, error) {
	s.mu.Lock() // not while Save prunes
	defer s.mu.Unlock()
	versions, err := s.Versions()
	if err != nil {
		return nil, err
	}
	var skipped []error
	for _, v := range slices.Backward(versions) {
		m, err := s.Load(v)
		if err == nil {
			return m, nil
		}
		s.log.Warn("probe: skipping a stored probe that does not load", "path", s.Path(v), "err", err)
		skipped = append(skipped, err)
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("%w in %s: every file was skipped: %w", ErrNoProbe, s.dir, errors.Join(skipped...))
	}
	return nil, fmt.Errorf("%w in %s", ErrNoProbe, s.dir)
}

// writeFileAtomic writes data to dir/name through a synced temporary file
// renamed into place, then syncs dir.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a folder so that renames and removals in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
