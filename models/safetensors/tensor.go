package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Tensor is one named tensor: its element type, shape and raw little-endian
// row-major bytes. A scalar has an empty (non-nil or nil) shape and one
// element. Tensors returned by Decode share Data with the decoded buffer.
type Tensor struct {
	// Name is the tensor's key in the header, e.g. "layer1.0.conv1.weight".
	Name string
	// DType is the element type.
	DType DType
	// Shape lists the dimensions, outermost first; empty for a scalar.
	Shape []int
	// Data holds the elements, little-endian, row-major.
	Data []byte
}

// NewF32 returns a float32 tensor holding a copy of v.
func NewF32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int{}, shape...), Data: b}
}

// NewF64 returns a float64 tensor holding a copy of v.
func NewF64(name string, shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: F64, Shape: append([]int{}, shape...), Data: b}
}

// NewI64 returns an int64 tensor holding a copy of v.
func NewI64(name string, shape []int, v []int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: b}
}

// Elements returns the number of elements the shape describes, and false
// when a dimension is negative or the product overflows.
func Elements(shape []int) (int, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = lo
	}
	return int(n), true
}

// check reports whether t is well formed: a known dtype, a valid shape and
// exactly shape × dtype bytes of data.
func (t Tensor) check() error {
	if !t.DType.Valid() {
		return fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrInvalid, t.Name, t.DType)
	}
	n, ok := Elements(t.Shape)
	if !ok {
		return fmt.Errorf("%w: tensor %q: bad shape %v", ErrInvalid, t.Name, t.Shape)
	}
	overflow, want := bits.Mul64(uint64(n), uint64(t.DType.Size()))
	if overflow != 0 || want != uint64(len(t.Data)) {
		return fmt.Errorf("%w: tensor %q: %d bytes of data, shape %v of %s needs %d×%d",
			ErrInvalid, t.Name, len(t.Data), t.Shape, t.DType, n, t.DType.Size())
	}
	return nil
}

// Float32s returns the elements as float32: F32 is copied, F64 converted
// (rounding to nearest). Other dtypes give ErrDType.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	switch t.DType {
	case F32:
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	case F64:
		out := make([]float32, len(t.Data)/8)
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q is %s, want F32 or F64", ErrDType, t.Name, t.DType)
}

// Float64s returns the elements as float64: F64 is copied, F32 widened.
// Other dtypes give ErrDType.
func (t Tensor) Float64s() ([]float64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	switch t.DType {
	case F64:
		out := make([]float64, len(t.Data)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	case F32:
		out := make([]float64, len(t.Data)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q is %s, want F64 or F32", ErrDType, t.Name, t.DType)
}

// Int64s returns the elements of an I64 tensor. Other dtypes give ErrDType.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if t.DType != I64 {
		return nil, fmt.Errorf("%w: tensor %q is %s, want I64", ErrDType, t.Name, t.DType)
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}
