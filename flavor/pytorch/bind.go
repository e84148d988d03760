package pytorch

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/augurdb/augur/internal/pbwire"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/torchfile"
)

// Field numbers of onnx.proto that binding reads or writes.
const (
	modelGraph       = 7  // ModelProto.graph
	graphInitializer = 5  // GraphProto.initializer
	graphOutput      = 12 // GraphProto.output
	tensorDims       = 1  // TensorProto.dims
	tensorDataType   = 2  // TensorProto.data_type
	tensorName       = 8  // TensorProto.name
	tensorRawData    = 9  // TensorProto.raw_data
	valueName        = 1  // ValueInfoProto.name
	valueType        = 2  // ValueInfoProto.type
	typeTensor       = 1  // TypeProto.tensor_type
	tensorTypeShape  = 2  // TypeProto.Tensor.shape
	shapeDim         = 1  // TensorShapeProto.dim
	dimValue         = 1  // TensorShapeProto.Dimension.dim_value
	onnxFloat        = 1  // TensorProto.FLOAT
	onnxInt64        = 7  // TensorProto.INT64
)

// bound is a complete ONNX model as a list of byte slices, so that the
// weights are written from the file's tensors without another copy.
type bound struct {
	pieces [][]byte
	size   int64
}

func (b *bound) add(p []byte) {
	b.pieces = append(b.pieces, p)
	b.size += int64(len(p))
}

// bind puts the file's tensors into the architecture's graph: every
// initializer named by a state_dict key gets the file's data (as float32
// or int64, the graph's types) and the file's shape, and the head's
// output gets the file's number of classes.
func bind(a *Arch, sd *torchfile.StateDict, classes int64) (*bound, error) {
	out := &bound{}
	err := pbwire.EachField(a.graph, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num != modelGraph || typ != protowire.BytesType {
			out.add(pbwire.AppendField(nil, num, typ, b))
			return nil
		}
		g, err := bindGraph(a, sd, b, classes)
		if err != nil {
			return err
		}
		out.add(protowire.AppendVarint(protowire.AppendTag(nil, num, typ), uint64(g.size)))
		out.pieces = append(out.pieces, g.pieces...)
		out.size += g.size
		return nil
	})
	return out, err
}

func bindGraph(a *Arch, sd *torchfile.StateDict, graph []byte, classes int64) (*bound, error) {
	g := &bound{}
	err := pbwire.EachField(graph, func(num protowire.Number, typ protowire.Type, b []byte) error {
		switch {
		case num == graphInitializer && typ == protowire.BytesType:
			return bindInitializer(g, a, sd, b)
		case num == graphOutput && typ == protowire.BytesType && a.Manifest.Head != nil && classes > 0:
			v, err := headOutput(a.Manifest.Head, b, classes)
			if err != nil {
				return err
			}
			g.add(pbwire.AppendField(nil, num, typ, v))
		default:
			g.add(pbwire.AppendField(nil, num, typ, b))
		}
		return nil
	})
	return g, err
}

// bindInitializer writes one initializer: a weight with the file's data,
// a constant of the graph as it is.
func bindInitializer(g *bound, a *Arch, sd *torchfile.StateDict, b []byte) error {
	name, dt, err := initializerInfo(b)
	if err != nil {
		return fmt.Errorf("initializer: %w", err)
	}
	key := name
	if k, ok := a.Manifest.Renamed[name]; ok {
		key = k
	}
	if _, isKey := a.byKey[key]; !isKey {
		g.add(pbwire.AppendField(nil, graphInitializer, protowire.BytesType, b))
		return nil
	}
	t, ok := sd.Tensors[key]
	if !ok { // checkKeys let it through: only optional keys may be absent
		return fmt.Errorf("the file has no %s, which the graph needs", untrusted.Quote(key))
	}
	data, err := tensorData(t, dt)
	if err != nil {
		return fmt.Errorf("%s: %w", untrusted.Quote(key), err)
	}
	var hdr []byte
	if len(t.Shape) > 0 {
		var dims []byte
		for _, d := range t.Shape {
			dims = protowire.AppendVarint(dims, uint64(d))
		}
		hdr = protowire.AppendBytes(protowire.AppendTag(hdr, tensorDims, protowire.BytesType), dims)
	}
	hdr = protowire.AppendVarint(protowire.AppendTag(hdr, tensorDataType, protowire.VarintType), uint64(dt))
	hdr = protowire.AppendString(protowire.AppendTag(hdr, tensorName, protowire.BytesType), name)
	hdr = protowire.AppendVarint(protowire.AppendTag(hdr, tensorRawData, protowire.BytesType), uint64(len(data)))
	msgLen := len(hdr) + len(data)
	g.add(protowire.AppendVarint(protowire.AppendTag(nil, graphInitializer, protowire.BytesType), uint64(msgLen)))
	g.add(hdr)
	g.add(data)
	return nil
}

// initializerInfo reads a TensorProto's name and data type.
func initializerInfo(b []byte) (string, int32, error) {
	var name string
	var dt int32
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == tensorName && typ == protowire.BytesType:
			name = string(v)
		case num == tensorDataType && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return protowire.ParseError(n)
			}
			dt = int32(x)
		}
		return nil
	})
	return name, dt, err
}

// tensorData is a tensor's raw little-endian data in the graph's type:
// float weights of any precision become float32 (half precision is
// computed in float32), int64 buffers stay int64.
func tensorData(t *torchfile.Tensor, dt int32) ([]byte, error) {
	switch dt {
	case onnxFloat:
		if t.DType == torchfile.Float32 {
			return t.Bytes(), nil
		}
		f, err := t.Float32()
		if err != nil {
			return nil, fmt.Errorf("a float weight is %s in the file: %w", t.DType, err)
		}
		out := make([]byte, 4*len(f))
		for i, x := range f {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
		}
		return out, nil
	case onnxInt64:
		if t.DType == torchfile.Int64 {
			return t.Bytes(), nil
		}
		return nil, fmt.Errorf("an int64 buffer is %s in the file", t.DType)
	}
	return nil, fmt.Errorf("the graph's initializer has ONNX data type %d, which augur does not bind", dt)
}

// headOutput rewrites the head's output (a ValueInfoProto) to the file's
// number of classes; other outputs are returned unchanged.
func headOutput(h *Head, vi []byte, classes int64) ([]byte, error) {
	var out []byte
	isHead := false
	err := pbwire.EachField(vi, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == valueName && typ == protowire.BytesType && string(b) == h.Output {
			isHead = true
		}
		return nil
	})
	if err != nil || !isHead {
		return vi, err
	}
	err = pbwire.EachField(vi, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num != valueType || typ != protowire.BytesType {
			out = pbwire.AppendField(out, num, typ, b)
			return nil
		}
		t, err := rewriteNested(b, []protowire.Number{typeTensor, tensorTypeShape}, func(shape []byte) ([]byte, error) {
			return setDim(shape, h.OutputDim, classes)
		})
		if err != nil {
			return err
		}
		out = pbwire.AppendField(out, num, typ, t)
		return nil
	})
	return out, err
}

// rewriteNested applies f to the message at path inside msg.
func rewriteNested(msg []byte, path []protowire.Number, f func([]byte) ([]byte, error)) ([]byte, error) {
	if len(path) == 0 {
		return f(msg)
	}
	var out []byte
	err := pbwire.EachField(msg, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == path[0] && typ == protowire.BytesType {
			v, err := rewriteNested(b, path[1:], f)
			if err != nil {
				return err
			}
			b = v
		}
		out = pbwire.AppendField(out, num, typ, b)
		return nil
	})
	return out, err
}

// setDim sets dim i of a TensorShapeProto to a fixed value.
func setDim(shape []byte, i int, v int64) ([]byte, error) {
	var out []byte
	k := 0
	err := pbwire.EachField(shape, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == shapeDim && typ == protowire.BytesType {
			if k == i {
				b = protowire.AppendVarint(protowire.AppendTag(nil, dimValue, protowire.VarintType), uint64(v))
			}
			k++
		}
		out = pbwire.AppendField(out, num, typ, b)
		return nil
	})
	return out, err
}
