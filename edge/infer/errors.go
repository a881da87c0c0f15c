package infer

import "errors"

// Errors the Engine returns or wraps; test for them with errors.Is.
var (
	// ErrModelNotLoaded: the engine has no model yet (New was given no
	// path and no Reload has succeeded).
	ErrModelNotLoaded = errors.New("no model loaded")
	// ErrQueueFull: the request queue has no room for the request's
	// images; nothing was queued. Callers drop the frame and count it.
	ErrQueueFull = errors.New("inference queue full")
	// ErrClosed: the engine is closed or closing.
	ErrClosed = errors.New("inference engine closed")
	// ErrModelRefused: a model was not loaded because its manifest, its
	// file or its dry run is wrong; the cause is wrapped too.
	ErrModelRefused = errors.New("model refused")
	// ErrNoProvider: no execution provider in the configured order could
	// open the model.
	ErrNoProvider = errors.New("no execution provider could open the model")
	// ErrInput: a request does not hold N images of the model's input size.
	ErrInput = errors.New("bad inference input")
	// ErrModelChanged: a request was prepared for a model (Batch.Model)
	// that is no longer the one serving.
	ErrModelChanged = errors.New("model changed since the request was prepared")
)
