// Package infer serves embedding requests from an exported encoder through
// ONNX Runtime (github.com/yalue/onnxruntime_go): the edge agent's encoder
// step between preprocessing and the key queue.
//
// An Engine owns the ONNX Runtime session of the current model, with the
// first execution provider that works from a configured order (default
// TensorRT, then CUDA, then the CPU). Every provider that fails is logged
// with ONNX Runtime's own reason and skipped; Provider says which one
// serves, for /healthz and telemetry.
//
// A model is always loaded with its manifest (models/manifest): a missing
// manifest, a hash mismatch, wrong input/output names or shapes refuse it.
// Loading also opens the session only on the exact bytes that were
// verified, then dry-runs batches of zeros and checks the outputs' shapes,
// finiteness and unit-length embeddings; that dry run is the warm-up.
// Reload does all of that before swapping atomically; when anything fails
// the previous model keeps serving and the error is returned.
//
// Requests (one preprocessed image or an already-formed batch) go into a
// bounded queue counted in images. One batcher goroutine forms batches of
// up to the configured maximum, waiting at most the configured time after
// the oldest queued request arrived, whichever comes first, runs them and
// hands every caller its own rows. A full queue answers ErrQueueFull at
// once, so a camera source can drop the frame and count it. Close drains
// what is queued before releasing the session. Stats reports counters and
// latency percentiles per batch and per request over a sliding window.
//
// Bench measures raw ONNX Runtime throughput on pre-made tensors against
// the whole path from JPEG bytes through preprocessing, the batcher and
// inference: the `edge bench` figures. With the CPU provider, decoding on
// the same cores costs inference somewhat more than its own CPU time (ONNX
// Runtime's parallel operators wait for their slowest thread, and a thread
// that a decoder pre-empted is the slowest).
//
// This package uses cgo through onnxruntime_go; the ONNX Runtime library
// is found and initialised by internal/onnxrt.
package infer
