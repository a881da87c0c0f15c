// Package onnxrun runs an exported encoder (see package onnxexport) in ONNX
// Runtime and measures how far its outputs are from a reference.
//
// A Session owns one ONNX Runtime session of a model with the "images" ->
// "features", "embedding" contract; Run takes a normalised NCHW float32
// batch of any size and returns both outputs. Options adjust the session
// (threads, or any ONNX Runtime setting such as an execution provider).
// The ONNX Runtime library is found and initialised through
// internal/onnxrt.
//
// Compare and Check are the parity test: the largest absolute difference
// per output and the relative one, max|a−b| / max|b| over the whole tensor,
// where b is the reference (the training engine's eval-mode forward).
//
// This package uses cgo (through github.com/yalue/onnxruntime_go); package
// onnxexport and the rest of models stay pure Go.
package onnxrun
