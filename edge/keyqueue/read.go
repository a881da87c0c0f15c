package keyqueue

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// forEachPage is how many entries ForEach copies per read lock.
const forEachPage = 1024

// ModelInfo summarises one model's entries.
type ModelInfo struct {
	// Model is the model's sha256.
	Model ModelID
	// Dim is its vectors' dimension.
	Dim int
	// Len is how many live entries it has.
	Len int
}

// Len returns the number of entries in the queue.
func (q *Queue) Len() int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.st.len()
}

// entryOf returns sl as an Entry with a copy of its vector.
func entryOf(sl *slot, vec []float32) Entry {
	return Entry{
		ID:            sl.id,
		Time:          time.Unix(0, sl.time),
		Source:        sl.source,
		Model:         sl.model.model,
		Label:         sl.label,
		Vector:        slices.Clone(vec),
		ThumbnailSize: int(sl.thumb.n),
	}
}

// Get returns entry id (without its thumbnail; see Thumbnail), or an error
// wrapping ErrNotFound.
func (q *Queue) Get(id uint64) (Entry, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return Entry{}, ErrClosed
	}
	i := q.st.find(id)
	if i < 0 {
		return Entry{}, fmt.Errorf("%w: id %d", ErrNotFound, id)
	}
	sl := &q.st.live()[i]
	return entryOf(sl, sl.model.vector(sl.row)), nil
}

// Thumbnail reads entry id's thumbnail from disk. It returns an error
// wrapping ErrNotFound for an unknown id and ErrNoThumbnail for an entry
// stored without one.
func (q *Queue) Thumbnail(id uint64) ([]byte, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return nil, ErrClosed
	}
	i := q.st.find(id)
	if i < 0 {
		return nil, fmt.Errorf("%w: id %d", ErrNotFound, id)
	}
	loc := q.st.live()[i].thumb
	if loc.n == 0 {
		return nil, fmt.Errorf("%w: id %d", ErrNoThumbnail, id)
	}
	buf := make([]byte, loc.n)
	if _, err := q.files[loc.seq].ReadAt(buf, loc.off); err != nil {
		return nil, fmt.Errorf("keyqueue: read thumbnail of entry %d from %s at %d: %w", id, q.segPath(loc.seq), loc.off, err)
	}
	return buf, nil
}

// ForEach calls fn for every entry in FIFO order (oldest first), without
// thumbnails, until fn returns an error, which ForEach returns, or ctx is
// done. It visits the entries present when it starts that are still present
// when it reaches them; fn runs without a lock and may call other methods,
// including writes.
func (q *Queue) ForEach(ctx context.Context, fn func(Entry) error) error {
	q.mu.RLock()
	last := q.st.nextID - 1
	q.mu.RUnlock()
	page := make([]Entry, 0, forEachPage)
	for next := uint64(0); next <= last; {
		if err := ctx.Err(); err != nil {
			return err
		}
		page = page[:0]
		q.mu.RLock()
		if q.closed {
			q.mu.RUnlock()
			return ErrClosed
		}
		live := q.st.live()
		i, _ := slices.BinarySearchFunc(live, next, func(s slot, id uint64) int { return cmp.Compare(s.id, id) })
		for ; i < len(live) && live[i].id <= last && len(page) < forEachPage; i++ {
			sl := &live[i]
			page = append(page, entryOf(sl, sl.model.vector(sl.row)))
		}
		q.mu.RUnlock()
		if len(page) == 0 {
			return nil
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		next = page[len(page)-1].ID + 1
	}
	return nil
}

// Snapshot returns every entry in FIFO order, without thumbnails.
func (q *Queue) Snapshot(ctx context.Context) ([]Entry, error) {
	out := make([]Entry, 0, q.Len())
	err := q.ForEach(ctx, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Vectors returns the live vectors of model as a zero-copy, immutable
// Matrix (empty when the model has no entries). It costs a few small
// allocations, never a copy of the vectors.
func (q *Queue) Vectors(model ModelID) (Matrix, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return Matrix{}, ErrClosed
	}
	m, ok := q.st.models[model]
	if !ok {
		return Matrix{Model: model, TimesSorted: true}, nil
	}
	return m.view(q.st.sourceNames), nil
}

// Models lists the models that have entries, with their dimension and count.
func (q *Queue) Models() []ModelInfo {
	q.mu.RLock()
	defer q.mu.RUnlock()
	out := make([]ModelInfo, 0, len(q.st.models))
	for id, m := range q.st.models {
		out = append(out, ModelInfo{Model: id, Dim: m.dim, Len: m.live()})
	}
	slices.SortFunc(out, func(a, b ModelInfo) int { return slices.Compare(a.Model[:], b.Model[:]) })
	return out
}

// LabeledIDs returns the ids of the entries with label, ascending.
func (q *Queue) LabeledIDs(label string) ([]uint64, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return nil, ErrClosed
	}
	set := q.st.labels[label]
	ids := make([]uint64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// Labels returns the label of each id ("" for an unlabelled or absent one).
func (q *Queue) Labels(ids []uint64) ([]string, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return nil, ErrClosed
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if j := q.st.find(id); j >= 0 {
			out[i] = q.st.live()[j].label
		}
	}
	return out, nil
}
