package agent

import "errors"

// Errors callers branch on (HTTP status codes, MQTT results); test with
// errors.Is.
var (
	// ErrNotFound: a queue entry, a source or a thumbnail that does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: a request that is malformed or names nothing valid.
	ErrBadRequest = errors.New("bad request")
	// ErrNoModel: no model is serving, so nothing can be embedded.
	ErrNoModel = errors.New("no model is serving")
	// ErrBusy: the pipeline has no room now (inference queue full).
	ErrBusy = errors.New("busy")
)

// ErrBadImage: a frame or an uploaded image that cannot be decoded or is
// refused by the preprocessing limits.
var ErrBadImage = errors.New("bad image")
