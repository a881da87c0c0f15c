package safetensors

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the parser: it must never panic, and
// whatever it accepts must survive an encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	seeds := [][]Tensor{
		nil,
		{NewF32("w", []int{2, 2}, []float32{1, 2, 3, 4})},
		{NewI64("n", nil, []int64{5}), NewF64("q", []int{1}, []float64{0.5}), NewF32("e", []int{0}, nil)},
	}
	for _, s := range seeds {
		b.Reset()
		if err := Encode(&b, s, map[string]string{"arch": "resnet18"}); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(b.Bytes()))
		f.Add(bytes.Clone(b.Bytes()[:b.Len()/2]))
	}
	f.Add(withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`, make([]byte, 6)))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff{}"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		again, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("decoding a re-encoded file: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) || len(again.Metadata) != len(file.Metadata) {
			t.Fatalf("round trip changed the file: %d/%d tensors, %d/%d metadata", len(again.Tensors), len(file.Tensors), len(again.Metadata), len(file.Metadata))
		}
		for _, want := range file.Tensors {
			got, ok := again.Tensor(want.Name)
			if !ok || got.DType != want.DType || len(got.Shape) != len(want.Shape) || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("tensor %q changed in the round trip", want.Name)
			}
		}
		for k, v := range file.Metadata {
			if again.Metadata[k] != v {
				t.Fatalf("metadata %q changed in the round trip", k)
			}
		}
	})
}
