package keyqueue

import (
	"fmt"
	"sort"
)

// thumbLoc is where a thumbnail lies on disk.
type thumbLoc struct {
	seq uint64 // segment
	off int64  // byte offset in the segment file
	n   uint32 // length; 0 means no thumbnail
}

// slot is one live entry's in-memory record; its vector lives in its
// model's matrix at row.
type slot struct {
	id     uint64
	time   int64
	source string
	label  string
	model  *modelMatrix
	row    uint64
	thumb  thumbLoc
	recLen uint32 // bytes of its entry record on disk
}

// state is the queue's in-memory state: the live entries in id order, each
// model's vector matrix, and the label and source indexes.
type state struct {
	slots       []slot // live entries are slots[head:]
	head        int
	models      map[ModelID]*modelMatrix
	labels      map[string]map[uint64]struct{}
	labelNames  map[string]string
	sourceIdx   map[string]uint32
	sourceNames []string
	nextID      uint64 // id of the next Append
	floor       uint64 // entries with ids below are evicted
	newest      uint64 // id of the newest entry ever added (0 if none)
	liveBytes   int64  // bytes of the live entries' records
}

// newState returns the state of an empty queue.
func newState() state {
	return state{
		models:     make(map[ModelID]*modelMatrix),
		labels:     make(map[string]map[uint64]struct{}),
		labelNames: make(map[string]string),
		sourceIdx:  make(map[string]uint32),
		nextID:     1,
		floor:      1,
	}
}

// len is the number of live entries.
func (s *state) len() int { return len(s.slots) - s.head }

// live returns the live entries, oldest first (shared memory).
func (s *state) live() []slot { return s.slots[s.head:] }

// find returns the index of entry id in live(), or -1.
func (s *state) find(id uint64) int {
	live := s.live()
	i := sort.Search(len(live), func(i int) bool { return live[i].id >= id })
	if i < len(live) && live[i].id == id {
		return i
	}
	return -1
}

// internSource returns the shared copy of a source name and its index.
func (s *state) internSource(name string) (string, uint32) {
	if i, ok := s.sourceIdx[name]; ok {
		return s.sourceNames[i], i
	}
	i := uint32(len(s.sourceNames))
	s.sourceIdx[name] = i
	s.sourceNames = append(s.sourceNames, name)
	return name, i
}

// internLabel returns the shared copy of a label.
func (s *state) internLabel(label string) string {
	if label == "" {
		return ""
	}
	if l, ok := s.labelNames[label]; ok {
		return l
	}
	s.labelNames[label] = label
	return label
}

// checkDim returns ErrDimMismatch if model already has vectors of another
// dimension.
func (s *state) checkDim(model ModelID, dim int) error {
	if m, ok := s.models[model]; ok && m.dim != dim {
		return fmt.Errorf("%w: model %s holds %d-dimensional vectors, got %d", ErrDimMismatch, model, m.dim, dim)
	}
	return nil
}

// add appends a new entry (sl.model and sl.row are filled in) and returns
// the memory its vector must be copied into. The caller has checked the
// dimension with checkDim and that sl.id > newest.
func (s *state) add(sl slot, model ModelID, dim int) []float32 {
	m, ok := s.models[model]
	if !ok {
		m = newModelMatrix(model, dim)
		s.models[model] = m
	}
	var src uint32
	sl.source, src = s.internSource(sl.source)
	sl.label = s.internLabel(sl.label)
	sl.model = m
	var vec []float32
	sl.row, vec = m.push(sl.id, sl.time, src)
	s.slots = append(s.slots, sl)
	if sl.label != "" {
		s.indexLabel(sl.label, sl.id)
	}
	s.nextID = max(s.nextID, sl.id+1)
	s.newest = sl.id
	s.liveBytes += int64(sl.recLen)
	return vec
}

// indexLabel records that id has label.
func (s *state) indexLabel(label string, id uint64) {
	set, ok := s.labels[label]
	if !ok {
		set = make(map[uint64]struct{})
		s.labels[label] = set
	}
	set[id] = struct{}{}
}

// unindexLabel forgets that id has label.
func (s *state) unindexLabel(label string, id uint64) {
	if set, ok := s.labels[label]; ok {
		delete(set, id)
		if len(set) == 0 {
			delete(s.labels, label)
			delete(s.labelNames, label)
		}
	}
}

// setLabel changes the label of live entry i.
func (s *state) setLabel(i int, label string) {
	sl := &s.slots[s.head+i]
	if sl.label != "" {
		s.unindexLabel(sl.label, sl.id)
	}
	sl.label = s.internLabel(label)
	if label != "" {
		s.indexLabel(sl.label, sl.id)
	}
}

// floorAfterAppend is the floor that holds once one more entry is appended
// to a queue of capacity k.
func (s *state) floorAfterAppend(k int) uint64 {
	over := s.len() + 1 - k
	if over <= 0 {
		return s.floor
	}
	if over < s.len() {
		return s.live()[over].id
	}
	return s.nextID
}

// evictBelow evicts every entry whose id is below floor and raises the
// floor.
func (s *state) evictBelow(floor uint64) {
	if floor <= s.floor {
		return
	}
	s.floor = floor
	for s.head < len(s.slots) && s.slots[s.head].id < floor {
		sl := &s.slots[s.head]
		sl.model.pop()
		if sl.model.live() == 0 {
			delete(s.models, sl.model.model)
		}
		if sl.label != "" {
			s.unindexLabel(sl.label, sl.id)
		}
		s.liveBytes -= int64(sl.recLen)
		*sl = slot{}
		s.head++
	}
	if s.head >= 1024 && 2*s.head >= len(s.slots) {
		n := copy(s.slots, s.slots[s.head:])
		clear(s.slots[n:])
		s.slots = s.slots[:n]
		s.head = 0
	}
	if s.nextID < floor {
		s.nextID = floor
	}
}
