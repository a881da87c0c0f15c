package keyqueue

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAppendGetThumbnail(t *testing.T) {
	g := genSpec{dim: 16, thumb: 300}
	q := mustOpen(t, t.TempDir(), Options{Capacity: 100})
	appendN(t, q, g, 10)
	if q.Len() != 10 {
		t.Fatalf("Len %d, want 10", q.Len())
	}
	for id := uint64(1); id <= 10; id++ {
		e, err := q.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		checkEntry(t, g, e, id, "")
		checkThumb(t, q, g, id)
		var ss float64
		for _, x := range e.Vector {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Fatalf("entry %d: |v|² = %v, want 1", id, ss)
		}
	}
	if _, err := q.Get(11); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(11): %v, want ErrNotFound", err)
	}
	if _, err := q.Thumbnail(0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Thumbnail(0): %v, want ErrNotFound", err)
	}
}

func TestAppendRefusesInvalidEntries(t *testing.T) {
	g := genSpec{dim: 8, thumb: 64}
	good := func() Entry { return g.gen(1) }
	tests := []struct {
		name   string
		modify func(*Entry)
		want   error
	}{
		{"empty source", func(e *Entry) { e.Source = "" }, ErrInvalidEntry},
		{"long source", func(e *Entry) { e.Source = strings.Repeat("s", 256) }, ErrInvalidEntry},
		{"source not UTF-8", func(e *Entry) { e.Source = "cam\xff" }, ErrInvalidEntry},
		{"long label", func(e *Entry) { e.Label = strings.Repeat("l", 256) }, ErrInvalidEntry},
		{"zero model", func(e *Entry) { e.Model = ModelID{} }, ErrInvalidEntry},
		{"empty vector", func(e *Entry) { e.Vector = nil }, ErrInvalidEntry},
		{"zero vector", func(e *Entry) { e.Vector = make([]float32, 8) }, ErrInvalidEntry},
		{"NaN", func(e *Entry) { e.Vector[3] = float32(math.NaN()) }, ErrInvalidEntry},
		{"Inf", func(e *Entry) { e.Vector[0] = float32(math.Inf(-1)) }, ErrInvalidEntry},
		{"dimension above MaxDim", func(e *Entry) { e.Model = testModel(9); e.Vector = make([]float32, 65) }, ErrInvalidEntry},
		{"other dimension, same model", func(e *Entry) { e.Vector = e.Vector[:7] }, ErrDimMismatch},
		{"thumbnail too large", func(e *Entry) { e.Thumbnail = append([]byte{0xFF, 0xD8}, make([]byte, 1024)...) }, ErrThumbnailTooLarge},
		{"thumbnail not JPEG", func(e *Entry) { e.Thumbnail = []byte("PNG...") }, ErrInvalidEntry},
	}
	q := mustOpen(t, t.TempDir(), Options{Capacity: 10, MaxDim: 64, MaxThumbnailBytes: 1000})
	if _, err := q.Append(good()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := good()
			tc.modify(&e)
			id, err := q.Append(e)
			if !errors.Is(err, tc.want) || id != 0 {
				t.Fatalf("Append: id %d, err %v; want %v", id, err, tc.want)
			}
		})
	}
	if q.Len() != 1 || q.Stats().NextID != 2 {
		t.Fatalf("refused entries changed the queue: Len %d, next id %d", q.Len(), q.Stats().NextID)
	}
	// Another model may have another dimension.
	e := good()
	e.Model, e.Vector = testModel(3), []float32{1, 2, 3}
	if _, err := q.Append(e); err != nil {
		t.Fatalf("second model with its own dimension: %v", err)
	}
}

func TestEvictionIsFIFO(t *testing.T) {
	tests := []struct {
		capacity, appends int
		wantFirst         uint64
	}{
		{capacity: 1, appends: 3, wantFirst: 3},
		{capacity: 5, appends: 4, wantFirst: 1},
		{capacity: 5, appends: 5, wantFirst: 1},
		{capacity: 5, appends: 12, wantFirst: 8},
		{capacity: 100, appends: 3000, wantFirst: 2901},
	}
	g := genSpec{dim: 4}
	for _, tc := range tests {
		q := mustOpen(t, t.TempDir(), Options{Capacity: tc.capacity, SegmentBytes: MinSegmentBytes})
		appendN(t, q, g, tc.appends)
		want := idRange(tc.wantFirst, uint64(tc.appends))
		if got := ids(t, q); !slices.Equal(got, want) {
			t.Fatalf("K=%d after %d appends: ids %v, want %v", tc.capacity, tc.appends, got, want)
		}
		if tc.wantFirst > 1 {
			if _, err := q.Get(tc.wantFirst - 1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("evicted entry: %v, want ErrNotFound", err)
			}
		}
		m, err := q.Vectors(g.gen(1).Model)
		if err != nil || !slices.Equal(m.IDs, want) {
			t.Fatalf("matrix ids %v (err %v), want %v", m.IDs, err, want)
		}
	}
}

func TestSetLabel(t *testing.T) {
	dir := t.TempDir()
	g := genSpec{dim: 4}
	q := mustOpen(t, dir, Options{Capacity: 5})
	appendN(t, q, g, 7) // live: 3..7
	tests := []struct {
		id    uint64
		label string
		want  error
	}{
		{3, "person", nil},
		{4, "person", nil},
		{5, "car", nil},
		{5, "dog", nil}, // relabel
		{4, "", nil},    // clear
		{2, "person", ErrNotFound},
		{99, "person", ErrNotFound},
		{6, "bad\xff", ErrInvalidEntry},
	}
	for _, tc := range tests {
		if err := q.SetLabel(tc.id, tc.label); !errors.Is(err, tc.want) {
			t.Fatalf("SetLabel(%d, %q): %v, want %v", tc.id, tc.label, err, tc.want)
		}
	}
	check := func(q *Queue) {
		t.Helper()
		if got, _ := q.LabeledIDs("person"); !slices.Equal(got, []uint64{3}) {
			t.Fatalf("person: %v", got)
		}
		if got, _ := q.LabeledIDs("dog"); !slices.Equal(got, []uint64{5}) {
			t.Fatalf("dog: %v", got)
		}
		if got, _ := q.LabeledIDs("car"); len(got) != 0 {
			t.Fatalf("car: %v", got)
		}
		labels, _ := q.Labels([]uint64{3, 4, 5, 1})
		if !slices.Equal(labels, []string{"person", "", "dog", ""}) {
			t.Fatalf("Labels: %q", labels)
		}
	}
	check(q)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, dir, Options{Capacity: 5})
	check(q)
	// Eviction drops the label from the index.
	appendN(t, q, g, 1)
	if got, _ := q.LabeledIDs("person"); len(got) != 0 {
		t.Fatalf("person after eviction: %v", got)
	}
}

func TestReopenRestoresEverything(t *testing.T) {
	dir := t.TempDir()
	g := genSpec{dim: 32, thumb: 500}
	opts := Options{Capacity: 50, SegmentBytes: 8 << 10}
	q := mustOpen(t, dir, opts)
	appendN(t, q, g, 180)
	for id := uint64(131); id <= 180; id += 3 {
		if err := q.SetLabel(id, genLabel(id)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := q.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	q = mustOpen(t, dir, opts)
	after, err := q.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 50 || len(before) != 50 {
		t.Fatalf("%d entries before, %d after; want 50", len(before), len(after))
	}
	for i, e := range after {
		label := ""
		if (e.ID-131)%3 == 0 {
			label = genLabel(e.ID)
		}
		checkEntry(t, g, e, before[i].ID, label)
		checkThumb(t, q, g, e.ID)
	}
	if r := q.Recovery(); len(r.Damage) != 0 || r.Entries != 50 {
		t.Fatalf("recovery %+v", r)
	}
	if id, err := q.Append(g.gen(181)); err != nil || id != 181 {
		t.Fatalf("append after reopen: id %d, err %v", id, err)
	}
}

func TestCapacityChangeOnReopen(t *testing.T) {
	dir := t.TempDir()
	g := genSpec{dim: 4}
	q := mustOpen(t, dir, Options{Capacity: 10})
	appendN(t, q, g, 10)
	q.Close()
	tests := []struct {
		capacity int
		want     []uint64
	}{
		{4, idRange(7, 10)},  // shrink evicts at once
		{20, idRange(7, 10)}, // growing does not bring evicted entries back
	}
	for _, tc := range tests {
		q := mustOpen(t, dir, Options{Capacity: tc.capacity})
		if got := ids(t, q); !slices.Equal(got, tc.want) {
			t.Fatalf("capacity %d: ids %v, want %v", tc.capacity, got, tc.want)
		}
		q.Close()
	}
}

func TestIDsNeverReused(t *testing.T) {
	dir := t.TempDir()
	g := genSpec{dim: 4}
	opts := Options{Capacity: 3, SegmentBytes: MinSegmentBytes}
	q := mustOpen(t, dir, opts)
	appendN(t, q, g, 200) // many rotations and deletions
	if err := q.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q = mustOpen(t, dir, opts)
	if got := q.Stats().NextID; got != 201 {
		t.Fatalf("next id after reopen %d, want 201", got)
	}
}

func TestDiskUseStaysBounded(t *testing.T) {
	dir := t.TempDir()
	g := genSpec{dim: 16, thumb: 200}
	opts := Options{Capacity: 100, SegmentBytes: 16 << 10}
	q := mustOpen(t, dir, opts)
	for i := range 5000 {
		appendN(t, q, g, 1)
		if i%50 == 0 { // relabelling adds records that do not add entries
			for id := q.Stats().NextID - 50; id < q.Stats().NextID; id++ {
				_ = q.SetLabel(id, genLabel(id+uint64(i)))
			}
		}
		st := q.Stats()
		limit := int64(DefaultCompactRatio*float64(st.LiveBytes)) + 3*opts.SegmentBytes
		if st.DiskBytes > limit {
			t.Fatalf("after %d appends: %d bytes on disk, live %d, limit %d", i+1, st.DiskBytes, st.LiveBytes, limit)
		}
	}
	var onDisk int64
	for _, p := range segmentFiles(t, dir) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		onDisk += fi.Size()
	}
	if st := q.Stats(); onDisk != st.DiskBytes {
		t.Fatalf("files hold %d bytes, Stats says %d", onDisk, st.DiskBytes)
	}
}

func TestCompactKeepsEntriesAndThumbnails(t *testing.T) {
	dir := t.TempDir()
	g := genSpec{dim: 8, thumb: 400}
	opts := Options{Capacity: 40, SegmentBytes: 4 << 10, CompactRatio: -1}
	q := mustOpen(t, dir, opts)
	appendN(t, q, g, 100)
	for id := uint64(61); id <= 100; id += 2 {
		if err := q.SetLabel(id, genLabel(id)); err != nil {
			t.Fatal(err)
		}
	}
	before := q.Stats()
	if err := q.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := q.Stats()
	if after.Segments != 1 || after.DiskBytes >= before.DiskBytes {
		t.Fatalf("after compaction: %d segments, %d bytes (before %d)", after.Segments, after.DiskBytes, before.DiskBytes)
	}
	check := func(q *Queue) {
		t.Helper()
		for id := uint64(61); id <= 100; id++ {
			e, err := q.Get(id)
			if err != nil {
				t.Fatal(err)
			}
			label := ""
			if id%2 == 1 {
				label = genLabel(id)
			}
			checkEntry(t, g, e, id, label)
			checkThumb(t, q, g, id)
		}
	}
	check(q)
	appendN(t, q, g, 5) // appends continue in the snapshot segment
	q.Close()
	q = mustOpen(t, dir, opts)
	if got := ids(t, q); !slices.Equal(got, idRange(66, 105)) {
		t.Fatalf("ids after reopen %v", got)
	}
	for id := uint64(66); id <= 105; id++ {
		checkThumb(t, q, g, id)
	}

	// A cancelled compaction changes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Compact(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Compact: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*"+tmpExt)); len(m) != 0 {
		t.Fatalf("cancelled compaction left %v", m)
	}
	checkThumb(t, q, g, 70)
}

func TestMatrixViewIsImmutable(t *testing.T) {
	g := genSpec{dim: 8}
	q := mustOpen(t, t.TempDir(), Options{Capacity: 20})
	model := g.gen(1).Model
	empty, err := q.Vectors(model)
	if err != nil || empty.Len() != 0 || empty.Tensor() != nil {
		t.Fatalf("empty matrix: %+v, %v", empty, err)
	}
	appendN(t, q, g, 30)
	m, err := q.Vectors(model)
	if err != nil {
		t.Fatal(err)
	}
	data, idsBefore := slices.Clone(m.Data), slices.Clone(m.IDs)
	if m.Len() != 20 || m.Dim != 8 || !m.TimesSorted {
		t.Fatalf("matrix: %d rows, dim %d, sorted %v", m.Len(), m.Dim, m.TimesSorted)
	}
	for i, id := range m.IDs {
		e, _ := q.Get(id)
		if !slices.Equal(e.Vector, m.Row(i)) {
			t.Fatalf("row %d differs from entry %d", i, id)
		}
		if r, ok := m.RowOf(id); !ok || r != i {
			t.Fatalf("RowOf(%d) = %d, %v", id, r, ok)
		}
		if m.SourceNames[m.Sources[i]] != e.Source || m.Times[i] != e.Time.UnixNano() {
			t.Fatalf("row %d metadata differs", i)
		}
	}
	appendN(t, q, g, 500) // evicts, grows and reallocates the buffers
	if !slices.Equal(m.Data, data) || !slices.Equal(m.IDs, idsBefore) {
		t.Fatal("an old matrix view changed after appends")
	}
	if tn := m.Tensor(); tn == nil || tn.Shape()[0] != 20 || tn.Shape()[1] != 8 {
		t.Fatalf("Tensor shape %v", tn.Shape())
	}
	lo, hi := m.TimeRows(m.Times[5], m.Times[9])
	if lo != 5 || hi != 9 {
		t.Fatalf("TimeRows = %d, %d; want 5, 9", lo, hi)
	}
	// An out-of-order time clears TimesSorted until it is evicted.
	e := g.gen(1)
	e.Time = testTime0()
	if _, err := q.Append(e); err != nil {
		t.Fatal(err)
	}
	if m, _ := q.Vectors(model); m.TimesSorted {
		t.Fatal("TimesSorted with a time going backwards")
	}
	appendN(t, q, g, 20)
	if m, _ := q.Vectors(model); !m.TimesSorted {
		t.Fatal("TimesSorted stays false after the out-of-order entry was evicted")
	}
}

func TestModels(t *testing.T) {
	q := mustOpen(t, t.TempDir(), Options{Capacity: 10})
	appendN(t, q, genSpec{dim: 4, model: testModel(1)}, 3)
	appendN(t, q, genSpec{dim: 6, model: testModel(2)}, 2)
	want := []ModelInfo{{testModel(1), 4, 3}, {testModel(2), 6, 2}}
	if got := q.Models(); !slices.Equal(got, want) {
		t.Fatalf("Models %v, want %v", got, want)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	q := mustOpen(t, dir, Options{Capacity: 1})
	if _, err := Open(dir, Options{Capacity: 1}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	q.Close()
	q2 := mustOpen(t, dir, Options{Capacity: 1})
	q2.Close()
}

func TestClosedQueue(t *testing.T) {
	g := genSpec{dim: 4}
	q := mustOpen(t, t.TempDir(), Options{Capacity: 5})
	appendN(t, q, g, 1)
	q.Close()
	calls := map[string]func() error{
		"Append":     func() error { _, err := q.Append(g.gen(2)); return err },
		"SetLabel":   func() error { return q.SetLabel(1, "x") },
		"Sync":       q.Sync,
		"Compact":    func() error { return q.Compact(context.Background()) },
		"Get":        func() error { _, err := q.Get(1); return err },
		"Thumbnail":  func() error { _, err := q.Thumbnail(1); return err },
		"Vectors":    func() error { _, err := q.Vectors(testModel(7)); return err },
		"ForEach":    func() error { return q.ForEach(context.Background(), func(Entry) error { return nil }) },
		"LabeledIDs": func() error { _, err := q.LabeledIDs("x"); return err },
		"Labels":     func() error { _, err := q.Labels([]uint64{1}); return err },
		"Close":      q.Close,
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{Capacity: 1}, true},
		{"no capacity", Options{}, false},
		{"negative capacity", Options{Capacity: -1}, false},
		{"tiny segments", Options{Capacity: 1, SegmentBytes: 100}, false},
		{"huge thumbnails", Options{Capacity: 1, MaxThumbnailBytes: 1 << 30}, false},
		{"huge dim", Options{Capacity: 1, MaxDim: 1 << 20}, false},
		{"compact ratio too small", Options{Capacity: 1, CompactRatio: 1.1}, false},
		{"compaction off", Options{Capacity: 1, CompactRatio: -1}, true},
		{"sync off", Options{Capacity: 1, SyncEvery: -1, SyncInterval: -1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Open(t.TempDir(), tc.opts)
			if tc.ok != (err == nil) {
				t.Fatalf("Open: %v", err)
			}
			if err == nil {
				q.Close()
			} else if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("error %v does not wrap ErrInvalidOptions", err)
			}
		})
	}
}

func TestParseModelID(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		in string
		ok bool
	}{
		{hex, true},
		{strings.ToUpper(hex), true},
		{hex[:63], false},
		{hex + "00", false},
		{strings.Repeat("zz", 32), false},
		{"", false},
	}
	for _, tc := range tests {
		m, err := ParseModelID(tc.in)
		if tc.ok != (err == nil) {
			t.Fatalf("ParseModelID(%q): %v", tc.in, err)
		}
		if tc.ok && m.String() != strings.ToLower(tc.in) {
			t.Fatalf("round trip %q -> %q", tc.in, m.String())
		}
	}
}

func TestForEachStopsOnErrorAndContext(t *testing.T) {
	q := mustOpen(t, t.TempDir(), Options{Capacity: 5000})
	appendN(t, q, genSpec{dim: 4}, 3000)
	stop := errors.New("stop")
	n := 0
	err := q.ForEach(context.Background(), func(e Entry) error {
		n++
		if e.ID == 1500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 1500 {
		t.Fatalf("ForEach: %v after %d", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = q.ForEach(ctx, func(e Entry) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > forEachPage {
		t.Fatalf("cancelled ForEach: %v after %d", err, n)
	}
	// Writes from inside fn do not deadlock.
	err = q.ForEach(context.Background(), func(e Entry) error {
		if e.ID%500 == 0 {
			return q.SetLabel(e.ID, "x")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSyncInterval(t *testing.T) {
	q := mustOpen(t, t.TempDir(), Options{Capacity: 5, SyncEvery: -1, SyncInterval: 20 * time.Millisecond})
	appendN(t, q, genSpec{dim: 4}, 1)
	before := q.Stats().LastSync
	deadline := time.Now().Add(5 * time.Second)
	for q.Stats().LastSync.Equal(before) {
		if time.Now().After(deadline) {
			t.Fatal("the sync timer never synced")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
