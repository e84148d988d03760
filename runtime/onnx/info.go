package onnx

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/augurdb/augur/internal/pbwire"
)

// Field numbers of the type messages (onnx/onnx.proto3) that ReadInfo
// reads.
const (
	graphInput = 11 // GraphProto.input

	typeSequence     = 4 // TypeProto.sequence_type
	typeMap          = 5 // TypeProto.map_type
	typeOpaque       = 7 // TypeProto.opaque_type
	typeSparseTensor = 8 // TypeProto.sparse_tensor_type
	typeOptional     = 9 // TypeProto.optional_type

	tensorShape = 2 // TypeProto.Tensor.shape
	shapeDim    = 1 // TensorShapeProto.dim
	dimValue    = 1 // TensorShapeProto.Dimension.dim_value
)

// ReadInfo reads a model's inputs and outputs from its graph as ONNX
// Runtime reports them (inputs that are also initializers left out, -1
// for a dimension without a fixed size), without creating a session:
// ONNX Runtime's own way builds a throwaway session, which loads every
// weight and optimises the graph, as long again as the real one. The
// shapes are the declared ones; where ONNX Runtime's shape inference
// would fix a declared free dimension, ReadInfo keeps it free. Complete
// says whether every tensor has a declared type and shape.
func ReadInfo(data []byte) (ins, outs []Info, err error) {
	gb, err := graphBytes(data)
	if err != nil {
		return nil, nil, err
	}
	inits := map[string]bool{}
	var rawIns []Info
	err = pbwire.EachField(gb, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case graphInitializer, graphSparseInitializer:
			field := protowire.Number(tensorName)
			if num == graphSparseInitializer {
				// a sparse initializer is named by its values tensor
				vb, err := messageField(b, sparseValues)
				if err != nil {
					return err
				}
				b = vb
			}
			name, err := stringField(b, field)
			if err != nil {
				return err
			}
			inits[name] = true
		case graphInput, graphOutput:
			info, err := readValueInfo(b)
			if err != nil {
				return err
			}
			if num == graphInput {
				rawIns = append(rawIns, info)
			} else {
				outs = append(outs, info)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the graph's inputs and outputs: %w", err)
	}
	for _, in := range rawIns {
		if !inits[in.Name] {
			ins = append(ins, in)
		}
	}
	return ins, outs, nil
}

// Complete says whether every tensor among infos has its element type
// and shape declared, so that nothing is left to shape inference.
func Complete(infos ...[]Info) bool {
	for _, list := range infos {
		for _, in := range list {
			if in.OrtValueType == ort.ONNXTypeUnknown {
				return false
			}
			if in.OrtValueType == ort.ONNXTypeTensor && (in.DataType == 0 || in.Dimensions == nil) {
				return false
			}
		}
	}
	return true
}

// readValueInfo reads a ValueInfoProto: its name and type.
func readValueInfo(b []byte) (Info, error) {
	info := Info{OrtValueType: ort.ONNXTypeUnknown}
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case valueName:
			info.Name = string(v)
		case valueType:
			return readType(v, &info)
		}
		return nil
	})
	return info, err
}

// readType fills in the kind of value of a TypeProto, and for a tensor
// its element type and dimensions.
func readType(b []byte, info *Info) error {
	return pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case typeTensor:
			info.OrtValueType = ort.ONNXTypeTensor
			return readTensorType(v, info)
		case typeSequence:
			info.OrtValueType = ort.ONNXTypeSequence
		case typeMap:
			info.OrtValueType = ort.ONNXTypeMap
		case typeOpaque:
			info.OrtValueType = ort.ONNXTypeOpaque
		case typeSparseTensor:
			info.OrtValueType = ort.ONNXTypeSparseTensor
		case typeOptional:
			info.OrtValueType = ort.ONNXTypeOptional
		}
		return nil
	})
}

func readTensorType(b []byte, info *Info) error {
	return pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == tensorElemType && typ == protowire.VarintType:
			n, _ := protowire.ConsumeVarint(v)
			info.DataType = ort.TensorElementDataType(n)
		case num == tensorShape && typ == protowire.BytesType:
			info.Dimensions = ort.Shape{} // declared, if only as a scalar
			return pbwire.EachField(v, func(num protowire.Number, typ protowire.Type, d []byte) error {
				if num == shapeDim && typ == protowire.BytesType {
					info.Dimensions = append(info.Dimensions, dimension(d))
				}
				return nil
			})
		}
		return nil
	})
}

// dimension is a Dimension's fixed size, or -1 for a named or unknown
// one, as ONNX Runtime reports it.
func dimension(b []byte) int64 {
	size := int64(-1)
	_ = pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == dimValue && typ == protowire.VarintType {
			n, _ := protowire.ConsumeVarint(v)
			size = int64(n)
		}
		return nil
	})
	return size
}

// messageField returns the last value of a message field.
func messageField(b []byte, field protowire.Number) ([]byte, error) {
	var out []byte
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == field && typ == protowire.BytesType {
			out = v
		}
		return nil
	})
	return out, err
}
