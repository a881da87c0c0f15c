package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// metadataKey is the header entry that holds the free-form string metadata.
const metadataKey = "__metadata__"

// Encode writes tensors and metadata (which may be nil) in the safetensors
// format. The tensors are checked first; nothing is written when one is
// malformed (unknown dtype, data not matching its shape, a duplicate or
// reserved name).
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := layout(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return write(w, header, order)
}

// layout checks the tensors, orders them as the reference implementation
// does (dtype alignment descending, then name) and returns the padded
// header with its 8-byte length prefix.
func layout(tensors []Tensor, metadata map[string]string) ([]byte, []Tensor, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if t.Name == "" || t.Name == metadataKey {
			return nil, nil, fmt.Errorf("%w: tensor name %q is not allowed", ErrInvalid, t.Name)
		}
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("%w: tensor %q appears twice", ErrInvalid, t.Name)
		}
		seen[t.Name] = true
		if err := t.check(); err != nil {
			return nil, nil, err
		}
	}
	order := slices.Clone(tensors)
	slices.SortStableFunc(order, func(a, b Tensor) int {
		return cmp.Or(cmp.Compare(b.DType.rank(), a.DType.rank()), cmp.Compare(a.Name, b.Name))
	})

	var h bytes.Buffer
	h.WriteByte('{')
	if metadata != nil {
		h.WriteString(jsonString(metadataKey) + ":{")
		for i, k := range slices.Sorted(maps.Keys(metadata)) {
			if i > 0 {
				h.WriteByte(',')
			}
			h.WriteString(jsonString(k) + ":" + jsonString(metadata[k]))
		}
		h.WriteByte('}')
	}
	offset := 0
	for i, t := range order {
		if i > 0 || metadata != nil {
			h.WriteByte(',')
		}
		h.WriteString(jsonString(t.Name) + `:{"dtype":` + jsonString(string(t.DType)) + `,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := offset + len(t.Data)
		h.WriteString(`],"data_offsets":[` + strconv.Itoa(offset) + "," + strconv.Itoa(end) + "]}")
		offset = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 { // align the data section to 8 bytes
		h.WriteByte(' ')
	}
	if h.Len() > maxHeader {
		return nil, nil, fmt.Errorf("%w: header of %d bytes exceeds the format's limit of %d", ErrInvalid, h.Len(), maxHeader)
	}
	out := make([]byte, 8, 8+h.Len())
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	return append(out, h.Bytes()...), order, nil
}

// write writes a prepared header and the tensors' data.
func write(w io.Writer, header []byte, order []Tensor) error {
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, t := range order {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// jsonString encodes s as a JSON string without HTML escaping, as serde does.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
