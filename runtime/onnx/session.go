package onnx

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur/internal/mmap"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// Options configure a session.
type Options struct {
	// Threads is the intra-op thread count; 0 means DefaultThreads. More
	// than limits.Threads is refused: ONNX Runtime starts every thread of
	// the pool at once (100000 took gigabytes and minutes).
	Threads int
	// Spin lets idle pool threads spin (lower latency, busier cores).
	Spin bool
	// Optimized is the folder of ONNX Runtime's optimized graphs (see
	// optimized.go); "" optimizes at every load.
	Optimized string
	// Key names the model's content in that folder when the caller knows
	// it (a content-addressed cache entry's name); "" means the sha256 of
	// the model's bytes.
	Key string
}

// Info describes one input or output of a model.
type Info = ort.InputOutputInfo

// Session is one loaded model: safe for concurrent Run calls.
type Session struct {
	Inputs   []Info
	Outputs  []Info            // the tensor outputs: the ones Run computes
	Skipped  []Info            // outputs that are not tensors (skl2onnx's ZipMap), never computed
	Metadata map[string]string // the model's custom metadata
	Producer string            // e.g. "pytorch", "skl2onnx"
	Threads  int
	// OptimizedPath is the optimized graph the session was loaded from or
	// saved to, "" if none.
	OptimizedPath string

	s         *ort.DynamicAdvancedSession
	optimized *mmap.File // the optimized graph ONNX Runtime runs from, if any
}

// NewSession loads a model from its bytes. An error says what is wrong
// with the file (not ONNX, unsupported operator, ...), with any text
// from the file escaped. The model must not keep data in other files:
// InlineExternalData resolves and checks those first.
func NewSession(data []byte, opts Options) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if err := CheckThreads(opts.Threads); err != nil {
		return nil, err
	}
	if err := checkModelBytes(data); err != nil {
		return nil, err
	}
	// Reading the signature needs a throwaway session of its own.
	ins, outs, err := getInfo(data)
	if err != nil {
		return nil, fmt.Errorf("not a usable ONNX model: %s", untrusted.Clean(err.Error()))
	}
	if err := checkInputs(ins); err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = DefaultThreads()
	}
	var tensors, skipped []Info
	for _, o := range outs {
		if o.OrtValueType == ort.ONNXTypeTensor {
			tensors = append(tensors, o)
		} else {
			skipped = append(skipped, o)
		}
	}
	if len(tensors) == 0 {
		return nil, fmt.Errorf("the model has no tensor outputs")
	}
	sess := &Session{Inputs: ins, Outputs: tensors, Skipped: skipped, Metadata: map[string]string{}, Threads: threads}
	if opts.Optimized != "" {
		sess.s, sess.optimized, sess.OptimizedPath = optimizedSession(data, ins, tensors, threads, opts)
	}
	if sess.s == nil {
		if sess.s, err = newSession(data, ins, tensors, threads, opts.Spin, nil); err != nil {
			return nil, err
		}
	}
	sess.readMetadata()
	return sess, nil
}

// CheckThreads refuses a thread count above limits.Threads.
func CheckThreads(n int) error {
	if lim := limits.Threads.Get(); int64(n) > lim {
		return fmt.Errorf("threads = %d is more than the maximum of %d threads (set %s to raise it)", n, lim, limits.Threads.Env)
	}
	return nil
}

// checkModelBytes refuses what is not an ONNX model, describing the file
// instead of echoing it, and models that still name external files.
func checkModelBytes(data []byte) error {
	if err := checkONNX(data); err != nil {
		return err
	}
	has, err := HasExternalData(data)
	if err != nil {
		return fmt.Errorf("not a usable ONNX model: %w", err)
	}
	if has {
		return fmt.Errorf("the model keeps tensor data in other files; InlineExternalData must check and read them first")
	}
	return nil
}

// checkONNX refuses bytes that are not an ONNX model, saying what kind of
// file they look like rather than echoing them.
func checkONNX(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("the file is empty, not an ONNX model")
	}
	if _, err := graphBytes(data); err != nil {
		what := untrusted.Describe(data)
		if what == "an ONNX model" {
			return fmt.Errorf("not a usable ONNX model: the file is damaged or cut short (%v)", err)
		}
		return fmt.Errorf("not a usable ONNX model: the file is %s", what)
	}
	return nil
}

// checkInputs refuses a model whose fixed input shape alone, at one row
// (free dimensions taken as 1), exceeds limits.TensorElements: augur
// could never allocate a tensor for it.
func checkInputs(ins []Info) error {
	for _, in := range ins {
		if in.OrtValueType != ort.ONNXTypeTensor {
			continue
		}
		n := MinElements(in.Dimensions)
		if lim := limits.TensorElements.Get(); n > lim {
			return fmt.Errorf("input %s of shape %s needs %d elements for one row, more than the limit of %d %s (set %s to raise it)",
				untrusted.Quote(in.Name), ShapeString(in.Dimensions), n, lim, limits.TensorElements.Name, limits.TensorElements.Env)
		}
	}
	return nil
}

// MinElements is the number of elements of a tensor of shape dims with
// every free dimension (negative) taken as 1; it saturates at MaxInt64.
func MinElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d <= 0 {
			if d == 0 {
				return 0
			}
			continue
		}
		if n > math.MaxInt64/d {
			return math.MaxInt64
		}
		n *= d
	}
	return n
}

// ShapeString writes a shape as [?,3,224,224], free dimensions as ?.
func ShapeString(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.FormatInt(d, 10)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// newSession creates the ONNX Runtime session for the tensor outputs.
// newSession creates ONNX Runtime's session; configure, if not nil, sets
// more options.
func newSession(data []byte, ins, outs []Info, threads int, spin bool, configure func(*ort.SessionOptions) error) (*ort.DynamicAdvancedSession, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	if !spin {
		_ = so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
	}
	if configure != nil {
		if err := configure(so); err != nil {
			return nil, err
		}
	}
	inNames := make([]string, len(ins))
	for i, in := range ins {
		inNames[i] = in.Name
	}
	outNames := make([]string, len(outs))
	for i, o := range outs {
		outNames[i] = o.Name
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, inNames, outNames, so)
	if err != nil {
		return nil, fmt.Errorf("not a usable ONNX model: %s", untrusted.Clean(err.Error()))
	}
	return s, nil
}

// readMetadata copies the producer and custom metadata, as the file has
// them (callers escape them where they show them).
func (s *Session) readMetadata() {
	md, err := s.s.GetModelMetadata()
	if err != nil {
		return
	}
	defer md.Destroy()
	s.Producer, _ = md.GetProducerName()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return
	}
	for _, k := range keys {
		if v, ok, err := md.LookupCustomMetadataMap(k); err == nil && ok {
			s.Metadata[k] = v
		}
	}
}

// getInfo reads the inputs and outputs from the graph (see ReadInfo),
// and asks ONNX Runtime, which infers what the graph leaves out, only
// when a type or shape is not declared.
func getInfo(data []byte) (ins, outs []Info, err error) {
	if ins, outs, err := ReadInfo(data); err == nil && Complete(ins, outs) {
		return ins, outs, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return ort.GetInputOutputInfoWithONNXData(data)
}

// Run runs the model; outputs are allocated by ONNX Runtime, in the order
// of Outputs, and must be destroyed by the caller (see Destroy).
func (s *Session) Run(inputs []ort.Value) ([]ort.Value, error) {
	outs := make([]ort.Value, len(s.Outputs))
	if err := s.s.Run(inputs, outs); err != nil {
		Destroy(outs)
		return nil, err
	}
	return outs, nil
}

// Close releases the session.
func (s *Session) Close() error {
	if s == nil || s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	s.optimized.Close() // after the session that reads it
	return err
}

// Destroy releases values, skipping nils.
func Destroy(vs []ort.Value) {
	for _, v := range vs {
		if v != nil {
			_ = v.Destroy()
		}
	}
}

// MetadataKeys lists the custom metadata keys, sorted.
func (s *Session) MetadataKeys() []string {
	keys := make([]string, 0, len(s.Metadata))
	for k := range s.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
