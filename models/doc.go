// Package models describes network architectures as data: the ResNet family
// with torchvision's layer shapes and parameter names, so that weights move to
// and from PyTorch without renaming. It knows shapes, names, parameter counts
// and FLOPs; it does not compute anything (the trainer's engine and the ONNX
// exporter walk these descriptions).
package models
