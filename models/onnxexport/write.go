package onnxexport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/mocoedge/mocoedge/models/internal/atomicfile"
)

// Marshal serialises m deterministically: the same model gives the same
// bytes, so the same weights give the same hash.
func Marshal(m *onnx.ModelProto) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx export: marshal: %w", err)
	}
	return b, nil
}

// WriteFile serialises m to path atomically (a reader never sees a partial
// file, and a failure leaves none behind) and returns the hex SHA-256 of
// the bytes written, the value the manifest records.
func WriteFile(path string, m *onnx.ModelProto) (string, error) {
	b, err := Marshal(m)
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteBytes(path, 0o644, b); err != nil {
		return "", fmt.Errorf("onnx export: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
