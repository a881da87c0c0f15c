package protocol

import (
	"bytes"
	"errors"
	"testing"
)

// seqBytes returns n bytes counting up from first, skipping zero.
func seqBytes(first byte, n int) []byte {
	b := make([]byte, n)
	v := first
	for i := range b {
		if v == 0 {
			v = 1
		}
		b[i] = v
		v++
	}
	return b
}

func TestCOBSVectors(t *testing.T) {
	// The examples of Cheshire and Baker's paper as listed on Wikipedia.
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		decoded []byte
		encoded []byte
	}{
		{"empty", nil, []byte{0x01}},
		{"zero", []byte{0x00}, []byte{0x01, 0x01}},
		{"two zeros", []byte{0x00, 0x00}, []byte{0x01, 0x01, 0x01}},
		{"zero inside", []byte{0x00, 0x11, 0x00}, []byte{0x01, 0x02, 0x11, 0x01}},
		{"no zero", []byte{0x11, 0x22, 0x00, 0x33}, []byte{0x03, 0x11, 0x22, 0x02, 0x33}},
		{"trailing zero", []byte{0x11, 0x00, 0x00, 0x00}, []byte{0x02, 0x11, 0x01, 0x01, 0x01}},
		{"254 non-zero", seqBytes(0x01, 254), cat([]byte{0xFF}, seqBytes(0x01, 254))},
		{"zero then 254", cat([]byte{0x00}, seqBytes(0x01, 254)), cat([]byte{0x01, 0xFF}, seqBytes(0x01, 254))},
		{"255 non-zero", seqBytes(0x01, 255), cat([]byte{0xFF}, seqBytes(0x01, 254), []byte{0x02, 0xFF})},
		{"254 then zero", cat(seqBytes(0x02, 254), []byte{0x00}), cat([]byte{0xFF}, seqBytes(0x02, 254), []byte{0x01, 0x01})},
		{"253 then zero then one", cat(seqBytes(0x03, 253), []byte{0x00, 0x01}), cat([]byte{0xFE}, seqBytes(0x03, 253), []byte{0x02, 0x01})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cobsEncode(nil, tt.decoded)
			if !bytes.Equal(got, tt.encoded) {
				t.Fatalf("encode = % x\nwant     % x", got, tt.encoded)
			}
			if len(got) > cobsMaxEncodedLen(len(tt.decoded)) {
				t.Errorf("encoded %d bytes, bound %d", len(got), cobsMaxEncodedLen(len(tt.decoded)))
			}
			back, err := cobsDecode(nil, tt.encoded)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(back, tt.decoded) {
				t.Fatalf("decode = % x\nwant     % x", back, tt.decoded)
			}
		})
	}
}

func TestCOBSDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"zero code", []byte{0x00}},
		{"zero inside block", []byte{0x03, 0x11, 0x00}},
		{"truncated block", []byte{0x05, 0x11, 0x22}},
		{"truncated full block", append([]byte{0xFF}, seqBytes(1, 100)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := cobsDecode(nil, tt.in); !errors.Is(err, ErrCOBS) {
				t.Fatalf("err = %v, want ErrCOBS", err)
			}
		})
	}
}

func TestCOBSRoundTripLengths(t *testing.T) {
	for n := 0; n <= 1100; n++ {
		src := seqBytes(byte(n), n)
		for i := 0; i < n; i += 97 {
			src[i] = 0
		}
		enc := cobsEncode([]byte{0xAA}, src)[1:] // appends after existing bytes
		if bytes.IndexByte(enc, 0) >= 0 {
			t.Fatalf("n=%d: encoding contains zero", n)
		}
		if len(enc) > cobsMaxEncodedLen(n) {
			t.Fatalf("n=%d: %d encoded bytes over bound %d", n, len(enc), cobsMaxEncodedLen(n))
		}
		dec, err := cobsDecode(nil, enc)
		if err != nil || !bytes.Equal(dec, src) {
			t.Fatalf("n=%d: round trip failed: %v", n, err)
		}
	}
}
