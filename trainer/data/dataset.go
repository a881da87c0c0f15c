package data

import (
	"fmt"
	"time"
)

// Dataset is a decoded image dataset held in memory as uint8 RGB, HWC order.
// All pixels live in one contiguous buffer. A Dataset is read-only after Load
// and safe for concurrent use.
type Dataset struct {
	path    string
	pix     []uint8
	off     []int64 // off[i]..off[i+1] are image i's bytes
	dims    []int32 // per-image height, width pairs; nil when uniform
	h, w    int     // the common size, zero when sizes differ
	labels  []int32
	names   []string
	classes []string
	report  Report
}

// Report describes how a dataset was loaded.
type Report struct {
	// Estimate is the first pass's estimate.
	Estimate Estimate
	// Loaded is the number of images in the dataset.
	Loaded int
	// Skipped is the number of unreadable image files left out.
	Skipped int
	// SkippedNames names up to ten of them, with the reason.
	SkippedNames []string
	// Duration is the wall time of the whole load.
	Duration time.Duration
}

// Len is the number of images.
func (d *Dataset) Len() int { return len(d.labels) }

// Classes returns the class names; label i is Classes()[i]. It is empty for
// an unlabelled dataset.
func (d *Dataset) Classes() []string { return append([]string(nil), d.classes...) }

// Label is image i's class index, or -1 when the dataset is unlabelled.
func (d *Dataset) Label(i int) int { return int(d.labels[i]) }

// Name is image i's path inside the dataset (slash-separated, relative to
// the folder or archive root).
func (d *Dataset) Name(i int) string { return d.names[i] }

// Image returns image i's pixels as h*w*3 bytes, HWC, RGB. The slice is a
// view of the cache: do not modify it.
func (d *Dataset) Image(i int) (pix []uint8, h, w int) {
	if d.dims == nil {
		n := int64(d.h * d.w * 3)
		return d.pix[int64(i)*n : int64(i+1)*n : int64(i+1)*n], d.h, d.w
	}
	return d.pix[d.off[i]:d.off[i+1]:d.off[i+1]], int(d.dims[2*i]), int(d.dims[2*i+1])
}

// Size returns the common image size; ok is false when sizes differ.
func (d *Dataset) Size() (h, w int, ok bool) { return d.h, d.w, d.dims == nil }

// Pixels returns the whole cache: for a dataset of equal-sized images it is
// Len() images of h*w*3 bytes back to back. Do not modify it.
func (d *Dataset) Pixels() []uint8 { return d.pix }

// Bytes is the size of the pixel cache in bytes.
func (d *Dataset) Bytes() int64 { return int64(len(d.pix)) }

// Path is the folder or archive the dataset was loaded from.
func (d *Dataset) Path() string { return d.path }

// Report describes the load.
func (d *Dataset) Report() Report {
	r := d.report
	r.SkippedNames = append([]string(nil), r.SkippedNames...)
	return r
}

// NewUniform makes a dataset from pixels already in memory: n images of
// h*w*3 bytes (HWC RGB) back to back, one label per image (-1 for none) and
// the class names. It keeps pix without copying. It is meant for tests and
// synthetic data.
func NewUniform(pix []uint8, h, w int, labels []int, classes []string) (*Dataset, error) {
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("data: new dataset: size %dx%d", h, w)
	}
	per := h * w * 3
	if len(pix) != per*len(labels) {
		return nil, fmt.Errorf("data: new dataset: %d bytes of pixels for %d images of %dx%d", len(pix), len(labels), h, w)
	}
	d := &Dataset{path: "(memory)", pix: pix, h: h, w: w, classes: append([]string(nil), classes...)}
	d.labels = make([]int32, len(labels))
	d.names = make([]string, len(labels))
	for i, l := range labels {
		if l < -1 || l >= len(classes) {
			return nil, fmt.Errorf("data: new dataset: image %d has label %d with %d classes", i, l, len(classes))
		}
		d.labels[i] = int32(l)
		d.names[i] = fmt.Sprintf("%06d", i)
	}
	d.report.Loaded = len(labels)
	return d, nil
}
