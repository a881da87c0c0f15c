package retrieval

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/blas/blastest"
	"gorgonia.org/tensor"
)

// testT0 is the time of the first generated entry.
func testT0() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

// fixture is a queue with generated entries and what was put in.
type fixture struct {
	q       *keyqueue.Queue
	model   keyqueue.ModelID
	dim     int
	entries []keyqueue.Entry // the queue's entries, read once
}

// newFixture appends n Gaussian entries of dimension dim: sources cycle
// through cam0..cam2, every 4th entry is labelled "car" and every 7th
// "person"; times step by one second, or are shuffled when unsorted.
func newFixture(t testing.TB, n, dim int, unsorted bool) fixture {
	t.Helper()
	q, err := keyqueue.Open(t.TempDir(), keyqueue.Options{Capacity: n + 1, SyncEvery: -1, SyncInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	rng := rand.New(rand.NewPCG(1, uint64(n*dim)))
	model := keyqueue.ModelID{1, 2, 3}
	perm := rng.Perm(n)
	for i := range n {
		v := randomVectors(rng, 1, dim)
		ts := i
		if unsorted {
			ts = perm[i]
		}
		e := keyqueue.Entry{
			Time:   testT0().Add(time.Duration(ts) * time.Second),
			Source: []string{"cam0", "cam1", "cam2"}[i%3],
			Model:  model,
			Vector: v,
		}
		switch {
		case i%4 == 0:
			e.Label = "car"
		case i%7 == 0:
			e.Label = "person"
		}
		if _, err := q.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	// Another model's vectors must never show up.
	other := keyqueue.Entry{Source: "cam0", Model: keyqueue.ModelID{9}, Vector: randomVectors(rng, 1, dim+1)}
	if _, err := q.Append(other); err != nil {
		t.Fatal(err)
	}
	entries, err := q.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fixture{q: q, model: model, dim: dim, entries: entries}
}

// reference ranks all entries of the fixture in float64 against query,
// applying f, best first (ties: higher id first).
func (fx fixture) reference(t testing.TB, query []float32, f Filter) []Result {
	t.Helper()
	var qn float64
	for _, x := range query {
		qn += float64(x) * float64(x)
	}
	qn = math.Sqrt(qn)
	var out []Result
	for _, e := range fx.entries {
		if e.Model != fx.model || !passes(e, f) {
			continue
		}
		var dot, en float64
		for i, x := range e.Vector {
			dot += float64(x) * float64(query[i])
			en += float64(x) * float64(x)
		}
		out = append(out, Result{ID: e.ID, Score: float32(dot / qn / math.Sqrt(en)), Time: e.Time, Source: e.Source, Label: e.Label})
	}
	slices.SortFunc(out, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

// passes applies a filter the slow way.
func passes(e keyqueue.Entry, f Filter) bool {
	if len(f.Sources) > 0 && !slices.Contains(f.Sources, e.Source) {
		return false
	}
	if len(f.Labels) > 0 && !slices.Contains(f.Labels, e.Label) {
		return false
	}
	if !f.From.IsZero() && e.Time.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !e.Time.Before(f.To) {
		return false
	}
	return true
}

// checkAgainst fails t unless got is the top len(got) of ref: same scores
// rank by rank within tol, every id's score right, and the same ids except
// where near-ties may swap them.
func checkAgainst(t testing.TB, got, ref []Result, k int) {
	t.Helper()
	const tol = 1e-5
	if len(got) != min(k, len(ref)) {
		t.Fatalf("%d results, want %d", len(got), min(k, len(ref)))
	}
	byID := map[uint64]Result{}
	for _, r := range ref {
		byID[r.ID] = r
	}
	for i, g := range got {
		want, ok := byID[g.ID]
		if !ok {
			t.Fatalf("result %d: id %d does not pass the filter", i, g.ID)
		}
		if math.Abs(float64(g.Score-want.Score)) > tol || math.Abs(float64(g.Score-ref[i].Score)) > tol {
			t.Fatalf("result %d: id %d score %v; its reference score %v, rank %d's %v", i, g.ID, g.Score, want.Score, i, ref[i].Score)
		}
		if g.ID != ref[i].ID && math.Abs(float64(want.Score-ref[i].Score)) > tol {
			t.Fatalf("result %d: id %d, want %d", i, g.ID, ref[i].ID)
		}
		if !g.Time.Equal(want.Time) || g.Source != want.Source || g.Label != want.Label {
			t.Fatalf("result %d: metadata %+v, want %+v", i, g, want)
		}
		if i > 0 && got[i-1].Score < g.Score {
			t.Fatalf("results not sorted at %d", i)
		}
	}
}

func TestSearchMatchesFloat64Reference(t *testing.T) {
	for _, unsorted := range []bool{false, true} {
		fx := newFixture(t, 3000, 48, unsorted)
		rng := rand.New(rand.NewPCG(7, 7))
		t0 := testT0()
		filters := []struct {
			name string
			f    Filter
		}{
			{"none", Filter{}},
			{"one source", Filter{Sources: []string{"cam1"}}},
			{"two sources", Filter{Sources: []string{"cam0", "cam2"}}},
			{"unknown source", Filter{Sources: []string{"nope"}}},
			{"label", Filter{Labels: []string{"person"}}},
			{"two labels", Filter{Labels: []string{"person", "car"}}},
			{"unknown label", Filter{Labels: []string{"boat"}}},
			{"from", Filter{From: t0.Add(2500 * time.Second)}},
			{"to", Filter{To: t0.Add(100 * time.Second)}},
			{"window", Filter{From: t0.Add(1000 * time.Second), To: t0.Add(1500 * time.Second)}},
			{"empty window", Filter{From: t0.Add(10 * time.Second), To: t0.Add(10 * time.Second)}},
			{"all filters", Filter{Sources: []string{"cam0"}, Labels: []string{"car"}, From: t0.Add(500 * time.Second), To: t0.Add(2500 * time.Second)}},
		}
		for gname, g := range blastest.Backends(t) {
			s, err := New(fx.q, g)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range filters {
				for _, k := range []int{1, 5, 50} {
					query := randomVectors(rng, 1, fx.dim)
					got, err := s.Search(context.Background(), fx.model, query, k, tc.f)
					if err != nil {
						t.Fatalf("%s/%s/k=%d: %v", gname, tc.name, k, err)
					}
					checkAgainst(t, got, fx.reference(t, query, tc.f), k)
				}
			}
		}
	}
}

func TestSearchBatchEqualsSingleSearches(t *testing.T) {
	fx := newFixture(t, 12000, 16, false)
	rng := rand.New(rand.NewPCG(3, 3))
	for gname, g := range blastest.Backends(t) {
		s, _ := New(fx.q, g)
		for _, m := range []int{1, 3, 200} { // 200 queries multiply in several row blocks
			qs := randomVectors(rng, m, fx.dim)
			batch, err := s.SearchBatch(context.Background(), fx.model, tensor.New(tensor.WithShape(m, fx.dim), tensor.WithBacking(qs)), 7, Filter{Sources: []string{"cam2"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(batch) != m {
				t.Fatalf("%d result lists for %d queries", len(batch), m)
			}
			for i := range m {
				single, err := s.Search(context.Background(), fx.model, qs[i*fx.dim:(i+1)*fx.dim], 7, Filter{Sources: []string{"cam2"}})
				if err != nil {
					t.Fatal(err)
				}
				ref := fx.reference(t, qs[i*fx.dim:(i+1)*fx.dim], Filter{Sources: []string{"cam2"}})
				checkAgainst(t, batch[i], ref, 7)
				checkAgainst(t, single, ref, 7)
				if gname == "gonum/gonum" && !slices.EqualFunc(single, batch[i], func(a, b Result) bool { return a.ID == b.ID }) {
					t.Fatalf("query %d: batch ids differ from a single search", i)
				}
			}
		}
	}
	// A view (a slice of a bigger tensor) and a 1-D tensor work too.
	s, _ := New(fx.q, blas.Gonum{})
	big := tensor.New(tensor.WithShape(4, fx.dim), tensor.WithBacking(randomVectors(rng, 4, fx.dim)))
	view, err := big.Slice(tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.SearchBatch(context.Background(), fx.model, view.(*tensor.Dense), 3, Filter{})
	if err != nil || len(res) != 2 {
		t.Fatalf("view: %d lists, %v", len(res), err)
	}
	row2 := big.Data().([]float32)[2*fx.dim : 3*fx.dim]
	checkAgainst(t, res[1], fx.reference(t, row2, Filter{}), 3)
	one := tensor.New(tensor.WithShape(fx.dim), tensor.WithBacking(slices.Clone(row2)))
	if res, err := s.SearchBatch(context.Background(), fx.model, one, 3, Filter{}); err != nil || len(res) != 1 {
		t.Fatalf("1-D query: %v", err)
	}
}

func TestTiesRankNewestFirst(t *testing.T) {
	q, err := keyqueue.Open(t.TempDir(), keyqueue.Options{Capacity: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	model := keyqueue.ModelID{5}
	// One-hot vectors: every score is exactly 0 or 1, whatever the
	// summation order of the backend.
	for i := range 20 {
		v := make([]float32, 8)
		v[i%4] = 2
		if _, err := q.Append(keyqueue.Entry{Source: "cam", Model: model, Vector: v}); err != nil {
			t.Fatal(err)
		}
	}
	query := []float32{0, 0, 3, 0} // matches ids 3, 7, 11, 15, 19 with score 1
	query = append(query, 0, 0, 0, 0)
	for gname, g := range blastest.Backends(t) {
		s, _ := New(q, g)
		tests := []struct {
			k    int
			want []uint64
		}{
			{1, []uint64{19}},
			{3, []uint64{19, 15, 11}},
			{5, []uint64{19, 15, 11, 7, 3}},
			{6, []uint64{19, 15, 11, 7, 3, 20}}, // then the score-0 entries, newest first
		}
		for _, tc := range tests {
			res, err := s.Search(context.Background(), model, query, tc.k, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, r := range res {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("%s k=%d: ids %v, want %v", gname, tc.k, ids, tc.want)
			}
		}
	}
}

func TestKLargerThanQueueAndEmptyQueue(t *testing.T) {
	fx := newFixture(t, 10, 8, false)
	s, _ := New(fx.q, blas.Gonum{})
	query := randomVectors(rand.New(rand.NewPCG(1, 1)), 1, 8)
	res, err := s.Search(context.Background(), fx.model, query, 1000, Filter{})
	if err != nil || len(res) != 10 {
		t.Fatalf("k > queue: %d results, %v", len(res), err)
	}
	checkAgainst(t, res, fx.reference(t, query, Filter{}), 1000)

	res, err = s.Search(context.Background(), keyqueue.ModelID{42}, query, 5, Filter{})
	if err != nil || len(res) != 0 {
		t.Fatalf("model without entries: %v, %v", res, err)
	}
	empty := newFixture(t, 0, 8, false)
	s, _ = New(empty.q, blas.Gonum{})
	res, err = s.Search(context.Background(), empty.model, query, 5, Filter{})
	if err != nil || len(res) != 0 {
		t.Fatalf("empty queue: %v, %v", res, err)
	}
}

func TestInvalidQueries(t *testing.T) {
	fx := newFixture(t, 50, 8, false)
	s, _ := New(fx.q, blas.Gonum{})
	good := randomVectors(rand.New(rand.NewPCG(2, 2)), 1, 8)
	nan := slices.Clone(good)
	nan[2] = float32(math.NaN())
	t0 := testT0()
	tests := []struct {
		name  string
		model keyqueue.ModelID
		query []float32
		k     int
		f     Filter
		want  error
	}{
		{"wrong dimension", fx.model, good[:7], 5, Filter{}, ErrDimMismatch},
		{"longer dimension", fx.model, append(slices.Clone(good), 1), 5, Filter{}, ErrDimMismatch},
		{"empty query", fx.model, nil, 5, Filter{}, ErrInvalidQuery},
		{"zero query", fx.model, make([]float32, 8), 5, Filter{}, ErrInvalidQuery},
		{"NaN", fx.model, nan, 5, Filter{}, ErrInvalidQuery},
		{"k zero", fx.model, good, 0, Filter{}, ErrInvalidQuery},
		{"no model", keyqueue.ModelID{}, good, 5, Filter{}, ErrInvalidQuery},
		{"reversed time range", fx.model, good, 5, Filter{From: t0.Add(time.Hour), To: t0}, ErrInvalidQuery},
		{"empty label", fx.model, good, 5, Filter{Labels: []string{""}}, ErrInvalidQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Search(context.Background(), tc.model, tc.query, tc.k, tc.f)
			if !errors.Is(err, tc.want) || res != nil {
				t.Fatalf("Search: %v, %v; want %v", res, err, tc.want)
			}
		})
	}
	// Batches: wrong dtype and shape.
	f64 := tensor.New(tensor.WithShape(1, 8), tensor.WithBacking(make([]float64, 8)))
	if _, err := s.SearchBatch(context.Background(), fx.model, f64, 5, Filter{}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("float64 batch: %v", err)
	}
	cube := tensor.New(tensor.WithShape(1, 2, 4), tensor.WithBacking(slices.Clone(good)))
	if _, err := s.SearchBatch(context.Background(), fx.model, cube, 5, Filter{}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("3-D batch: %v", err)
	}
	if _, err := s.SearchBatch(context.Background(), fx.model, nil, 5, Filter{}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("nil batch: %v", err)
	}
	if _, err := New(nil, blas.Gonum{}); err == nil {
		t.Fatal("New without a store")
	}
}

func TestCancelledAndClosed(t *testing.T) {
	fx := newFixture(t, 50, 8, false)
	s, _ := New(fx.q, blas.Gonum{})
	query := randomVectors(rand.New(rand.NewPCG(2, 2)), 1, 8)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Search(ctx, fx.model, query, 5, Filter{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	fx.q.Close()
	if _, err := s.Search(context.Background(), fx.model, query, 5, Filter{}); !errors.Is(err, keyqueue.ErrClosed) {
		t.Fatalf("closed queue: %v", err)
	}
}

func TestQueryIsNotModified(t *testing.T) {
	fx := newFixture(t, 50, 8, false)
	s, _ := New(fx.q, blas.Gonum{})
	query := []float32{3, 0, 0, 0, 0, 0, 0, 4}
	if _, err := s.Search(context.Background(), fx.model, query, 5, Filter{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(query, []float32{3, 0, 0, 0, 0, 0, 0, 4}) {
		t.Fatalf("query modified: %v", query)
	}
}

func TestTopKHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, k := range []int{1, 2, 5, 64} {
		h := newTopK(k, 1000)
		var all []hit
		for i := range 1000 {
			x := hit{score: float32(rng.IntN(50)), id: uint64(i + 1), row: i}
			all = append(all, x)
			if h.admits(x.score, x.id) {
				h.push(x)
			}
		}
		slices.SortFunc(all, func(a, b hit) int {
			if worse(a, b) {
				return 1
			}
			if worse(b, a) {
				return -1
			}
			return 0
		})
		if got := h.sorted(); !slices.Equal(got, all[:k]) {
			t.Fatalf("k=%d: %v, want %v", k, got, all[:k])
		}
	}
}
