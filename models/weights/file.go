package weights

import (
	"fmt"
	"maps"

	"github.com/mocoedge/mocoedge/models/safetensors"
)

// Save writes s alone to a safetensors file at path (atomically), with the
// architecture metadata, the "format": "pt" entry PyTorch tools look for,
// and the entries of extra (for example the training provenance keys).
func Save(path string, s *State, extra map[string]string) error {
	tensors, err := Tensors("", s)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	md := map[string]string{"format": "pt"}
	maps.Copy(md, extra)
	maps.Copy(md, Metadata("", s.Arch))
	if err := safetensors.WriteFile(path, tensors, md); err != nil {
		return fmt.Errorf("save state dict: %w", err)
	}
	return nil
}

// EncoderPrefix is where a MoCo checkpoint keeps the query encoder, the
// network that is exported and evaluated (the official code's name).
const EncoderPrefix = "encoder_q."

// Load reads a file written by Save, or the query encoder of a MoCo
// checkpoint (tensors under EncoderPrefix): the architecture comes from the
// metadata and every tensor is checked against it. It also returns the
// file's metadata.
func Load(path string) (*State, map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load state dict: %w", err)
	}
	prefix := ""
	if _, plain := f.Metadata[KeyArch]; !plain {
		if _, moco := f.Metadata[EncoderPrefix+KeyArch]; moco {
			prefix = EncoderPrefix
		}
	}
	a, err := ArchFromMetadata(f.Metadata, prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("load state dict %s: %w", path, err)
	}
	s, err := FromTensors(f, prefix, a)
	if err != nil {
		return nil, nil, fmt.Errorf("load state dict %s: %w", path, err)
	}
	return s, f.Metadata, nil
}
