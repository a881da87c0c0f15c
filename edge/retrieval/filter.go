package retrieval

import (
	"fmt"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
)

// Filter restricts which entries a search may return. The zero Filter
// allows every entry of the model.
type Filter struct {
	// Sources allows only entries from these sources (any of them).
	Sources []string
	// Labels allows only entries carrying one of these labels.
	Labels []string
	// From and To allow only entries with From <= time < To; a zero bound
	// is open.
	From, To time.Time
}

// validate checks the filter on its own.
func (f Filter) validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return fmt.Errorf("%w: time range ends (%v) before it starts (%v)", ErrInvalidQuery, f.To, f.From)
	}
	for _, l := range f.Labels {
		if l == "" {
			return fmt.Errorf("%w: empty label in the label filter", ErrInvalidQuery)
		}
	}
	return nil
}

// selection is a Filter compiled against one Matrix: rows [lo, hi) are
// multiplied, and ok decides on each candidate among them.
type selection struct {
	lo, hi  int
	sources []bool   // allowed source indexes; nil allows all
	rows    []uint64 // bitset of allowed rows (label filter); nil allows all
	timeLo  int64    // time bounds checked per row when times are unsorted
	timeHi  int64
	perRow  bool // check time per row
}

// empty reports whether nothing can match.
func (s *selection) empty() bool { return s.lo >= s.hi }

// ok reports whether row r passes the filters that are checked per row.
func (s *selection) ok(m *keyqueue.Matrix, r int) bool {
	if s.sources != nil && !s.sources[m.Sources[r]] {
		return false
	}
	if s.rows != nil && s.rows[r>>6]&(1<<(r&63)) == 0 {
		return false
	}
	if s.perRow && (m.Times[r] < s.timeLo || m.Times[r] >= s.timeHi) {
		return false
	}
	return true
}

// compile turns f into a selection over m; labeled returns the ids with a
// label.
func compile(m *keyqueue.Matrix, f Filter, labeled func(string) ([]uint64, error)) (selection, error) {
	sel := selection{lo: 0, hi: m.Len()}
	if !f.From.IsZero() || !f.To.IsZero() {
		from, to := int64(-1<<63), int64(1<<63-1)
		if !f.From.IsZero() {
			from = f.From.UnixNano()
		}
		if !f.To.IsZero() {
			to = f.To.UnixNano()
		}
		if m.TimesSorted {
			sel.lo, sel.hi = m.TimeRows(from, to)
		} else {
			sel.perRow, sel.timeLo, sel.timeHi = true, from, to
		}
	}
	if len(f.Sources) > 0 {
		sel.sources = make([]bool, len(m.SourceNames))
		found := false
		for i, name := range m.SourceNames {
			for _, want := range f.Sources {
				if name == want {
					sel.sources[i], found = true, true
				}
			}
		}
		if !found {
			sel.hi = sel.lo
		}
	}
	if len(f.Labels) > 0 && !sel.empty() {
		sel.rows = make([]uint64, (m.Len()+63)/64)
		lo, hi := m.Len(), 0
		for _, label := range f.Labels {
			ids, err := labeled(label)
			if err != nil {
				return sel, fmt.Errorf("retrieval: entries labelled %q: %w", label, err)
			}
			for _, id := range ids {
				if r, ok := m.RowOf(id); ok && r >= sel.lo && r < sel.hi {
					sel.rows[r>>6] |= 1 << (r & 63)
					lo, hi = min(lo, r), max(hi, r+1)
				}
			}
		}
		// Only the span of labelled rows needs multiplying.
		sel.lo, sel.hi = lo, hi
	}
	return sel, nil
}
