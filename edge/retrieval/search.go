package retrieval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/internal/blas"
	"gorgonia.org/tensor"
)

// blockFloats bounds the score buffer of one multiply (4 MiB): a search
// multiplies blocks of rows so that queries × rows fits. A single query
// covers up to a million rows in one GEMV.
const blockFloats = 1 << 20

// Store is what a Searcher reads; *keyqueue.Queue implements it.
type Store interface {
	// Vectors returns the model's vectors as an immutable matrix.
	Vectors(model keyqueue.ModelID) (keyqueue.Matrix, error)
	// LabeledIDs returns the ids carrying label, ascending.
	LabeledIDs(label string) ([]uint64, error)
	// Labels returns the current label of each id.
	Labels(ids []uint64) ([]string, error)
}

var _ Store = (*keyqueue.Queue)(nil)

// Result is one retrieved entry; the JSON names are those of the
// events/retrieval MQTT payload.
type Result struct {
	// ID is the key queue entry id.
	ID uint64 `json:"id"`
	// Score is the cosine similarity to the query, in [-1, 1].
	Score float32 `json:"score"`
	// Time is when the entry's frame was captured.
	Time time.Time `json:"time"`
	// Source is the entry's source name.
	Source string `json:"source"`
	// Label is the entry's label, if any.
	Label string `json:"label,omitempty"`
}

// Searcher runs exact top-k cosine searches over a Store. It is safe for
// concurrent use.
type Searcher struct {
	store Store
	gemm  blas.GEMM
	pool  sync.Pool // *[]float32 score buffers
}

// New returns a Searcher over store that multiplies with gemm.
func New(store Store, gemm blas.GEMM) (*Searcher, error) {
	if store == nil || gemm == nil {
		return nil, errors.New("retrieval: New needs a store and a GEMM")
	}
	return &Searcher{store: store, gemm: gemm}, nil
}

// Search returns the k entries of model most similar to query (cosine),
// best first, that pass the filter. The query is checked and normalised (a
// copy; query is not modified). Fewer than k results come back when fewer
// entries match; none, and no error, when the model has no entries. A query
// of the wrong dimension is refused with ErrDimMismatch.
func (s *Searcher) Search(ctx context.Context, model keyqueue.ModelID, query []float32, k int, f Filter) ([]Result, error) {
	q, err := normalizedQuery(query)
	if err != nil {
		return nil, err
	}
	res, err := s.search(ctx, model, q, 1, len(query), k, f)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// SearchBatch runs Search for each row of queries (an m×D float32 tensor,
// or a D-vector for one query) with one matrix product, returning m result
// lists in row order.
func (s *Searcher) SearchBatch(ctx context.Context, model keyqueue.ModelID, queries *tensor.Dense, k int, f Filter) ([][]Result, error) {
	if queries == nil {
		return nil, fmt.Errorf("%w: no queries", ErrInvalidQuery)
	}
	if queries.IsView() {
		queries = queries.Materialize().(*tensor.Dense)
	}
	data, ok := queries.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("%w: queries are %v, want float32", ErrInvalidQuery, queries.Dtype())
	}
	var m, d int
	switch shape := queries.Shape(); len(shape) {
	case 1:
		m, d = 1, shape[0]
	case 2:
		m, d = shape[0], shape[1]
	default:
		return nil, fmt.Errorf("%w: queries have shape %v, want (m, D)", ErrInvalidQuery, shape)
	}
	q := make([]float32, 0, m*d)
	for i := range m {
		row, err := normalizedQuery(data[i*d : (i+1)*d])
		if err != nil {
			return nil, fmt.Errorf("query %d: %w", i, err)
		}
		q = append(q, row...)
	}
	return s.search(ctx, model, q, m, d, k, f)
}

// normalizedQuery returns a unit-length copy of v, refusing empty, zero and
// non-finite vectors.
func normalizedQuery(v []float32) ([]float32, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("%w: empty query vector", ErrInvalidQuery)
	}
	var ss float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%w: query element %d is %v", ErrInvalidQuery, i, x)
		}
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return nil, fmt.Errorf("%w: query vector is all zeros", ErrInvalidQuery)
	}
	inv := 1 / math.Sqrt(ss)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out, nil
}

// search ranks the model's rows against the m normalised d-dimensional
// queries in q (row-major).
func (s *Searcher) search(ctx context.Context, model keyqueue.ModelID, q []float32, m, d, k int, f Filter) ([][]Result, error) {
	if k < 1 {
		return nil, fmt.Errorf("%w: k must be at least 1, got %d", ErrInvalidQuery, k)
	}
	if model.IsZero() {
		return nil, fmt.Errorf("%w: no model sha256", ErrInvalidQuery)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mat, err := s.store.Vectors(model)
	if err != nil {
		return nil, fmt.Errorf("retrieval: vectors of model %s: %w", model, err)
	}
	out := make([][]Result, m)
	if mat.Len() == 0 {
		return out, nil
	}
	if d != mat.Dim {
		return nil, fmt.Errorf("%w: query has %d dimensions, model %s has %d", ErrDimMismatch, d, model, mat.Dim)
	}
	sel, err := compile(&mat, f, s.store.LabeledIDs)
	if err != nil {
		return nil, err
	}
	if sel.empty() {
		return out, nil
	}
	heaps := make([]topK, m)
	for i := range heaps {
		heaps[i] = newTopK(k, sel.hi-sel.lo)
	}
	block := min(sel.hi-sel.lo, max(1024, blockFloats/m))
	scores := s.scores(m * block)
	defer s.pool.Put(scores)
	for r0 := sel.lo; r0 < sel.hi; r0 += block {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(block, sel.hi-r0)
		sc := (*scores)[:m*n]
		// scores (m×n) = queries (m×d) · rows(r0..r0+n)ᵀ (n×d)
		s.gemm.Sgemm(false, true, m, n, d, 1, q, d, mat.Data[r0*d:(r0+n)*d], d, 0, sc, n)
		for i := range heaps {
			scan(&heaps[i], sc[i*n:(i+1)*n], r0, &mat, &sel)
		}
	}
	return s.results(heaps, &mat)
}

// scan offers one query's scores for rows r0.. to its top-k.
func scan(h *topK, scores []float32, r0 int, mat *keyqueue.Matrix, sel *selection) {
	ids := mat.IDs[r0 : r0+len(scores)]
	for i, score := range scores {
		if !h.admits(score, ids[i]) || !sel.ok(mat, r0+i) {
			continue
		}
		h.push(hit{score: score, id: ids[i], row: r0 + i})
	}
}

// scores returns a pooled buffer of at least n floats.
func (s *Searcher) scores(n int) *[]float32 {
	if p, ok := s.pool.Get().(*[]float32); ok && cap(*p) >= n {
		return p
	}
	b := make([]float32, n)
	return &b
}

// results turns each heap into Results, looking up the hits' labels in one
// call.
func (s *Searcher) results(heaps []topK, mat *keyqueue.Matrix) ([][]Result, error) {
	sorted := make([][]hit, len(heaps))
	var ids []uint64
	for i := range heaps {
		sorted[i] = heaps[i].sorted()
		for _, h := range sorted[i] {
			ids = append(ids, h.id)
		}
	}
	labels, err := s.store.Labels(ids)
	if err != nil {
		return nil, fmt.Errorf("retrieval: labels of the results: %w", err)
	}
	out := make([][]Result, len(heaps))
	j := 0
	for i, hits := range sorted {
		out[i] = make([]Result, len(hits))
		for n, h := range hits {
			out[i][n] = Result{
				ID:     h.id,
				Score:  h.score,
				Time:   time.Unix(0, mat.Times[h.row]),
				Source: mat.SourceNames[mat.Sources[h.row]],
				Label:  labels[j],
			}
			j++
		}
	}
	return out, nil
}
