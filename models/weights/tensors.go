package weights

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/safetensors"
)

// Tensors returns s's state dict as safetensors tensors named prefix plus
// the torchvision name, in state_dict order: F32 parameters and running
// statistics, and an I64 scalar num_batches_tracked per batch norm.
func Tensors(prefix string, s *State) ([]safetensors.Tensor, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	slots, _, _ := Layout(s.Arch)
	out := make([]safetensors.Tensor, 0, len(slots))
	for _, sl := range slots {
		name := prefix + sl.Name
		switch {
		case sl.Kind == models.NumBatchesTracked:
			out = append(out, safetensors.NewI64(name, sl.Shape, []int64{s.BatchesTracked}))
		case sl.Trainable():
			out = append(out, safetensors.NewF32(name, sl.Shape, s.Params[sl.Offset:sl.Offset+sl.Size()]))
		default:
			out = append(out, safetensors.NewF32(name, sl.Shape, s.Stats[sl.Offset:sl.Offset+sl.Size()]))
		}
	}
	return out, nil
}

// maxListed bounds how many problems a mismatch error spells out.
const maxListed = 3

// FromTensors reads the state dict of architecture a stored under prefix in
// f. Every tensor of a must be present with its exact shape, and no other
// tensor may start with prefix (with an empty prefix: no other tensor at
// all). Floating-point tensors may be F32 or F64; num_batches_tracked must
// be I64 and is taken from the first batch norm. A mismatch gives an error
// wrapping ErrMismatch that names the tensors, e.g. "layer1.0.conv1.weight:
// shape [16 16 3 3] in file, [32 32 3 3] for resnet18-cifar x0.5".
func FromTensors(f *safetensors.File, prefix string, a *models.Arch) (*State, error) {
	s := New(a)
	slots, _, _ := Layout(a)
	var problems []string
	expected := make(map[string]bool, len(slots))
	tracked := false
	for _, sl := range slots {
		name := prefix + sl.Name
		expected[name] = true
		t, ok := f.Tensor(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: missing in file, %s has it", name, Describe(a)))
			continue
		}
		if !slices.Equal(t.Shape, sl.Shape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v in file, %v for %s", name, t.Shape, sl.Shape, Describe(a)))
			continue
		}
		if sl.Kind == models.NumBatchesTracked {
			v, err := t.Int64s()
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if !tracked {
				s.BatchesTracked, tracked = v[0], true
			}
			continue
		}
		v, err := t.Float32s()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		dst := s.Stats
		if sl.Trainable() {
			dst = s.Params
		}
		copy(dst[sl.Offset:sl.Offset+sl.Size()], v)
	}
	for _, t := range f.Tensors {
		if strings.HasPrefix(t.Name, prefix) && !expected[t.Name] {
			problems = append(problems, fmt.Sprintf("%s: in file, not in %s", t.Name, Describe(a)))
		}
	}
	if len(problems) > 0 {
		msg := strings.Join(problems[:min(len(problems), maxListed)], "; ")
		if extra := len(problems) - maxListed; extra > 0 {
			msg += fmt.Sprintf("; and %d more", extra)
		}
		return nil, fmt.Errorf("%w: %s", ErrMismatch, msg)
	}
	return s, nil
}
