package model

import (
	"context"
	"time"
)

// Phase is a part of a batch's time that a flavor can tell apart: what
// SHOW MODEL STATS and EXPLAIN ANALYZE split a model's time into.
type Phase int

// The phases of a batch.
const (
	Pre  Phase = iota // reading and decoding inputs, building tensors
	Run               // the runtime (ONNX Runtime's Run)
	Post              // building results from the runtime's outputs
	NumPhases
)

// Recorder receives what a flavor measures of the batches it runs. The
// engine puts one on the context of every Predict (WithRecorder); a
// flavor that can tell its phases apart reports them with AddPhase.
// Implementations are safe for concurrent use and cheap (atomics): they
// are called a few times a batch, never per row.
type Recorder interface {
	// Phase adds d to phase p of the current model's time.
	Phase(p Phase, d time.Duration)
	// Batch reports one batch that a BatchReporter ran itself, taking d
	// (the engine counts the rows).
	Batch(d time.Duration)
}

// BatchReporter is implemented by SelfBatching models that report each
// batch they run with ReportBatch: the engine then counts those batches
// (and their latency) instead of one batch per Predict call.
type BatchReporter interface {
	ReportsBatches()
}

// Sizer is implemented by models that can estimate the memory they hold
// once loaded (weights, tree nodes, the graph's bytes), for SHOW MODEL
// STATS. Without it the engine shows the artifact's size.
type Sizer interface {
	SizeBytes() int64
}

type recorderKey struct{}

// WithRecorder returns ctx carrying r, for the Predict calls made with it.
func WithRecorder(ctx context.Context, r Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// RecorderFrom returns the recorder on ctx, nil when there is none.
func RecorderFrom(ctx context.Context) Recorder {
	if ctx == nil {
		return nil
	}
	r, _ := ctx.Value(recorderKey{}).(Recorder)
	return r
}

// AddPhase adds the time since t0 to phase p of ctx's recorder, if any,
// and returns the current time, so that consecutive phases chain:
//
//	t := time.Now()
//	... build tensors ...
//	t = model.AddPhase(ctx, model.Pre, t)
//	... run ...
//	t = model.AddPhase(ctx, model.Run, t)
func AddPhase(ctx context.Context, p Phase, t0 time.Time) time.Time {
	now := time.Now()
	if r := RecorderFrom(ctx); r != nil {
		r.Phase(p, now.Sub(t0))
	}
	return now
}

// ReportBatch reports one batch run since t0 to ctx's recorder, if any
// (see BatchReporter).
func ReportBatch(ctx context.Context, t0 time.Time) {
	if r := RecorderFrom(ctx); r != nil {
		r.Batch(time.Since(t0))
	}
}

// Unwrapper is implemented by models that wrap another (probabilities,
// conversions): optional interfaces are looked up through it.
type Unwrapper interface {
	Unwrap() Model
}

// As finds an optional interface T on m or on a model it wraps.
func As[T any](m Model) (T, bool) {
	for m != nil {
		if t, ok := m.(T); ok {
			return t, true
		}
		u, ok := m.(Unwrapper)
		if !ok {
			break
		}
		m = u.Unwrap()
	}
	var zero T
	return zero, false
}
