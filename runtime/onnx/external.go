package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/augurdb/augur/internal/pbwire"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// External data: an ONNX tensor may keep its values in another file
// (TensorProto.data_location = EXTERNAL, external_data = {location,
// offset, length}). ONNX Runtime opens such a file itself, relative to
// the model's folder when it loads a model from a path and relative to
// the current directory when it loads a model from bytes, with no check
// that the file stays beside the model: a hostile model could read
// /etc/passwd into a tensor and out through ML_PREDICT.
//
// InlineExternalData therefore resolves every external location itself,
// against the model's folder, refuses any that leads outside it (absolute
// paths, "..", symbolic links out, files that are not regular), reads the
// checked bytes and writes them into the model as raw_data. ONNX Runtime
// then gets a model with no external references and never opens a path
// named by the file. onnxruntime_go (v1.27) does not expose
// AddExternalInitializersFromFilesInMemory, and loading from the path
// would leave the checking to ONNX Runtime; inlining is bounded by
// protobuf's 2 GiB message limit, which ONNX Runtime's parser enforces on
// any model loaded from bytes anyway.

// Field numbers of the messages that can hold a TensorProto.
const (
	modelTrainingInfo = 20 // ModelProto.training_info
	modelFunctions    = 25 // ModelProto.functions

	trainingInit      = 1 // TrainingInfoProto.initialization
	trainingAlgorithm = 2 // TrainingInfoProto.algorithm

	functionNode      = 7  // FunctionProto.node
	functionAttribute = 11 // FunctionProto.attribute_proto

	graphInitializer       = 5  // GraphProto.initializer
	graphSparseInitializer = 15 // GraphProto.sparse_initializer

	nodeAttribute = 5 // NodeProto.attribute

	attrTensor        = 5  // AttributeProto.t
	attrGraph         = 6  // AttributeProto.g
	attrTensors       = 10 // AttributeProto.tensors
	attrGraphs        = 11 // AttributeProto.graphs
	attrSparseTensor  = 22 // AttributeProto.sparse_tensor
	attrSparseTensors = 23 // AttributeProto.sparse_tensors

	sparseValues  = 1 // SparseTensorProto.values
	sparseIndices = 2 // SparseTensorProto.indices

	tensorDims         = 1  // TensorProto.dims
	tensorDataType     = 2  // TensorProto.data_type
	tensorName         = 8  // TensorProto.name
	tensorRawData      = 9  // TensorProto.raw_data
	tensorExternalData = 13 // TensorProto.external_data
	tensorDataLocation = 14 // TensorProto.data_location

	entryKey   = 1 // StringStringEntryProto.key
	entryValue = 2 // StringStringEntryProto.value

	locationExternal = 1 // TensorProto.EXTERNAL
)

// maxNesting bounds how deep the walk follows nested messages (graphs in
// attributes of nodes in graphs ...): protobuf's own parser refuses
// messages nested deeper than 100, so ONNX Runtime cannot load them
// either, and the bound keeps a hostile file from exhausting the stack.
const maxNesting = 100

// maxProto is the largest message protobuf parses (2 GiB - 1).
const maxProto = math.MaxInt32

// kind is a message type of onnx.proto, for the walk.
type kind int

const (
	kModel kind = iota
	kTraining
	kFunction
	kGraph
	kNode
	kAttribute
	kSparse
	kTensor
)

// children says which fields of a message hold messages that may
// (through more nesting) hold a TensorProto, and of what kind.
var children = map[kind]map[protowire.Number]kind{
	kModel:     {modelGraph: kGraph, modelTrainingInfo: kTraining, modelFunctions: kFunction},
	kTraining:  {trainingInit: kGraph, trainingAlgorithm: kGraph},
	kFunction:  {functionNode: kNode, functionAttribute: kAttribute},
	kGraph:     {graphNode: kNode, graphInitializer: kTensor, graphSparseInitializer: kSparse},
	kNode:      {nodeAttribute: kAttribute},
	kAttribute: {attrTensor: kTensor, attrGraph: kGraph, attrTensors: kTensor, attrGraphs: kGraph, attrSparseTensor: kSparse, attrSparseTensors: kSparse},
	kSparse:    {sparseValues: kTensor, sparseIndices: kTensor},
}

// ExternalError is a refused external data reference: which tensor,
// which location, and why.
type ExternalError struct {
	Tensor   string // the tensor's name as the file gives it
	Location string // the location as the file gives it
	Reason   string
}

func (e *ExternalError) Error() string {
	return fmt.Sprintf("external data of tensor %s at location %s: %s",
		untrusted.Quote(e.Tensor), untrusted.Quote(e.Location), e.Reason)
}

// InlineExternalData returns the model with the values of every tensor
// whose data is external read from files in dir and written in as
// raw_data, after checking that each file lies inside dir (after symbolic
// links), is a regular file, and holds the bytes the reference claims.
// dir == "" means the model has no folder (it was downloaded or read from
// bytes): any external reference is refused. A model without external
// data is returned as it is, without copying.
func InlineExternalData(data []byte, dir string) ([]byte, error) {
	if err := checkONNX(data); err != nil {
		return nil, err
	}
	in := &inliner{dir: dir, files: map[string]*os.File{}, budget: limits.ModelBytes.Get()}
	defer in.close()
	out, changed, err := in.walk(data, kModel, 0)
	if err != nil {
		return nil, err
	}
	if !changed {
		return data, nil
	}
	if len(out) > maxProto {
		return nil, fmt.Errorf("the model with its external data inlined is %d bytes, more than the 2 GiB protobuf allows for a model ONNX Runtime loads from memory", len(out))
	}
	return out, nil
}

// HasExternalData reports whether any tensor of the model keeps its data
// in another file (without opening anything).
func HasExternalData(data []byte) (bool, error) {
	found := false
	in := &inliner{probe: func() { found = true }}
	_, _, err := in.walk(data, kModel, 0)
	if err != nil && !found {
		return false, err
	}
	return found, nil
}

// inliner walks a model, rewriting the tensors with external data.
type inliner struct {
	dir     string
	realDir string // dir after symbolic links, once resolved
	files   map[string]*os.File
	budget  int64  // external bytes still allowed (limits.ModelBytes)
	probe   func() // HasExternalData: called instead of reading
}

func (in *inliner) close() {
	for _, f := range in.files {
		f.Close()
	}
}

var errProbeDone = errors.New("external data found")

// walk returns msg, of kind k, with its external tensors inlined, and
// whether anything changed; when nothing did, out is nil and msg stands.
func (in *inliner) walk(msg []byte, k kind, depth int) (out []byte, changed bool, err error) {
	if depth > maxNesting {
		return nil, false, fmt.Errorf("reading the ONNX model: messages nested more than %d deep", maxNesting)
	}
	if k == kTensor {
		return in.tensor(msg)
	}
	kids := children[k]
	rest := msg
	for len(rest) > 0 {
		num, typ, payload, n, err := consumeField(rest)
		if err != nil {
			return nil, false, fmt.Errorf("reading the ONNX model: %w", err)
		}
		raw := rest[:n]
		rest = rest[n:]
		ck, ok := kids[num]
		if !ok || typ != protowire.BytesType {
			if changed {
				out = append(out, raw...)
			}
			continue
		}
		sub, subChanged, err := in.walk(payload, ck, depth+1)
		if err != nil {
			return nil, false, err
		}
		if !subChanged {
			if changed {
				out = append(out, raw...)
			}
			continue
		}
		if !changed {
			changed = true
			out = append(make([]byte, 0, len(msg)+len(sub)), msg[:len(msg)-len(rest)-n]...)
		}
		out = protowire.AppendTag(out, num, protowire.BytesType)
		out = protowire.AppendBytes(out, sub)
	}
	return out, changed, nil
}

// consumeField reads one field: its number, type, payload (the bytes of
// a length-delimited field) and encoded length.
func consumeField(b []byte) (protowire.Number, protowire.Type, []byte, int, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, nil, 0, protowire.ParseError(n)
	}
	if typ == protowire.BytesType {
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return 0, 0, nil, 0, protowire.ParseError(m)
		}
		return num, typ, v, n + m, nil
	}
	m := protowire.ConsumeFieldValue(num, typ, b[n:])
	if m < 0 {
		return 0, 0, nil, 0, protowire.ParseError(m)
	}
	return num, typ, nil, n + m, nil
}

// extRef is what a TensorProto says about itself and its external data.
type extRef struct {
	name      string
	dataType  int32
	dims      []int64
	external  bool
	location  string
	hasLoc    bool
	offset    string
	length    string
	hasLength bool
}

// readTensor reads the fields of a TensorProto that external data needs.
// Repeated scalar fields keep the last value, as protobuf's parser does.
func readTensor(msg []byte) (*extRef, error) {
	r := &extRef{}
	err := pbwire.EachField(msg, func(num protowire.Number, typ protowire.Type, b []byte) error {
		switch {
		case num == tensorName && typ == protowire.BytesType:
			r.name = string(b)
		case num == tensorDataType && typ == protowire.VarintType:
			v, _ := protowire.ConsumeVarint(b)
			r.dataType = int32(v) // an enum: protobuf keeps the low 32 bits
		case num == tensorDataLocation && typ == protowire.VarintType:
			v, _ := protowire.ConsumeVarint(b)
			r.external = int32(v) == locationExternal
		case num == tensorDims && typ == protowire.VarintType:
			v, _ := protowire.ConsumeVarint(b)
			r.dims = append(r.dims, int64(v))
		case num == tensorDims && typ == protowire.BytesType: // packed
			for len(b) > 0 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					return protowire.ParseError(n)
				}
				r.dims, b = append(r.dims, int64(v)), b[n:]
			}
		case num == tensorExternalData && typ == protowire.BytesType:
			return r.entry(b)
		}
		return nil
	})
	return r, err
}

// entry reads one key/value pair of external_data.
func (r *extRef) entry(b []byte) error {
	var key, value string
	err := pbwire.EachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ == protowire.BytesType && num == entryKey {
			key = string(v)
		} else if typ == protowire.BytesType && num == entryValue {
			value = string(v)
		}
		return nil
	})
	switch key {
	case "location":
		r.location, r.hasLoc = value, true
	case "offset":
		r.offset = value
	case "length":
		r.length, r.hasLength = value, true
	}
	return err
}

// tensor inlines one TensorProto's external data, if it has any.
func (in *inliner) tensor(msg []byte) ([]byte, bool, error) {
	r, err := readTensor(msg)
	if err != nil {
		return nil, false, fmt.Errorf("reading the ONNX model: %w", err)
	}
	if !r.external {
		return nil, false, nil
	}
	if in.probe != nil {
		in.probe()
		return nil, false, errProbeDone
	}
	fail := func(reason string, args ...any) error {
		return &ExternalError{Tensor: r.name, Location: r.location, Reason: fmt.Sprintf(reason, args...)}
	}
	if in.dir == "" {
		return nil, false, fail("the model was not read from a local folder, so external data files cannot be found beside it; download the model with its data files, or save it with the data inside the .onnx file")
	}
	if !r.hasLoc || r.location == "" {
		return nil, false, fail("the reference has no location")
	}
	value, err := in.read(r, fail)
	if err != nil {
		return nil, false, err
	}
	return inlined(msg, value), true, nil
}

// inlined returns a TensorProto with raw_data in place of its external
// reference (and of any raw_data it also had).
func inlined(msg, value []byte) []byte {
	out := make([]byte, 0, len(msg)+len(value)+16)
	_ = pbwire.EachField(msg, func(num protowire.Number, typ protowire.Type, b []byte) error {
		switch num {
		case tensorExternalData, tensorDataLocation, tensorRawData:
			return nil
		}
		out = pbwire.AppendField(out, num, typ, b)
		return nil
	})
	out = protowire.AppendTag(out, tensorRawData, protowire.BytesType)
	return protowire.AppendBytes(out, value)
}

// read checks a reference and returns the bytes it names.
func (in *inliner) read(r *extRef, fail func(string, ...any) error) ([]byte, error) {
	f, size, err := in.open(r.location, fail)
	if err != nil {
		return nil, err
	}
	off, n, err := span(r, size, fail)
	if err != nil {
		return nil, err
	}
	if n > in.budget {
		return nil, limits.ModelBytes.Exceeded(fmt.Sprintf("external data of the model (tensor %s and those before it)", untrusted.Quote(r.name)), -1)
	}
	in.budget -= n
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fail("reading %d bytes at offset %d: %v", n, off, err)
	}
	return buf, nil
}

// span returns the offset and length of a reference's bytes, checked
// against the file's size and, where the element type is known, against
// the size the tensor's shape needs.
func span(r *extRef, size int64, fail func(string, ...any) error) (int64, int64, error) {
	off := int64(0)
	if r.offset != "" {
		v, err := strconv.ParseInt(strings.TrimSpace(r.offset), 10, 64)
		if err != nil || v < 0 {
			return 0, 0, fail("offset %s is not a non-negative whole number", untrusted.Quote(r.offset))
		}
		off = v
	}
	want, known := tensorBytes(r.dataType, r.dims)
	n := want
	if r.hasLength {
		v, err := strconv.ParseInt(strings.TrimSpace(r.length), 10, 64)
		if err != nil || v < 0 {
			return 0, 0, fail("length %s is not a non-negative whole number", untrusted.Quote(r.length))
		}
		if known && v != want {
			return 0, 0, fail("length %d does not match the %d bytes of its shape %v", v, want, r.dims)
		}
		n = v
	} else if !known {
		return 0, 0, fail("no length is given and the size of element type %d is not known", r.dataType)
	}
	if off > size || n > size-off {
		return 0, 0, fail("%d bytes at offset %d lie beyond the end of the %d-byte file", n, off, size)
	}
	return off, n, nil
}

// tensorBytes is the size of a tensor's data from its element type and
// shape, when the type has a fixed size; -1 dims or overflow give false.
func tensorBytes(dataType int32, dims []int64) (int64, bool) {
	bits, ok := elemBits[dataType]
	if !ok {
		return 0, false
	}
	n := int64(1)
	for _, d := range dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/8/d) {
			return 0, false
		}
		n *= d
	}
	return (n*bits + 7) / 8, true
}

// elemBits are the sizes in bits of TensorProto.DataType's fixed-size
// element types (STRING has none, so external strings need a length and
// ONNX Runtime then refuses them itself).
var elemBits = map[int32]int64{
	1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
	14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8,
}

// open resolves a location inside the model's folder and opens it,
// returning the file and its size. The folder and the target are both
// resolved through symbolic links, and the target must lie inside the
// folder: absolute paths, ".." and links leading out are refused.
func (in *inliner) open(loc string, fail func(string, ...any) error) (*os.File, int64, error) {
	if strings.IndexByte(loc, 0) >= 0 {
		return nil, 0, fail("the location contains a NUL byte")
	}
	if filepath.IsAbs(loc) || strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) {
		return nil, 0, fail("absolute paths are refused: external data must lie in the model's folder")
	}
	if !filepath.IsLocal(loc) {
		return nil, 0, fail("the path leads out of the model's folder: external data must lie in it")
	}
	if in.realDir == "" {
		d, err := filepath.EvalSymlinks(in.dir)
		if err != nil {
			return nil, 0, fail("resolving the model's folder: %v", err)
		}
		if in.realDir, err = filepath.Abs(d); err != nil {
			return nil, 0, fail("resolving the model's folder: %v", err)
		}
	}
	target, err := filepath.EvalSymlinks(filepath.Join(in.realDir, loc))
	if err != nil {
		return nil, 0, fail("no such file in the model's folder")
	}
	if target, err = filepath.Abs(target); err != nil {
		return nil, 0, fail("resolving the path: %v", err)
	}
	if rel, err := filepath.Rel(in.realDir, target); err != nil || !filepath.IsLocal(rel) {
		return nil, 0, fail("a symbolic link leads out of the model's folder: external data must lie in it")
	}
	if f, ok := in.files[target]; ok {
		st, err := f.Stat()
		if err != nil {
			return nil, 0, fail("%v", err)
		}
		return f, st.Size(), nil
	}
	// Stat before opening: opening a FIFO would block.
	st, err := os.Stat(target)
	if err != nil || !st.Mode().IsRegular() {
		return nil, 0, fail("not a regular file")
	}
	f, err := os.Open(target)
	if err != nil {
		return nil, 0, fail("opening it: %v", errors.Unwrap(err))
	}
	if st2, err := f.Stat(); err != nil || !os.SameFile(st, st2) {
		f.Close()
		return nil, 0, fail("the file changed while it was opened")
	}
	in.files[target] = f
	return f, st.Size(), nil
}
