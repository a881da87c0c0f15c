package keyqueue

import (
	"encoding/hex"
	"fmt"
)

// ModelID is the sha256 of a model's ONNX file, as in its manifest. Entries
// are grouped by it: retrieval only compares vectors of one model.
type ModelID [32]byte

// String returns the 64 lowercase hex digits.
func (m ModelID) String() string { return hex.EncodeToString(m[:]) }

// IsZero reports whether m is the zero id, which no entry may carry.
func (m ModelID) IsZero() bool { return m == ModelID{} }

// ParseModelID parses 64 hex digits (either case), as written in a model
// manifest's sha256 field.
func ParseModelID(s string) (ModelID, error) {
	var m ModelID
	if len(s) != 2*len(m) {
		return m, fmt.Errorf("keyqueue: model sha256 %q: want %d hex digits, got %d", s, 2*len(m), len(s))
	}
	if _, err := hex.Decode(m[:], []byte(s)); err != nil {
		return ModelID{}, fmt.Errorf("keyqueue: model sha256 %q: %w", s, err)
	}
	return m, nil
}
