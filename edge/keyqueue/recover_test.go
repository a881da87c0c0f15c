package keyqueue

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// copyDir copies the regular files of src into a new temporary folder.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	des, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(src, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, de.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// checkIntact fails t unless q holds exactly the generated entries
// first..last and accepts a new append.
func checkIntact(t *testing.T, q *Queue, g genSpec, first, last uint64) {
	t.Helper()
	if got := ids(t, q); !slices.Equal(got, idRange(first, last)) {
		t.Fatalf("ids %v, want %d..%d", got, first, last)
	}
	for id := first; id <= last; id++ {
		e, err := q.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		checkEntry(t, g, e, id, "")
		checkThumb(t, q, g, id)
	}
	if id, err := q.Append(g.gen(last + 1)); err != nil || id != last+1 {
		t.Fatalf("append after recovery: id %d, err %v; want %d", id, err, last+1)
	}
}

func TestTornTailAtEveryOffset(t *testing.T) {
	g := genSpec{dim: 8, thumb: 40}
	src := t.TempDir()
	q := mustOpen(t, src, Options{Capacity: 100})
	appendN(t, q, g, 6)
	q.Close()
	seg := segmentFiles(t, src)[0]
	offs := recordOffsets(t, seg)
	lastStart := offs[len(offs)-1]
	fi, _ := os.Stat(seg)
	for cut := lastStart; cut < fi.Size(); cut++ {
		dir := copyDir(t, src)
		path := filepath.Join(dir, filepath.Base(seg))
		if err := os.Truncate(path, cut); err != nil {
			t.Fatal(err)
		}
		var logs logBuffer
		q := mustOpen(t, dir, Options{Capacity: 100, Logger: logs.logger()})
		r := q.Recovery()
		if cut == lastStart {
			if len(r.Damage) != 0 {
				t.Fatalf("cut at a record boundary reported damage: %v", r.Damage)
			}
		} else {
			if len(r.Damage) != 1 || !errors.Is(r.Damage[0], ErrTorn) || r.Damage[0].Offset != lastStart || r.Damage[0].Action != "truncated" {
				t.Fatalf("cut at %d: damage %v", cut, r.Damage)
			}
			if !strings.Contains(logs.String(), "offset="+strconv.FormatInt(lastStart, 10)) {
				t.Fatalf("warning does not name the offset:\n%s", logs.String())
			}
		}
		checkIntact(t, q, g, 1, 5)
		q.Close()
		if m, _ := filepath.Glob(filepath.Join(dir, "*.damaged")); len(m) != 0 {
			t.Fatalf("a torn tail was saved as damaged: %v", m)
		}
		// The repaired folder reopens cleanly with the new entry.
		q = mustOpen(t, dir, Options{Capacity: 100})
		if r := q.Recovery(); len(r.Damage) != 0 || q.Len() != 6 {
			t.Fatalf("second reopen after cut at %d: %d entries, damage %v", cut, q.Len(), r.Damage)
		}
		q.Close()
	}
}

func TestBitFlipInLastSegment(t *testing.T) {
	g := genSpec{dim: 8, thumb: 40}
	src := t.TempDir()
	q := mustOpen(t, src, Options{Capacity: 100})
	appendN(t, q, g, 9)
	q.Close()
	seg := segmentFiles(t, src)[0]
	offs := recordOffsets(t, seg) // header, entries 1..9
	bad := offs[5]                // entry 5
	tests := []struct {
		name string
		at   int64 // byte to flip
	}{
		{"length field", bad + 1},
		{"checksum", bad + 5},
		{"type", bad + 8},
		{"vector", bad + 8 + 1 + 64 + 10},
		{"last byte", offs[6] - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			path := filepath.Join(dir, filepath.Base(seg))
			b, _ := os.ReadFile(path)
			b[tc.at] ^= 0x10
			os.WriteFile(path, b, 0o644)
			var logs logBuffer
			q := mustOpen(t, dir, Options{Capacity: 100, Logger: logs.logger()})
			r := q.Recovery()
			if len(r.Damage) != 1 {
				t.Fatalf("damage %v", r.Damage)
			}
			d := r.Damage[0]
			if d.Offset != bad || d.Segment != path || !(errors.Is(d, ErrCorrupt) || errors.Is(d, ErrTorn)) {
				t.Fatalf("damage %v, want %s at %d", d, path, bad)
			}
			if !strings.Contains(d.Error(), filepath.Base(path)) || !strings.Contains(d.Error(), "offset "+strconv.FormatInt(bad, 10)) {
				t.Fatalf("error %q does not name the segment and offset", d)
			}
			if log := logs.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, filepath.Base(path)) {
				t.Fatalf("no warning naming the segment:\n%s", log)
			}
			checkIntact(t, q, g, 1, 4)
			if errors.Is(d, ErrCorrupt) {
				saved := path + "." + strconv.FormatInt(bad, 10) + ".damaged"
				got, err := os.ReadFile(saved)
				if err != nil || !slices.Equal(got, b[bad:]) {
					t.Fatalf("damaged tail not saved in %s: %v", saved, err)
				}
			}
		})
	}
}

func TestBitFlipInSealedSegment(t *testing.T) {
	g := genSpec{dim: 8, thumb: 40}
	src := t.TempDir()
	opts := Options{Capacity: 1000, SegmentBytes: MinSegmentBytes}
	q := mustOpen(t, src, opts)
	appendN(t, q, g, 100)
	q.Close()
	segs := segmentFiles(t, src)
	if len(segs) < 3 {
		t.Fatalf("want at least 3 segments, have %d", len(segs))
	}
	dir := copyDir(t, src)
	path := filepath.Join(dir, filepath.Base(segs[1]))
	offs := recordOffsets(t, path)
	b, _ := os.ReadFile(path)
	mid := offs[len(offs)/2]
	b[mid+20] ^= 1
	os.WriteFile(path, b, 0o644)

	var logs logBuffer
	q = mustOpen(t, dir, Options{Capacity: 1000, SegmentBytes: MinSegmentBytes, Logger: logs.logger()})
	r := q.Recovery()
	if len(r.Damage) != 1 || r.Damage[0].Offset != mid || r.Damage[0].Segment != path ||
		!errors.Is(r.Damage[0], ErrCorrupt) || r.Damage[0].Action != "skipped rest of segment" {
		t.Fatalf("damage %v, want %s at %d", r.Damage, path, mid)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("no warning:\n%s", logs.String())
	}
	// Entries before the damage and in later segments are intact; only the
	// rest of the damaged segment is missing.
	got := ids(t, q)
	before := idsBefore(t, segs[1], src)
	kept := uint64(len(offs)/2 - 1) // entries of the damaged segment before the flip
	missing := uint64(len(offs)-1) - kept
	want := append(idRange(1, before+kept), idRange(before+kept+missing+1, 100)...)
	if !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	for _, id := range got {
		e, err := q.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		checkEntry(t, g, e, id, "")
		checkThumb(t, q, g, id)
	}
	if id, err := q.Append(g.gen(101)); err != nil || id != 101 {
		t.Fatalf("append: %d, %v", id, err)
	}
}

// idsBefore counts the entries in the segments before seg.
func idsBefore(t *testing.T, seg, dir string) uint64 {
	var n uint64
	for _, s := range segmentFiles(t, dir) {
		if s == seg {
			break
		}
		n += uint64(len(recordOffsets(t, s)) - 1)
	}
	return n
}

func TestStrictRefusesDamage(t *testing.T) {
	g := genSpec{dim: 8}
	dir := t.TempDir()
	q := mustOpen(t, dir, Options{Capacity: 100})
	appendN(t, q, g, 5)
	q.Close()
	seg := segmentFiles(t, dir)[0]
	b, _ := os.ReadFile(seg)
	b[len(b)-3] ^= 0xFF
	os.WriteFile(seg, b, 0o644)
	_, err := Open(dir, Options{Capacity: 100, Strict: true})
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Segment != seg {
		t.Fatalf("strict Open: %v", err)
	}
	after, _ := os.ReadFile(seg)
	if !slices.Equal(after, b) {
		t.Fatal("strict Open changed the segment")
	}
	q = mustOpen(t, dir, Options{Capacity: 100})
	if q.Len() != 4 {
		t.Fatalf("repairing Open kept %d entries, want 4", q.Len())
	}
}

func TestZeroFilledTailIsTorn(t *testing.T) {
	g := genSpec{dim: 8}
	dir := t.TempDir()
	q := mustOpen(t, dir, Options{Capacity: 100})
	appendN(t, q, g, 3)
	q.Close()
	seg := segmentFiles(t, dir)[0]
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 4096))
	f.Close()
	q = mustOpen(t, dir, Options{Capacity: 100})
	r := q.Recovery()
	if len(r.Damage) != 1 || !errors.Is(r.Damage[0], ErrTorn) {
		t.Fatalf("damage %v", r.Damage)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.damaged")); len(m) != 0 {
		t.Fatalf("zero tail saved as damaged: %v", m)
	}
	checkIntact(t, q, g, 1, 3)
}

func TestHeadlessLastSegmentIsRemoved(t *testing.T) {
	g := genSpec{dim: 8}
	tests := []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"half a header", []byte{57, 0, 0, 0, 1, 2}},
		{"garbage", []byte("this is not a segment header at all, not at all")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			q := mustOpen(t, dir, Options{Capacity: 100})
			appendN(t, q, g, 3)
			q.Close()
			last := segmentFiles(t, dir)[0]
			seq, _ := parseSegmentName(filepath.Base(last))
			next := filepath.Join(dir, segmentName(seq+1))
			os.WriteFile(next, tc.content, 0o644)
			q = mustOpen(t, dir, Options{Capacity: 100})
			r := q.Recovery()
			if len(r.Damage) != 1 || r.Damage[0].Action != "removed" || r.Damage[0].Segment != next {
				t.Fatalf("damage %v", r.Damage)
			}
			if _, err := os.Stat(next); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("headless segment still there: %v", err)
			}
			checkIntact(t, q, g, 1, 3)
		})
	}
}

func TestLeftoversOfAnInterruptedCompaction(t *testing.T) {
	g := genSpec{dim: 8, thumb: 60}
	dir := t.TempDir()
	opts := Options{Capacity: 20, SegmentBytes: MinSegmentBytes}
	q := mustOpen(t, dir, opts)
	appendN(t, q, g, 50)
	q.Close()
	segs := segmentFiles(t, dir)
	seq, _ := parseSegmentName(filepath.Base(segs[len(segs)-1]))

	// Crash while writing the snapshot: a .tmp file is left behind.
	tmp := filepath.Join(dir, segmentName(seq+1)+tmpExt)
	os.WriteFile(tmp, []byte("half a snapshot"), 0o644)
	q = mustOpen(t, dir, opts)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("unfinished compaction file not removed")
	}
	checkIntact(t, q, g, 31, 50)
	// Crash after the rename, before the old segments were deleted: keep
	// copies of them and put them back.
	saved := map[string][]byte{}
	for _, s := range segmentFiles(t, dir) {
		saved[s], _ = os.ReadFile(s)
	}
	if err := q.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	q.Close()
	for p, b := range saved {
		os.WriteFile(p, b, 0o644)
	}
	q = mustOpen(t, dir, opts)
	checkIntact(t, q, g, 32, 51)
	if n := len(segmentFiles(t, dir)); n != 1 {
		t.Fatalf("superseded segments not removed: %d segments", n)
	}
}
