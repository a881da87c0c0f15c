package engine

import (
	"fmt"

	"github.com/mocoedge/mocoedge/models/weights"
)

// StateOf copies a float32 network's state dict (parameters, running
// statistics, num_batches_tracked) to host memory, in the layout that
// models/weights reads and writes.
func StateOf(n *Net[float32]) *weights.State {
	s := &weights.State{Arch: n.Arch, Params: make([]float32, n.Params.Len()),
		Stats: make([]float32, n.Stats.Len()), BatchesTracked: n.BatchesTracked}
	n.be.Download(s.Params, n.Params)
	n.be.Download(s.Stats, n.Stats)
	return s
}

// SetState loads a host state dict into a float32 network of the same
// architecture.
func SetState(n *Net[float32], s *weights.State) error {
	if err := s.Check(); err != nil {
		return err
	}
	if len(s.Params) != n.Params.Len() || len(s.Stats) != n.Stats.Len() {
		return fmt.Errorf("state of %s does not fit the network %s", weights.Describe(s.Arch), weights.Describe(n.Arch))
	}
	n.be.Upload(n.Params, s.Params)
	n.be.Upload(n.Stats, s.Stats)
	n.BatchesTracked = s.BatchesTracked
	return nil
}
