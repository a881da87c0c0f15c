// Package onnxexport writes a network as an ONNX model that TensorRT 8.5+
// and ONNX Runtime run: opset 17, IR version 8, one input "images"
// [N,3,H,W] float32 with a symbolic batch N, and two outputs, "features"
// [N,C] (the globally average-pooled backbone) and "embedding" [N,D] (the
// head's output, L2-normalised in the graph; the normalised features when
// there is no head).
//
// The exported network is the eval-mode one: every batch norm is folded into
// the convolution before it, w' = w·γ/√(var+ε) and b' = β − mean·γ/√(var+ε),
// so the graph holds only Conv, Relu, MaxPool, Add, GlobalAveragePool,
// Flatten, Gemm and, for the normalisation, ReduceL2, Max and Div (Ops lists
// them). Initializers keep torchvision's names: a folded convolution's
// weight is still "layer1.0.conv1.weight" and its new bias is
// "layer1.0.conv1.bias", whose doc string says which batch norm it came from.
//
// The package is pure Go; running the model is package onnxrun's job.
package onnxexport
