package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// maxHeader is the largest JSON header the reference implementation accepts.
const maxHeader = 100_000_000

// entry is one tensor's header entry as it appears in the JSON.
type entry struct {
	DType       *DType   `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// Decode parses and validates a whole safetensors file held in b. The
// returned tensors' Data are sub-slices of b. Errors wrap ErrInvalid (and
// ErrTruncated or ErrNotSafetensors where that is the cause).
func Decode(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: %w: %d bytes, shorter than the 8-byte header length", ErrNotSafetensors, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	rest := uint64(len(b) - 8)
	switch {
	case n > maxHeader:
		return nil, fmt.Errorf("safetensors: %w: header length %d exceeds the format's limit of %d", ErrNotSafetensors, n, maxHeader)
	case n < 2 || (rest > 0 && b[8] != '{'):
		return nil, fmt.Errorf("safetensors: %w: no JSON header after the 8-byte length", ErrNotSafetensors)
	case n > rest:
		return nil, fmt.Errorf("safetensors: %w: the header needs %d bytes, the file has %d after the length", ErrTruncated, n, rest)
	}
	header, data := b[8:8+n], b[8+n:]
	f, err := parseHeader(header, data)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return f, nil
}

// parseHeader decodes the JSON header and checks every entry against data.
func parseHeader(header, data []byte) (*File, error) {
	if !utf8.Valid(header) {
		return nil, fmt.Errorf("%w: header is not valid UTF-8", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	f := &File{}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: header JSON: %v", ErrInvalid, err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, fmt.Errorf("%w: %q appears twice in the header", ErrInvalid, name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&f.Metadata); err != nil {
				return nil, fmt.Errorf("%w: %s must map strings to strings: %v", ErrInvalid, metadataKey, err)
			}
			if f.Metadata == nil {
				f.Metadata = map[string]string{}
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: header JSON at tensor %q: %v", ErrInvalid, name, err)
		}
		t, begin, end, err := parseEntry(name, raw)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
		spans = append(spans, span{name, begin, end})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%w: header JSON: %v", ErrInvalid, err)
	}
	if trailing := header[dec.InputOffset():]; len(bytes.TrimLeft(trailing, " \t\r\n")) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the header's JSON object", ErrInvalid, len(trailing))
	}

	// The ranges must tile the data section: sorted by offset, each starts
	// where the previous ended, and the last ends at the end of the file.
	idx := make([]int, len(spans))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(spans[a].begin, spans[b].begin), cmp.Compare(spans[a].end, spans[b].end))
	})
	var pos int64
	prev := ""
	size := int64(len(data))
	for _, i := range idx {
		s := spans[i]
		switch {
		case s.begin < pos:
			return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", ErrInvalid, s.name, s.begin, s.end, prev, pos)
		case s.begin > pos && prev == "":
			return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] leave a gap at the start of the data", ErrInvalid, s.name, s.begin, s.end)
		case s.begin > pos:
			return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] leave a gap after tensor %q, which ends at %d", ErrInvalid, s.name, s.begin, s.end, prev, pos)
		case s.end > size:
			return nil, fmt.Errorf("%w: tensor %q ends at byte %d of the data, the file holds %d", ErrTruncated, s.name, s.end, size)
		}
		pos, prev = s.end, s.name
	}
	if pos != size {
		return nil, fmt.Errorf("%w: %d bytes of trailing data after the last tensor", ErrInvalid, size-pos)
	}
	for i := range f.Tensors {
		s := spans[i]
		f.Tensors[i].Data = data[s.begin:s.end:s.end]
	}
	// Hand the tensors out in data order.
	ordered := make([]Tensor, len(idx))
	for k, i := range idx {
		ordered[k] = f.Tensors[i]
	}
	f.Tensors = ordered
	return f, nil
}

// parseEntry checks one tensor entry: known fields only, a known dtype, a
// non-negative shape and a byte range whose size is shape × dtype.
func parseEntry(name string, raw []byte) (Tensor, int64, int64, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e entry
	if err := dec.Decode(&e); err != nil {
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: trailing JSON", ErrInvalid, name)
	}
	switch {
	case e.DType == nil:
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: no dtype", ErrInvalid, name)
	case e.Shape == nil:
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: no shape", ErrInvalid, name)
	case e.DataOffsets == nil:
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: no data_offsets", ErrInvalid, name)
	case !e.DType.Valid():
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrInvalid, name, *e.DType)
	case len(*e.DataOffsets) != 2:
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: data_offsets has %d values, want [begin, end]", ErrInvalid, name, len(*e.DataOffsets))
	}
	shape := make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 {
			return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: negative dimension in shape %v", ErrInvalid, name, *e.Shape)
		}
		shape[i] = int(d)
	}
	begin, end := (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	if begin < 0 || end < begin {
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: bad data_offsets [%d, %d]", ErrInvalid, name, begin, end)
	}
	n, ok := Elements(shape)
	if !ok || n > (1<<62)/e.DType.Size() {
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: shape %v is too large", ErrInvalid, name, shape)
	}
	if want := int64(n) * int64(e.DType.Size()); end-begin != want {
		return Tensor{}, 0, 0, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d",
			ErrInvalid, name, begin, end, end-begin, shape, *e.DType, want)
	}
	return Tensor{Name: name, DType: *e.DType, Shape: shape}, begin, end, nil
}
