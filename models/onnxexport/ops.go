package onnxexport

import (
	"maps"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// AllowedOps lists the operators an exported model may contain, all of
// which TensorRT 8.5's ONNX parser supports.
func AllowedOps() []string {
	return []string{"Add", "Conv", "Div", "Flatten", "Gemm", "GlobalAveragePool", "Max", "MaxPool", "ReduceL2", "Relu"}
}

// Ops returns the distinct operator types in m's graph, sorted.
func Ops(m *onnx.ModelProto) []string {
	set := map[string]bool{}
	for _, n := range m.GetGraph().GetNode() {
		set[n.GetOpType()] = true
	}
	return slices.Sorted(maps.Keys(set))
}
