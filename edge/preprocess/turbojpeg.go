package preprocess

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ebitengine/purego"
)

// TurboJPEGLibrary is the shared library WithTurboJPEG loads by default:
// libjpeg-turbo's TurboJPEG API (Debian and Ubuntu package libturbojpeg0).
const TurboJPEGLibrary = "libturbojpeg.so.0"

// TurboJPEG constants (turbojpeg.h).
const (
	tjpfRGB             = 0    // TJPF_RGB: packed R, G, B bytes
	tjflagFastUpsample  = 256  // TJFLAG_FASTUPSAMPLE: replicate chroma, as image/jpeg does
	tjflagStopOnWarning = 8192 // TJFLAG_STOPONWARNING: a truncated file is an error
)

// turbo decodes JPEG with libjpeg-turbo through its TurboJPEG C API,
// loaded at run time with purego (no cgo, no headers at build time). A
// TurboJPEG handle serves one decode at a time, so idle handles are kept
// in a free list and created when all are busy.
type turbo struct {
	path           string
	initDecompress func() uintptr
	header         func(h uintptr, buf *byte, size uint, width, height, subsamp, colorspace *int32) int32
	decompress     func(h uintptr, buf *byte, size uint, dst *byte, width, pitch, height, pixelFormat, flags int32) int32
	errorString    func(h uintptr) string
	destroy        func(h uintptr) int32

	mu     sync.Mutex
	free   []uintptr
	closed bool
}

// openTurbo loads the TurboJPEG library at path (TurboJPEGLibrary when
// empty).
func openTurbo(path string) (*turbo, error) {
	if path == "" {
		path = TurboJPEGLibrary
	}
	lib, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("preprocess: loading TurboJPEG from %s (Debian package libturbojpeg0): %w", path, err)
	}
	syms := []string{"tjInitDecompress", "tjDecompressHeader3", "tjDecompress2", "tjGetErrorStr2", "tjDestroy"}
	for _, sym := range syms {
		if _, err := purego.Dlsym(lib, sym); err != nil {
			return nil, fmt.Errorf("preprocess: %s has no %s (TurboJPEG 2.0 or later is needed): %w", path, sym, err)
		}
	}
	t := &turbo{path: path}
	purego.RegisterLibFunc(&t.initDecompress, lib, "tjInitDecompress")
	purego.RegisterLibFunc(&t.header, lib, "tjDecompressHeader3")
	purego.RegisterLibFunc(&t.decompress, lib, "tjDecompress2")
	purego.RegisterLibFunc(&t.errorString, lib, "tjGetErrorStr2")
	purego.RegisterLibFunc(&t.destroy, lib, "tjDestroy")
	return t, nil
}

// get returns an idle handle or a new one.
func (t *turbo) get() (uintptr, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, ErrClosed
	}
	if n := len(t.free); n > 0 {
		h := t.free[n-1]
		t.free = t.free[:n-1]
		return h, nil
	}
	h := t.initDecompress()
	if h == 0 {
		return 0, errors.New("tjInitDecompress failed")
	}
	return h, nil
}

// put returns a handle to the free list (or destroys it after close).
func (t *turbo) put(h uintptr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		t.destroy(h)
		return
	}
	t.free = append(t.free, h)
}

// discard destroys a handle that must not be reused.
func (t *turbo) discard(h uintptr) { t.destroy(h) }

// close destroys the idle handles; busy ones are destroyed when returned.
func (t *turbo) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for _, h := range t.free {
		t.destroy(h)
	}
	t.free = nil
}

// decode decodes JPEG data, whose header h has been checked, into packed
// RGB, reusing buf when it is large enough.
func (t *turbo) decode(data []byte, h Header, buf []uint8) (pix []uint8, height, width int, err error) {
	handle, err := t.get()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("TurboJPEG: %w", err)
	}
	// A handle that failed on bad data is not reused: libjpeg-turbo leaves
	// it in a state where the next tjDecompressHeader3 on it "succeeds"
	// with a 0x0 image (seen with 2.1.5 after a truncated JPEG).
	defer func() {
		if err != nil {
			t.discard(handle)
			return
		}
		t.put(handle)
	}()
	var w, ht, subsamp, colorspace int32
	if t.header(handle, &data[0], uint(len(data)), &w, &ht, &subsamp, &colorspace) != 0 {
		return nil, 0, 0, fmt.Errorf("%w: %dx%d JPEG of %d bytes: TurboJPEG: %s", ErrCorrupt, h.Width, h.Height, len(data), t.errorString(handle))
	}
	if int(w) != h.Width || int(ht) != h.Height {
		return nil, 0, 0, fmt.Errorf("%w: JPEG of %d bytes: TurboJPEG reads %dx%d, the frame header says %dx%d", ErrCorrupt, len(data), w, ht, h.Width, h.Height)
	}
	n := 3 * h.Width * h.Height
	if cap(buf) < n {
		buf = make([]uint8, n)
	}
	pix = buf[:n]
	if t.decompress(handle, &data[0], uint(len(data)), &pix[0], w, 3*w, ht, tjpfRGB, tjflagFastUpsample|tjflagStopOnWarning) != 0 {
		return nil, 0, 0, fmt.Errorf("%w: %dx%d JPEG of %d bytes: TurboJPEG: %s", ErrCorrupt, h.Width, h.Height, len(data), t.errorString(handle))
	}
	return pix, h.Height, h.Width, nil
}
