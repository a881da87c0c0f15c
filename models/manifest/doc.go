// Package manifest describes an exported model for the edge: the JSON file
// NAME.manifest.json written beside NAME.onnx, which says what the network
// is, how to preprocess images for it, what it outputs, how it was trained
// and the SHA-256 of the ONNX file it belongs to.
//
// Verify is the check the edge runs before serving a model: the ONNX file
// must hash to the manifest's sha256, declare exactly the inputs and
// outputs (names and shapes) the manifest promises, and carry the same
// fields in its metadata_props. Each failure wraps a sentinel error the
// caller can branch on.
package manifest
