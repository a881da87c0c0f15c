package weights

import (
	"fmt"

	"github.com/mocoedge/mocoedge/models"
)

// State is a network's state dict in host memory, in the training engine's
// flat layout.
type State struct {
	// Arch is the architecture the tensors belong to.
	Arch *models.Arch
	// Params holds every trainable tensor back to back, in Arch.StateDict() order.
	Params []float32
	// Stats holds every batch-norm running mean and running variance back
	// to back, in Arch.StateDict() order.
	Stats []float32
	// BatchesTracked is torchvision's num_batches_tracked, the same for
	// every batch-norm layer.
	BatchesTracked int64
}

// Slot locates one tensor of the state dict inside State.Params or State.Stats.
type Slot struct {
	models.Param
	// Offset is the element offset in Params (trainable tensors) or Stats
	// (running statistics); -1 for num_batches_tracked, which lives in
	// State.BatchesTracked.
	Offset int
}

// Layout returns every tensor of a's state dict with its place in a State,
// in state_dict order, and the lengths of Params and Stats.
func Layout(a *models.Arch) (slots []Slot, params, stats int) {
	for _, p := range a.StateDict() {
		switch p.Kind {
		case models.Weight, models.Bias:
			slots = append(slots, Slot{p, params})
			params += p.Size()
		case models.RunningMean, models.RunningVar:
			slots = append(slots, Slot{p, stats})
			stats += p.Size()
		default:
			slots = append(slots, Slot{p, -1})
		}
	}
	return slots, params, stats
}

// New returns a State for a with zero parameters, running means 0 and
// running variances 1 (a fresh batch norm's statistics).
func New(a *models.Arch) *State {
	slots, np, ns := Layout(a)
	s := &State{Arch: a, Params: make([]float32, np), Stats: make([]float32, ns)}
	for _, sl := range slots {
		if sl.Kind == models.RunningVar {
			for i := range sl.Size() {
				s.Stats[sl.Offset+i] = 1
			}
		}
	}
	return s
}

// Check returns an error wrapping ErrLayout when Params or Stats do not
// have the lengths s.Arch needs.
func (s *State) Check() error {
	if s.Arch == nil {
		return fmt.Errorf("%w: no architecture", ErrLayout)
	}
	_, np, ns := Layout(s.Arch)
	if len(s.Params) != np || len(s.Stats) != ns {
		return fmt.Errorf("%w: %d parameters and %d statistics, %s needs %d and %d",
			ErrLayout, len(s.Params), len(s.Stats), Describe(s.Arch), np, ns)
	}
	return nil
}

// Lookup returns the elements of the tensor called name (a torchvision
// name without prefix) as a view into Params or Stats. It is false for an
// unknown name and for num_batches_tracked.
func (s *State) Lookup(name string) ([]float32, bool) {
	slots, _, _ := Layout(s.Arch)
	for _, sl := range slots {
		if sl.Name != name {
			continue
		}
		switch {
		case sl.Trainable() && sl.Offset+sl.Size() <= len(s.Params):
			return s.Params[sl.Offset : sl.Offset+sl.Size()], true
		case sl.Offset >= 0 && !sl.Trainable() && sl.Offset+sl.Size() <= len(s.Stats):
			return s.Stats[sl.Offset : sl.Offset+sl.Size()], true
		}
		return nil, false
	}
	return nil, false
}

// Backbone returns a copy of s without its head: the state of the same
// architecture with no layer after pooling.
func (s *State) Backbone() (*State, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	a, err := models.New(s.Arch.Name, s.Arch.Width, 0)
	if err != nil {
		return nil, fmt.Errorf("backbone of %s: %w", Describe(s.Arch), err)
	}
	out := New(a)
	out.BatchesTracked = s.BatchesTracked
	slots, _, _ := Layout(a)
	for _, sl := range slots {
		if sl.Offset < 0 {
			continue
		}
		src, _ := s.Lookup(sl.Name)
		dst, _ := out.Lookup(sl.Name)
		copy(dst, src)
	}
	return out, nil
}
