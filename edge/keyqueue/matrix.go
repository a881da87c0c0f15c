package keyqueue

import (
	"sort"

	"gorgonia.org/tensor"
)

// Matrix is an immutable view of one model's live vectors in FIFO order
// (oldest first), for retrieval: row i is the vector of entry IDs[i]. The
// slices share memory with the queue and must not be modified; the queue
// never modifies the memory they refer to either, so a Matrix stays valid
// and unchanged for as long as it is held, whatever the queue does next.
type Matrix struct {
	// Model is the model the vectors belong to.
	Model ModelID
	// Dim is the vector dimension (0 when the model has no entries).
	Dim int
	// Data holds Len()×Dim float32 in row-major order, each row L2-normalised.
	Data []float32
	// IDs are the entries' ids, ascending.
	IDs []uint64
	// Times are the entries' times in Unix nanoseconds.
	Times []int64
	// Sources are indexes into SourceNames.
	Sources []uint32
	// SourceNames maps a source index to its name.
	SourceNames []string
	// TimesSorted reports whether Times is non-decreasing, so a time range is
	// a range of rows (see TimeRows).
	TimesSorted bool
}

// Len is the number of rows.
func (m Matrix) Len() int { return len(m.IDs) }

// Row returns row i's vector (shared memory, read-only).
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Dim : (i+1)*m.Dim] }

// RowOf returns the row of entry id.
func (m Matrix) RowOf(id uint64) (int, bool) {
	i := sort.Search(len(m.IDs), func(i int) bool { return m.IDs[i] >= id })
	return i, i < len(m.IDs) && m.IDs[i] == id
}

// TimeRows returns the rows [lo, hi) whose times lie in [from, to) (Unix
// nanoseconds); it requires TimesSorted.
func (m Matrix) TimeRows(from, to int64) (lo, hi int) {
	lo = sort.Search(len(m.Times), func(i int) bool { return m.Times[i] >= from })
	hi = sort.Search(len(m.Times), func(i int) bool { return m.Times[i] >= to })
	return lo, max(lo, hi)
}

// Tensor returns the vectors as a Len()×Dim *tensor.Dense backed by Data
// (no copy; read-only), or nil when the matrix is empty.
func (m Matrix) Tensor() *tensor.Dense {
	if m.Len() == 0 {
		return nil
	}
	return tensor.New(tensor.WithShape(m.Len(), m.Dim), tensor.WithBacking(m.Data))
}

// modelMatrix holds one model's vectors and per-row metadata in buffers
// that only ever grow at the tail: rows [head, tail) are live (absolute row
// numbers; buffer row = absolute row - base). Rows once written are never
// modified; when the buffer is full, a new one is allocated and the live
// rows copied, so views handed out earlier keep pointing at unchanged
// memory. Growth leaves a quarter of slack, so the copy costs O(1)
// amortised per append.
type modelMatrix struct {
	model            ModelID
	dim              int
	base, head, tail uint64
	data             []float32
	ids              []uint64
	times            []int64
	srcs             []uint32
	// descents counts live adjacent row pairs whose times decrease.
	descents int
}

// newModelMatrix returns an empty matrix for vectors of dimension dim.
func newModelMatrix(model ModelID, dim int) *modelMatrix {
	return &modelMatrix{model: model, dim: dim, base: 1, head: 1, tail: 1}
}

// live is the number of live rows.
func (m *modelMatrix) live() int { return int(m.tail - m.head) }

// push appends a row and returns its absolute number and its vector memory,
// which the caller fills before publishing the row.
func (m *modelMatrix) push(id uint64, t int64, src uint32) (uint64, []float32) {
	if int(m.tail-m.base) == len(m.ids) {
		m.grow()
	}
	i := int(m.tail - m.base)
	m.ids[i], m.times[i], m.srcs[i] = id, t, src
	if m.tail > m.head && m.times[i-1] > t {
		m.descents++
	}
	row := m.tail
	m.tail++
	return row, m.data[i*m.dim : (i+1)*m.dim]
}

// grow moves the live rows into new buffers with room to append.
func (m *modelMatrix) grow() {
	n := m.live()
	c := n + max(n/4, 64)
	data := make([]float32, c*m.dim)
	ids := make([]uint64, c)
	times := make([]int64, c)
	srcs := make([]uint32, c)
	lo, hi := int(m.head-m.base), int(m.tail-m.base)
	copy(data, m.data[lo*m.dim:hi*m.dim])
	copy(ids, m.ids[lo:hi])
	copy(times, m.times[lo:hi])
	copy(srcs, m.srcs[lo:hi])
	m.data, m.ids, m.times, m.srcs = data, ids, times, srcs
	m.base = m.head
}

// pop evicts the oldest row.
func (m *modelMatrix) pop() {
	i := int(m.head - m.base)
	if m.head+1 < m.tail && m.times[i] > m.times[i+1] {
		m.descents--
	}
	m.head++
}

// vector returns the vector of absolute row r (shared memory).
func (m *modelMatrix) vector(r uint64) []float32 {
	i := int(r - m.base)
	return m.data[i*m.dim : (i+1)*m.dim]
}

// view returns the live rows as a Matrix; names is the source name table.
func (m *modelMatrix) view(names []string) Matrix {
	lo, hi := int(m.head-m.base), int(m.tail-m.base)
	return Matrix{
		Model:       m.model,
		Dim:         m.dim,
		Data:        m.data[lo*m.dim : hi*m.dim : hi*m.dim],
		IDs:         m.ids[lo:hi:hi],
		Times:       m.times[lo:hi:hi],
		Sources:     m.srcs[lo:hi:hi],
		SourceNames: names[:len(names):len(names)],
		TimesSorted: m.descents == 0,
	}
}
