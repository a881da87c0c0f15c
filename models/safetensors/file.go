package safetensors

import (
	"fmt"
	"io"
	"os"

	"github.com/mocoedge/mocoedge/models/internal/atomicfile"
)

// File is the content of a safetensors file: its metadata and its tensors
// in data order.
type File struct {
	// Metadata is the header's "__metadata__" map; nil when absent.
	Metadata map[string]string
	// Tensors are in the order of their data in the file.
	Tensors []Tensor
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// ReadFile reads and validates the safetensors file at path. The tensors'
// data share one buffer holding the whole file. Errors name path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes tensors and metadata to path atomically: a reader sees
// the old file or the complete new one, and a failed write leaves no
// partial file behind. The tensors are checked before anything is written.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	header, order, err := layout(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error { return write(w, header, order) })
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}
