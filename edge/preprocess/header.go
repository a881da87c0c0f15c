package preprocess

import "encoding/binary"

// jpegSize finds the frame size in a JPEG's SOFn segment by walking the
// marker segments, without the decoder's allocations (jpeg.DecodeConfig
// sets up a whole decoder, a fifth of the cost of decoding a 32x32 image).
// ok is false when the walk does not reach a well-formed SOF segment; the
// caller then asks image/jpeg, which says what is wrong.
func jpegSize(data []byte) (w, h int, ok bool) {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 0, 0, false
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			i += 2 // standalone markers
			continue
		case marker == 0xd9 || marker == 0xda: // EOI or SOS before a frame header
			return 0, 0, false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 0, 0, false
		}
		// SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
		if marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc {
			if n < 8 {
				return 0, 0, false
			}
			seg := data[i+4:]
			return int(binary.BigEndian.Uint16(seg[3:])), int(binary.BigEndian.Uint16(seg[1:])), true
		}
		i += 2 + n
	}
	return 0, 0, false
}

// pngSize reads the size from a PNG's IHDR chunk, which must come first.
// ok is false when it is not there; the caller then asks image/png.
func pngSize(data []byte) (w, h int, ok bool) {
	if len(data) < 33 || string(data[12:16]) != "IHDR" || binary.BigEndian.Uint32(data[8:]) != 13 {
		return 0, 0, false
	}
	// Sizes above 2^31-1 are invalid PNG; image/png reports them.
	wu, hu := binary.BigEndian.Uint32(data[16:]), binary.BigEndian.Uint32(data[20:])
	if wu > 1<<31-1 || hu > 1<<31-1 {
		return 0, 0, false
	}
	return int(wu), int(hu), true
}
