package onnxexport

import (
	"encoding/binary"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// graph accumulates nodes and initializers in topological order.
type graph struct {
	nodes []*onnx.NodeProto
	inits []*onnx.TensorProto
}

// node appends a node and returns its (single) output name.
func (g *graph) node(op, name string, inputs []string, output string, attrs ...*onnx.AttributeProto) string {
	g.nodes = append(g.nodes, &onnx.NodeProto{
		Name: name, OpType: op, Input: inputs, Output: []string{output}, Attribute: attrs,
	})
	return output
}

// init appends a float32 initializer stored as raw little-endian bytes.
func (g *graph) init(name, doc string, dims []int, v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	d := make([]int64, len(dims))
	for i, x := range dims {
		d[i] = int64(x)
	}
	g.inits = append(g.inits, &onnx.TensorProto{
		Name: name, DocString: doc, Dims: d, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw,
	})
	return name
}

func ints(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

// tensorType is a float32 tensor type whose first dimension is the
// symbolic batch "N" and the others fixed.
func tensorType(dims ...int) *onnx.TypeProto {
	shape := &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{
		{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: BatchDim}},
	}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{
			Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)},
		})
	}
	return &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape,
	}}}
}
