package protocol

import "fmt"

// cobsMaxEncodedLen bounds the COBS encoding of n bytes: one code byte per
// started run of 254 bytes, plus the first.
func cobsMaxEncodedLen(n int) int { return n + n/254 + 1 }

// cobsEncode appends the COBS encoding of src (Consistent Overhead Byte
// Stuffing, Cheshire and Baker 1999) to dst. The result contains no zero
// byte. A run of 254 non-zero bytes that ends the input gets no extra code
// byte, as in the reference encoder.
func cobsEncode(dst, src []byte) []byte {
	codeAt := len(dst)
	dst = append(dst, 0)
	code := byte(1)
	for i, b := range src {
		if b != 0 {
			dst = append(dst, b)
			code++
			if code != 0xFF {
				continue
			}
			if i == len(src)-1 {
				break // full run at the end: no trailing code byte
			}
		}
		dst[codeAt] = code
		codeAt = len(dst)
		dst = append(dst, 0)
		code = 1
	}
	dst[codeAt] = code
	return dst
}

// cobsDecode appends the decoding of src, which must not contain the 0x00
// delimiter, to dst. Errors wrap ErrCOBS.
func cobsDecode(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst, fmt.Errorf("%w: empty input", ErrCOBS)
	}
	for i := 0; i < len(src); {
		code := int(src[i])
		if code == 0 {
			return dst, fmt.Errorf("%w: zero byte at offset %d", ErrCOBS, i)
		}
		end := i + code
		if end > len(src) {
			return dst, fmt.Errorf("%w: block at offset %d needs %d bytes, %d left", ErrCOBS, i, code-1, len(src)-i-1)
		}
		for j := i + 1; j < end; j++ {
			if src[j] == 0 {
				return dst, fmt.Errorf("%w: zero byte at offset %d", ErrCOBS, j)
			}
		}
		dst = append(dst, src[i+1:end]...)
		i = end
		if code != 0xFF && i < len(src) {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}
