package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func encode(t testing.TB, tensors []Tensor, md map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, tensors, md); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withHeader builds a file from a raw JSON header and data, with the right
// length prefix.
func withHeader(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// TestReferenceBytes holds the writer to byte sequences produced by the
// reference implementation (the unit tests of huggingface/safetensors).
func TestReferenceBytes(t *testing.T) {
	f32 := []float32{0, 1, 2, 3, 4, 5}
	cases := []struct {
		name    string
		tensors []Tensor
		md      map[string]string
		want    []byte
	}{
		{"empty", nil, nil, []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      ")},
		{"empty with metadata", nil, map[string]string{"framework": "pt"},
			[]byte("\x28\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{\"framework\":\"pt\"}}     ")},
		{"no padding needed", []Tensor{NewF32("attn.0", []int{1, 2, 3}, f32)}, nil,
			append([]byte("\x40\x00\x00\x00\x00\x00\x00\x00"+`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`),
				NewF32("", nil, f32).Data...)},
		{"padded to 8", []Tensor{NewF32("attn0", []int{1, 1, 2, 3}, f32)}, nil,
			append([]byte("\x48\x00\x00\x00\x00\x00\x00\x00"+`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `),
				NewF32("", nil, f32).Data...)},
		{"I32 zeros", []Tensor{{Name: "test", DType: I32, Shape: []int{2, 2}, Data: make([]byte, 16)}}, nil,
			append([]byte("\x40\x00\x00\x00\x00\x00\x00\x00"+`{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    `), make([]byte, 16)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := encode(t, tc.tensors, tc.md)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("encoded\n%q\nwant\n%q", got, tc.want)
			}
			if _, err := Decode(got); err != nil {
				t.Fatalf("decode own output: %v", err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tensors := []Tensor{
		NewF32("layer1.0.conv1.weight", []int{2, 1, 3, 3}, []float32{1, -2, 3.5, 4, 5, 6, 7, 8, 9, 0, -0, float32(math.Inf(1)), 1e-30, 13, 14, 15, 16, 17}),
		NewI64("bn1.num_batches_tracked", []int{}, []int64{1 << 40}),
		NewF32("bn1.weight", []int{3}, []float32{1, 2, 3}),
		NewF64("queue", []int{2, 2}, []float64{math.Pi, -1, 0, math.SmallestNonzeroFloat64}),
		NewF32("empty", []int{0, 4}, nil),
		{Name: "flags", DType: U8, Shape: []int{3}, Data: []byte{1, 0, 1}},
	}
	md := map[string]string{"arch": "resnet18", "note": `quotes " and <html> & ünïcode`}
	b := encode(t, tensors, md)
	if len(b)%8 != 0 && binary.LittleEndian.Uint64(b)%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", binary.LittleEndian.Uint64(b))
	}
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, md) {
		t.Errorf("metadata %v, want %v", f.Metadata, md)
	}
	// Layout: dtype alignment descending (I64, F64, F32, U8), then name.
	var names []string
	for _, tt := range f.Tensors {
		names = append(names, tt.Name)
	}
	wantOrder := []string{"bn1.num_batches_tracked", "queue", "bn1.weight", "empty", "layer1.0.conv1.weight", "flags"}
	if !reflect.DeepEqual(names, wantOrder) {
		t.Errorf("data order %v, want %v", names, wantOrder)
	}
	dataStart := 8 + int(binary.LittleEndian.Uint64(b))
	for _, want := range tensors {
		got, ok := f.Tensor(want.Name)
		if !ok {
			t.Fatalf("tensor %q missing after round trip", want.Name)
		}
		if got.DType != want.DType || !reflect.DeepEqual(append([]int{}, got.Shape...), append([]int{}, want.Shape...)) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: got %s %v %x, want %s %v %x", want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
		}
		if len(got.Data) > 0 {
			off := cap(b) - cap(got.Data) - dataStart
			if off%want.DType.Size() != 0 {
				t.Errorf("%s: data at offset %d is not aligned to %d", want.Name, off, want.DType.Size())
			}
		}
	}
	v, err := f.Tensors[0].Int64s()
	if err != nil || v[0] != 1<<40 {
		t.Errorf("Int64s = %v, %v", v, err)
	}
	if _, err := f.Tensors[0].Float32s(); !errors.Is(err, ErrDType) {
		t.Errorf("Float32s of I64: %v, want ErrDType", err)
	}
	q, _ := f.Tensor("queue")
	if got, err := q.Float32s(); err != nil || got[0] != float32(math.Pi) {
		t.Errorf("F64 as Float32s = %v, %v", got, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	f32x2 := make([]byte, 8)
	cases := []struct {
		name string
		file []byte
		want []error
		msg  string
	}{
		{"empty", nil, []error{ErrNotSafetensors}, "shorter than the 8-byte header length"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"), []error{ErrNotSafetensors}, "exceeds the format's limit"},
		{"text", []byte("\x10\x00\x00\x00\x00\x00\x00\x00hello, world!!!!"), []error{ErrNotSafetensors}, "no JSON header"},
		{"truncated header", []byte("\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":"), []error{ErrTruncated}, "header needs 64 bytes"},
		{"truncated data", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32x2[:5]), []error{ErrTruncated}, `tensor "a" ends at byte 8`},
		{"trailing data", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 12)), []error{ErrInvalid}, "4 bytes of trailing data"},
		{"bad json", withHeader(`{"a":{"dtype":"F32",}}`, nil), []error{ErrInvalid}, `tensor "a"`},
		{"not utf8", withHeader("{\"\xff\":1}", nil), []error{ErrInvalid}, "UTF-8"},
		{"array header", withHeader(`{}[]`, nil), []error{ErrInvalid}, "after the header's JSON object"},
		{"unknown dtype", withHeader(`{"w":{"dtype":"F128","shape":[],"data_offsets":[0,16]}}`, make([]byte, 16)), []error{ErrInvalid}, `tensor "w": unknown dtype "F128"`},
		{"unknown field", withHeader(`{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"stride":[1]}}`, make([]byte, 4)), []error{ErrInvalid}, `tensor "w": json: unknown field "stride"`},
		{"missing offsets", withHeader(`{"w":{"dtype":"F32","shape":[]}}`, nil), []error{ErrInvalid}, `tensor "w": no data_offsets`},
		{"negative dim", withHeader(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, nil), []error{ErrInvalid}, "negative dimension"},
		{"size mismatch", withHeader(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32x2), []error{ErrInvalid}, `tensor "w": data_offsets [0, 8] hold 8 bytes, shape [3] of F32 needs 12`},
		{"huge shape", withHeader(`{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, f32x2), []error{ErrInvalid}, "too large"},
		{"overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), []error{ErrInvalid}, `tensor "b": data_offsets [4, 8] overlap tensor "a"`},
		{"gap", withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)), []error{ErrInvalid}, `leave a gap after tensor "a"`},
		{"duplicate", withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), []error{ErrInvalid}, `"a" appears twice`},
		{"metadata not strings", withHeader(`{"__metadata__":{"epochs":3}}`, nil), []error{ErrInvalid}, "__metadata__ must map strings to strings"},
		{"reversed offsets", withHeader(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, nil), []error{ErrInvalid}, "bad data_offsets [4, 0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.file)
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			for _, want := range append(tc.want, ErrInvalid) {
				if !errors.Is(err, want) {
					t.Errorf("error %q does not wrap %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	cases := []struct {
		name    string
		tensors []Tensor
		msg     string
	}{
		{"short data", []Tensor{{Name: "w", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}}, `tensor "w": 7 bytes of data, shape [2] of F32 needs 2×4`},
		{"unknown dtype", []Tensor{{Name: "w", DType: "Q4", Shape: []int{}, Data: nil}}, `unknown dtype "Q4"`},
		{"duplicate", []Tensor{NewF32("w", []int{1}, []float32{1}), NewF32("w", []int{1}, []float32{2})}, `"w" appears twice`},
		{"reserved", []Tensor{NewF32("__metadata__", []int{1}, []float32{1})}, "not allowed"},
		{"negative shape", []Tensor{{Name: "w", DType: F32, Shape: []int{-1}}}, "bad shape"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Encode(&b, tc.tensors, nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Encode: %v, want ErrInvalid saying %q", err, tc.msg)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
			path := filepath.Join(t.TempDir(), "x.safetensors")
			if err := WriteFile(path, tc.tensors, nil); !errors.Is(err, ErrInvalid) {
				t.Fatalf("WriteFile: %v, want ErrInvalid", err)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
				t.Errorf("WriteFile left %d files behind", len(entries))
			}
		})
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	tensors := []Tensor{NewF32("a", []int{2}, []float32{1, 2}), NewI64("n", nil, []int64{7})}
	if err := WriteFile(path, tensors, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := f.Tensor("a"); !ok || len(a.Data) != 8 || f.Metadata["k"] != "v" {
		t.Fatalf("read back %+v", f)
	}

	full, _ := os.ReadFile(path)
	trunc := filepath.Join(dir, "trunc.safetensors")
	if err := os.WriteFile(trunc, full[:len(full)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(trunc)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), trunc) {
		t.Errorf("truncated file: %v, want ErrTruncated naming the file", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	err = WriteFile(filepath.Join(dir, "no", "such", "x.safetensors"), tensors, nil)
	if err == nil || !strings.Contains(err.Error(), "folder does not exist") {
		t.Errorf("missing folder: %v", err)
	}
}
