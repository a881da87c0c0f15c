package preprocess

import "errors"

// Errors the Preprocessor wraps; test for them with errors.Is.
var (
	// ErrEmpty: the image data has no bytes.
	ErrEmpty = errors.New("empty image data")
	// ErrFormat: the bytes are neither JPEG nor PNG.
	ErrFormat = errors.New("unsupported image format (want JPEG or PNG)")
	// ErrTooLarge: the image's header declares more pixels (or a longer
	// side) than the configured limits; it was refused before decoding.
	ErrTooLarge = errors.New("image too large")
	// ErrCorrupt: the header or the pixel data cannot be decoded
	// (truncated or damaged file).
	ErrCorrupt = errors.New("corrupt or truncated image")
	// ErrFrame: a raw frame's size and byte count disagree.
	ErrFrame = errors.New("bad raw RGB frame")
	// ErrDestination: the output slice has the wrong length.
	ErrDestination = errors.New("bad destination size")
	// ErrClosed: the Preprocessor was closed (its libjpeg-turbo decoders
	// released).
	ErrClosed = errors.New("preprocessor closed")
)
