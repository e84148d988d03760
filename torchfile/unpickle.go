package torchfile

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/pickle"
)

// elemSize is the bytes of one element of each dtype augur reads.
var elemSize = map[DType]int64{
	Float32: 4, Float16: 2, BFloat16: 2, Float64: 8, Int64: 8, Int32: 4,
	Int16: 2, Int8: 1, Uint8: 1, Bool: 1,
}

// storageDTypes maps torch's storage classes (and, as newer files may
// name them, its dtypes) to the element type of their data.
var storageDTypes = map[string]DType{
	"FloatStorage": Float32, "HalfStorage": Float16, "BFloat16Storage": BFloat16,
	"DoubleStorage": Float64, "LongStorage": Int64, "IntStorage": Int32,
	"ShortStorage": Int16, "CharStorage": Int8, "ByteStorage": Uint8, "BoolStorage": Bool,
	"UntypedStorage": Uint8,
	"float32":        Float32, "float": Float32, "float16": Float16, "half": Float16,
	"bfloat16": BFloat16, "float64": Float64, "double": Float64,
	"int64": Int64, "long": Int64, "int32": Int32, "int": Int32,
	"int16": Int16, "short": Int16, "int8": Int8, "uint8": Uint8, "bool": Bool,
}

// Rebuilders of torch that augur implements: each makes a tensor view
// of a storage, or returns the tensor a parameter wraps.
const (
	rebuildTensorV2    = "torch._utils._rebuild_tensor_v2"
	rebuildTensor      = "torch._utils._rebuild_tensor"
	rebuildParameter   = "torch._utils._rebuild_parameter"
	rebuildParamState  = "torch._utils._rebuild_parameter_with_state"
	rebuildFromTypeV2  = "torch._tensor._rebuild_from_type_v2"
	orderedDict        = "collections.OrderedDict"
	maxDims            = 64 // torch's own limit on a tensor's dimensions
	moduleClassesTorch = "torch.nn.modules."
)

// inertGlobals may be referenced but are never called: layouts, memory
// formats, the tensor and parameter classes _rebuild_from_type_v2 names.
var inertGlobals = map[string]bool{
	"torch.strided": true, "torch.contiguous_format": true, "torch.preserve_format": true,
	"torch.serialization._get_layout": true, "torch.Tensor": true,
	"torch.nn.parameter.Parameter": true, "torch._tensor.Tensor": true,
}

// allowClass admits the module classes of torch and torchvision (plain
// containers of parameters, buffers and submodules), storage classes,
// dtypes and the inert globals.
func allowClass(key string) bool {
	if inertGlobals[key] {
		return true
	}
	for _, p := range []string{moduleClassesTorch, "torchvision.models.", "torchvision.ops."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	mod, name, _ := cutLast(key)
	_, isStorage := storageDTypes[name]
	return isStorage && (mod == "torch" || mod == "torch.cuda" || mod == "torch.storage")
}

func cutLast(key string) (mod, name string, ok bool) {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return "", key, false
	}
	return key[:i], key[i+1:], true
}

// storage is one storage of the file: its key, element type and count;
// data is filled in once the file's storages are read.
type storage struct {
	key    string
	dtype  DType
	numel  int64
	data   []byte
	loaded bool
}

// storageRef is what a persistent id resolves to: a storage, or (legacy
// files of old torch) a window of one.
type storageRef struct {
	st     *storage
	offset int64 // in elements
	numel  int64
}

// view is a tensor as its rebuilder describes it, before its data is
// copied out.
type view struct {
	ref    *storageRef
	offset int64
	size   []int64
	stride []int64
}

// reader holds the state of one file's pickle: the storages its
// persistent ids name, by key.
type reader struct {
	legacy   bool
	storages map[string]*storage
	order    []*storage
}

func newReader(legacy bool) *reader {
	return &reader{legacy: legacy, storages: map[string]*storage{}}
}

func (rd *reader) options() *pickle.Options {
	return &pickle.Options{
		Allow: allowClass,
		Funcs: map[string]func(pickle.Tuple) (any, error){
			rebuildTensorV2:   rebuildTensorArgs,
			rebuildTensor:     rebuildTensorArgs,
			rebuildParameter:  rebuildParameterArgs,
			rebuildParamState: rebuildParameterArgs,
			rebuildFromTypeV2: rebuildFromType,
			orderedDict:       newOrderedDict,
		},
		PersistentLoad: rd.persistentLoad,
		Build:          buildIgnoringDictAttrs,
	}
}

// newOrderedDict makes an OrderedDict a plain dict: insertion order is
// kept by pickle.Dict anyway.
func newOrderedDict(args pickle.Tuple) (any, error) {
	d := &pickle.Dict{}
	if len(args) == 0 {
		return d, nil
	}
	if len(args) > 1 {
		return nil, errors.New("OrderedDict() with more than one argument")
	}
	items, ok := args[0].(*pickle.List)
	if !ok {
		return nil, fmt.Errorf("OrderedDict of a %T", args[0])
	}
	for _, it := range items.Items {
		p, ok := it.(pickle.Tuple)
		if !ok || len(p) != 2 {
			return nil, errors.New("OrderedDict() needs pairs")
		}
		d.Set(p[0], p[1])
	}
	return d, nil
}

// buildIgnoringDictAttrs accepts the attributes torch sets on a
// state_dict's OrderedDict (_metadata, the module versions): they say
// nothing about the weights.
func buildIgnoringDictAttrs(obj, state any) (bool, error) {
	if _, ok := obj.(*pickle.Dict); ok {
		return true, nil
	}
	if _, ok := obj.(*view); ok {
		// A tensor's Python attributes (_rebuild_from_type_v2 sets them
		// itself; BUILD is older torch's way).
		return true, nil
	}
	return false, nil
}

// persistentLoad resolves ('storage', type, key, location, numel[,
// view_metadata]) and, in legacy files, ('module', class, file, source).
func (rd *reader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pickle.Tuple)
	if !ok || len(t) == 0 {
		return nil, fmt.Errorf("persistent id is a %T, not a tuple", pid)
	}
	switch asString(t[0]) {
	case "storage":
		return rd.storageID(t[1:])
	case "module":
		if len(t) < 2 {
			return nil, errors.New("module persistent id without a class")
		}
		// The class already passed the allowlist when its GLOBAL was
		// read; the source text beside it is ignored.
		return t[1], nil
	}
	return nil, fmt.Errorf("unknown persistent id type %s", untrusted.Quote(asString(t[0])))
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x) // Python 2 files, read with encoding='bytes'
	}
	return fmt.Sprintf("<%T>", v)
}

func (rd *reader) storageID(t pickle.Tuple) (any, error) {
	if len(t) != 4 && len(t) != 5 {
		return nil, fmt.Errorf("storage persistent id has %d fields", len(t)+1)
	}
	dtype, err := storageDType(t[0])
	if err != nil {
		return nil, err
	}
	key, ok := t[1].(string)
	if !ok {
		return nil, fmt.Errorf("storage key is a %T", t[1])
	}
	numel, ok := t[3].(int64)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %s: bad element count %v", untrusted.Quote(key), t[3])
	}
	st, err := rd.storage(key, dtype, numel)
	if err != nil {
		return nil, err
	}
	ref := &storageRef{st: st, numel: st.numel}
	if len(t) == 5 && t[4] != nil {
		return viewOfStorage(ref, t[4])
	}
	return ref, nil
}

// storage returns the storage of a key, the same one for every id that
// names it (shared storages); all ids must agree on its type and size.
func (rd *reader) storage(key string, dtype DType, numel int64) (*storage, error) {
	if st, ok := rd.storages[key]; ok {
		if st.dtype != dtype || st.numel != numel {
			return nil, fmt.Errorf("storage %s is named as %d %s and as %d %s",
				untrusted.Quote(key), st.numel, st.dtype, numel, dtype)
		}
		return st, nil
	}
	st := &storage{key: key, dtype: dtype, numel: numel}
	rd.storages[key] = st
	rd.order = append(rd.order, st)
	return st, nil
}

// viewOfStorage handles old torch's storage views: (view_key, offset,
// size) in elements of the root storage.
func viewOfStorage(root *storageRef, meta any) (any, error) {
	m, ok := meta.(pickle.Tuple)
	if !ok || len(m) != 3 {
		return nil, errors.New("storage view metadata is not (key, offset, size)")
	}
	off, ok1 := m[1].(int64)
	n, ok2 := m[2].(int64)
	if !ok1 || !ok2 || off < 0 || n < 0 || off > root.numel || n > root.numel-off {
		return nil, fmt.Errorf("storage view (%v, %v) outside its storage of %d elements", m[1], m[2], root.numel)
	}
	return &storageRef{st: root.st, offset: off, numel: n}, nil
}

func storageDType(v any) (DType, error) {
	g, ok := v.(*pickle.Global)
	if !ok {
		return "", fmt.Errorf("storage type is a %T, not a storage class", v)
	}
	if d, ok := storageDTypes[g.Name]; ok {
		return d, nil
	}
	return "", fmt.Errorf("storage type %s is not one augur reads", untrusted.Name(g.Key))
}

// rebuildTensorArgs is _rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]) and the older
// _rebuild_tensor(storage, storage_offset, size, stride).
func rebuildTensorArgs(args pickle.Tuple) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("tensor rebuilder with %d arguments", len(args))
	}
	ref, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("tensor of a %T, not a storage", args[0])
	}
	off, ok := args[1].(int64)
	if !ok || off < 0 {
		return nil, fmt.Errorf("tensor storage offset %v", args[1])
	}
	size, err := dims("size", args[2])
	if err != nil {
		return nil, err
	}
	stride, err := dims("stride", args[3])
	if err != nil {
		return nil, err
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("tensor has %d sizes and %d strides", len(size), len(stride))
	}
	return &view{ref: ref, offset: off, size: size, stride: stride}, nil
}

func dims(what string, v any) ([]int64, error) {
	t, ok := v.(pickle.Tuple)
	if !ok {
		return nil, fmt.Errorf("tensor %s is a %T, not a tuple", what, v)
	}
	if len(t) > maxDims {
		return nil, fmt.Errorf("tensor has %d dimensions, more than %d", len(t), maxDims)
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n < 0 {
			if b, isBig := x.(*big.Int); isBig {
				return nil, fmt.Errorf("tensor %s %s is too large", what, b)
			}
			return nil, fmt.Errorf("tensor %s %v is not a non-negative integer", what, x)
		}
		if n > math.MaxInt64/2 {
			return nil, fmt.Errorf("tensor %s %d is too large", what, n)
		}
		out[i] = n
	}
	return out, nil
}

// rebuildParameterArgs is _rebuild_parameter(data, requires_grad,
// backward_hooks[, state]): the parameter is its tensor.
func rebuildParameterArgs(args pickle.Tuple) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("parameter rebuilder without a tensor")
	}
	v, ok := args[0].(*view)
	if !ok {
		return nil, fmt.Errorf("parameter of a %T, not a tensor", args[0])
	}
	return v, nil
}

// rebuildFromType is _rebuild_from_type_v2(func, new_type, args, state):
// a tensor (or parameter) with Python attributes; func must be one of
// the rebuilders above, and the attributes are dropped.
func rebuildFromType(args pickle.Tuple) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_rebuild_from_type_v2 with %d arguments", len(args))
	}
	g, ok := args[0].(*pickle.Global)
	inner, ok2 := args[2].(pickle.Tuple)
	if !ok || !ok2 {
		return nil, errors.New("_rebuild_from_type_v2 needs a rebuilder and its arguments")
	}
	switch g.Key {
	case rebuildTensorV2, rebuildTensor:
		return rebuildTensorArgs(inner)
	case rebuildParameter, rebuildParamState:
		return rebuildParameterArgs(inner)
	}
	return nil, fmt.Errorf("_rebuild_from_type_v2 of %s", untrusted.Name(g.Key))
}
