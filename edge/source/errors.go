package source

import "errors"

// Errors callers branch on; test with errors.Is.
var (
	// ErrInvalid is wrapped by New for a source specification or an option
	// that cannot work.
	ErrInvalid = errors.New("invalid source configuration")
	// ErrUnknownSource: Push or Latest named no configured source.
	ErrUnknownSource = errors.New("unknown source")
	// ErrNotBridge: Push named a source whose kind is not bridge.
	ErrNotBridge = errors.New("not a bridge source")
	// ErrEmptyFrame: Push got a frame with neither Image nor RGB bytes.
	ErrEmptyFrame = errors.New("frame has no image bytes")
	// ErrAlreadyRunning: Run was called a second time.
	ErrAlreadyRunning = errors.New("sources already running")
	// ErrEnded: Next found every source ended and every mailbox empty.
	ErrEnded = errors.New("all sources have ended")
	// ErrTooLarge is wrapped when a file or a stream part exceeds its size
	// limit.
	ErrTooLarge = errors.New("over the size limit")
	// ErrNoImages: a files source's path names no image file.
	ErrNoImages = errors.New("no image files")
)
