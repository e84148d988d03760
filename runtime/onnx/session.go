package onnx

import (
	"fmt"
	"sort"

	ort "github.com/yalue/onnxruntime_go"
)

// Options configure a session.
type Options struct {
	// Threads is the intra-op thread count; 0 means DefaultThreads.
	Threads int
	// Spin lets idle pool threads spin (lower latency, busier cores).
	Spin bool
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

	s *ort.DynamicAdvancedSession
}

// NewSession loads a model from its bytes. An error says what is wrong
// with the file (not ONNX, unsupported operator, ...).
func NewSession(data []byte, opts Options) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("the file is empty, not an ONNX model")
	}
	// Reading the signature needs a throwaway session of its own.
	ins, outs, err := getInfo(data)
	if err != nil {
		return nil, fmt.Errorf("not a usable ONNX model: %v", err)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = DefaultThreads()
	}
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
	if !opts.Spin {
		_ = so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
	}
	inNames := make([]string, len(ins))
	for i, in := range ins {
		inNames[i] = in.Name
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
	outs = tensors
	outNames := make([]string, len(outs))
	for i, o := range outs {
		outNames[i] = o.Name
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, inNames, outNames, so)
	if err != nil {
		return nil, fmt.Errorf("not a usable ONNX model: %v", err)
	}
	sess := &Session{Inputs: ins, Outputs: outs, Skipped: skipped, Metadata: map[string]string{}, Threads: threads, s: s}
	if md, err := s.GetModelMetadata(); err == nil {
		sess.Producer, _ = md.GetProducerName()
		if keys, err := md.GetCustomMetadataMapKeys(); err == nil {
			for _, k := range keys {
				if v, ok, err := md.LookupCustomMetadataMap(k); err == nil && ok {
					sess.Metadata[k] = v
				}
			}
		}
		md.Destroy()
	}
	return sess, nil
}

// getInfo reads the inputs and outputs.
func getInfo(data []byte) (ins, outs []Info, err error) {
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
