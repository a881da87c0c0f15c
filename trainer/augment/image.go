package augment

import "github.com/mocoedge/mocoedge/internal/imaging"

// Image is a float32 RGB image in planar CHW layout: Pix holds the R plane,
// then G, then B, each H*W values in row-major order, nominally in [0,1].
// A worker reuses one Image for every sample it augments.
type Image struct {
	// H and W are the height and width in pixels.
	H, W int
	// Pix holds 3*H*W values: the R, G and B planes.
	Pix []float32

	tmp       []float32         // scratch for transforms that need a second buffer
	resampler imaging.Resampler // resampling coefficients and scratch, reused
}

// NewImage returns a black image of the given size.
func NewImage(h, w int) *Image {
	m := &Image{}
	m.resize(h, w)
	return m
}

// Plane returns channel c (0 R, 1 G, 2 B) as H*W values.
func (m *Image) Plane(c int) []float32 {
	n := m.H * m.W
	return m.Pix[c*n : (c+1)*n : (c+1)*n]
}

// resize sets the size, reusing Pix when it is large enough. The contents
// are undefined afterwards.
func (m *Image) resize(h, w int) {
	m.H, m.W = h, w
	n := 3 * h * w
	if cap(m.Pix) < n {
		m.Pix = make([]float32, n)
	}
	m.Pix = m.Pix[:n]
}

// scratch returns a reusable buffer of n values.
func (m *Image) scratch(n int) []float32 {
	if cap(m.tmp) < n {
		m.tmp = make([]float32, n)
	}
	return m.tmp[:n]
}
