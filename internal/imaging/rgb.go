package imaging

import (
	"image"
	"image/color"
)

// RGB returns img as packed 8-bit RGB (3 bytes a pixel, rows top to bottom)
// with its height and width, reusing buf when it is large enough. Alpha is
// dropped without compositing, as PIL's convert("RGB") does: each pixel is
// the colour's non-premultiplied value (color.NRGBAModel). YCbCr (what JPEG
// decodes to) is converted with color.YCbCrToRGB's arithmetic, so every
// decoder built on image/jpeg gives the same bytes; a palette index
// outside the palette gives black. This is what trainer/data's loader and
// `trainer embed` compute.
func RGB(img image.Image, buf []uint8) (pix []uint8, h, w int) {
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	n := 3 * h * w
	if cap(buf) < n {
		buf = make([]uint8, n)
	}
	pix = buf[:n]
	switch m := img.(type) {
	case *image.YCbCr:
		ycbcrToRGB(pix, m)
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride:] // Bounds() is m.Rect
			out := pix[3*y*w : 3*(y+1)*w]
			for x := range w {
				v := row[x]
				out[3*x], out[3*x+1], out[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride:] // Bounds() is m.Rect
			out := pix[3*y*w : 3*(y+1)*w]
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[y*m.Stride:] // Bounds() is m.Rect
			out := pix[3*y*w : 3*(y+1)*w]
			for x := range w {
				p := row[4*x : 4*x+4]
				if p[3] == 0xff {
					out[3*x], out[3*x+1], out[3*x+2] = p[0], p[1], p[2]
					continue
				}
				c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
				out[3*x], out[3*x+1], out[3*x+2] = c.R, c.G, c.B
			}
		}
	case *image.Paletted:
		// Indices outside the palette (which At would panic on) are black,
		// as in trainer/data.
		pal := make([][3]uint8, 256)
		for k, c := range m.Palette[:min(len(m.Palette), 256)] {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[k] = [3]uint8{n.R, n.G, n.B}
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w] // Bounds() is m.Rect
			out := pix[3*y*w : 3*(y+1)*w]
			for x, k := range row {
				c := pal[k]
				out[3*x], out[3*x+1], out[3*x+2] = c[0], c[1], c[2]
			}
		}
	default:
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				pix[i], pix[i+1], pix[i+2] = c.R, c.G, c.B
				i += 3
			}
		}
	}
	return pix, h, w
}

// ycbcrToRGB converts every pixel of m into pix (packed RGB).
func ycbcrToRGB(pix []uint8, m *image.YCbCr) {
	b := m.Bounds()
	w := b.Dx()
	// Chroma subsampling as shifts: a chroma sample covers 1<<sx columns
	// and 1<<sy rows (image.YCbCr.COffset's arithmetic).
	var sx, sy uint
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		sx = 1
	case image.YCbCrSubsampleRatio420:
		sx, sy = 1, 1
	case image.YCbCrSubsampleRatio440:
		sy = 1
	case image.YCbCrSubsampleRatio411:
		sx = 2
	case image.YCbCrSubsampleRatio410:
		sx, sy = 2, 1
	}
	x0, y0 := b.Min.X, b.Min.Y // Bounds() is m.Rect
	if x0 < 0 || y0 < 0 {
		// COffset divides, truncating toward zero; shifts would floor.
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				ci := m.COffset(x, y)
				pix[i], pix[i+1], pix[i+2] = color.YCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[ci], m.Cr[ci])
				i += 3
			}
		}
		return
	}
	// The chroma terms of one chroma row, computed once for the 1<<sy
	// luma rows that share it.
	cw := (x0+w-1)>>sx - x0>>sx + 1
	terms := make([]int32, 3*cw)
	rc, gc, bc := terms[:cw], terms[cw:2*cw], terms[2*cw:]
	last := -1
	for y := range b.Dy() {
		if cy := (y0+y)>>sy - y0>>sy; cy != last {
			last = cy
			cb, cr := m.Cb[cy*m.CStride:][:cw], m.Cr[cy*m.CStride:][:cw]
			for i := range cw {
				cb1, cr1 := int32(cb[i])-128, int32(cr[i])-128
				rc[i] = 91881 * cr1
				gc[i] = -22554*cb1 - 46802*cr1
				bc[i] = 116130 * cb1
			}
		}
		yrow := m.Y[y*m.YStride : y*m.YStride+w]
		out := pix[3*y*w : 3*(y+1)*w]
		for x, yv := range yrow {
			ci := (x0+x)>>sx - x0>>sx
			yy1 := int32(yv) * 0x10101
			o := out[3*x : 3*x+3 : 3*x+3]
			o[0] = clamp16(yy1 + rc[ci])
			o[1] = clamp16(yy1 + gc[ci])
			o[2] = clamp16(yy1 + bc[ci])
		}
	}
}

// clamp16 is color.YCbCrToRGB's final step: v>>16 clamped to [0, 255].
// ycbcrToRGB repeats that function's integer arithmetic inline (the call
// is not inlined), with the chroma products computed once per chroma
// sample; int32 additions wrap, so regrouping them changes no bit and the
// bytes are color.YCbCrToRGB's.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}
