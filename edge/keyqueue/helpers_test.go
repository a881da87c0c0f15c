package keyqueue

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

// testModel returns a model id made of one repeated byte.
func testModel(b byte) ModelID {
	var m ModelID
	for i := range m {
		m[i] = b
	}
	return m
}

// splitmix64 is a small deterministic generator for test data.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// testTime0 is the time of entry 0 in generated data.
func testTime0() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

// genSpec says how to generate the entry for an id.
type genSpec struct {
	dim   int
	thumb int // thumbnail bytes; 0 = none
	model ModelID
}

// gen returns the deterministic entry for id: what a writer appends and a
// checker expects back (after normalisation).
func (g genSpec) gen(id uint64) Entry {
	vec := make([]float32, g.dim)
	s := splitmix64(id)
	for i := range vec {
		s = splitmix64(s)
		vec[i] = float32(int64(s%2001)-1000) / 1000
	}
	vec[int(id)%g.dim] += 3 // never all zeros
	e := Entry{
		Time:   testTime0().Add(time.Duration(id) * time.Millisecond),
		Source: []string{"cam0", "cam1", "garage"}[id%3],
		Model:  g.model,
		Vector: vec,
	}
	if g.model.IsZero() {
		e.Model = testModel(7)
	}
	if g.thumb > 0 {
		n := g.thumb/2 + int(id%uint64(g.thumb/2+1))
		th := make([]byte, max(n, 4))
		th[0], th[1] = 0xFF, 0xD8
		for i := 2; i < len(th); i++ {
			th[i] = byte(splitmix64(id + uint64(i)))
		}
		e.Thumbnail = th
	}
	return e
}

// label returns the deterministic label a writer may set on id.
func genLabel(id uint64) string { return []string{"person", "car", "dog", "cat", "bike"}[id%5] }

// checkEntry fails t unless got is what g generated for id (vector
// normalised), with the given label.
func checkEntry(t testing.TB, g genSpec, got Entry, id uint64, label string) {
	t.Helper()
	want := g.gen(id)
	wantVec, err := normalized(want.Vector, maxDimLimit)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case got.ID != id:
		t.Fatalf("entry id %d, want %d", got.ID, id)
	case !got.Time.Equal(want.Time):
		t.Fatalf("entry %d: time %v, want %v", id, got.Time, want.Time)
	case got.Source != want.Source || got.Model != want.Model || got.Label != label:
		t.Fatalf("entry %d: source %q model %s label %q, want %q %s %q", id, got.Source, got.Model, got.Label, want.Source, want.Model, label)
	case !slices.Equal(got.Vector, wantVec):
		t.Fatalf("entry %d: vector differs", id)
	case got.ThumbnailSize != len(want.Thumbnail):
		t.Fatalf("entry %d: thumbnail size %d, want %d", id, got.ThumbnailSize, len(want.Thumbnail))
	}
}

// checkThumb fails t unless q returns the generated thumbnail of id.
func checkThumb(t testing.TB, q *Queue, g genSpec, id uint64) {
	t.Helper()
	want := g.gen(id).Thumbnail
	got, err := q.Thumbnail(id)
	if len(want) == 0 {
		if !errors.Is(err, ErrNoThumbnail) {
			t.Fatalf("thumbnail of %d: err %v, want ErrNoThumbnail", id, err)
		}
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("thumbnail of %d: %d bytes, err %v; want %d bytes", id, len(got), err, len(want))
	}
}

// mustOpen opens a queue and closes it at the end of the test.
func mustOpen(t testing.TB, dir string, opts Options) *Queue {
	t.Helper()
	q, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// appendN appends the generated entries for the next n ids.
func appendN(t testing.TB, q *Queue, g genSpec, n int) {
	t.Helper()
	for range n {
		id := q.Stats().NextID
		got, err := q.Append(g.gen(id))
		if err != nil {
			t.Fatalf("Append %d: %v", id, err)
		}
		if got != id {
			t.Fatalf("Append returned id %d, want %d", got, id)
		}
	}
}

// ids returns the ids of q's entries in FIFO order.
func ids(t testing.TB, q *Queue) []uint64 {
	t.Helper()
	var out []uint64
	if err := q.ForEach(context.Background(), func(e Entry) error {
		out = append(out, e.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// idRange returns first..last.
func idRange(first, last uint64) []uint64 {
	var out []uint64
	for id := first; id <= last; id++ {
		out = append(out, id)
	}
	return out
}

// segmentFiles returns the folder's segment paths in order.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

// recordOffsets returns the start offset of every record in a segment file.
func recordOffsets(t testing.TB, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := 0; off < len(b); {
		n := int(binary.LittleEndian.Uint32(b[off:]))
		offs = append(offs, int64(off))
		off += frameHeaderSize + n
	}
	return offs
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logger returns a logger writing text to l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
