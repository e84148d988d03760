// Package testflavor is a flavor for tests of the engine: small, exact and
// observable. Importing it registers the flavor "test". Its model types:
//
//	sum     DOUBLE: the sum of all numeric arguments (list elements too), times scale
//	label   STRUCT(label_id INTEGER, score FLOAT, label VARCHAR): label_id = int(first arg)
//	echo    FLOAT[]: the first argument, a list of numbers, times scale
//	class   INTEGER: int(first arg)
//	fail    DOUBLE: every Predict fails
//
// USING is optional; when given, the file must hold a JSON object such as
// {"scale": 2}, which proves the model was loaded from that location.
package testflavor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

func init() {
	model.Flavors.Register("test", flavor{})
	model.RegisterExtension(".testmodel", "test")
}

// Stats observes what the engine does with test models.
var Stats struct {
	Loads   atomic.Int64
	Closes  atomic.Int64
	Calls   atomic.Int64
	Rows    atomic.Int64
	mu      sync.Mutex
	Batches []int
}

// Reset clears Stats.
func Reset() {
	Stats.Loads.Store(0)
	Stats.Closes.Store(0)
	Stats.Calls.Store(0)
	Stats.Rows.Store(0)
	Stats.mu.Lock()
	Stats.Batches = nil
	Stats.mu.Unlock()
}

// BatchSizes returns the batch sizes Predict has seen.
func BatchSizes() []int {
	Stats.mu.Lock()
	defer Stats.mu.Unlock()
	return append([]int(nil), Stats.Batches...)
}

var labelType = types.StructOf(
	types.Field{Name: "label_id", Type: types.Int32T},
	types.Field{Name: "score", Type: types.Float32T},
	types.Field{Name: "label", Type: types.StringT},
)

var kinds = map[string]types.Type{
	"sum": types.Float64T, "label": labelType, "echo": types.ListOf(types.Float32T),
	"class": types.Int32T, "fail": types.Float64T, "selfbatch": types.Float64T,
}

type flavor struct{}

func (flavor) Load(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	mt := spec.ModelType
	if mt == "" {
		mt = "sum"
	}
	t, ok := kinds[mt]
	if !ok {
		return nil, fmt.Errorf("unknown test model type %q; known: class, echo, fail, label, selfbatch, sum", mt)
	}
	m := &testModel{kind: mt, t: t, scale: 1, labels: spec.Labels}
	if art != nil {
		rc, err := art.Open(ctx)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			return nil, err
		}
		var cfg struct{ Scale float64 }
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("%s is not a test model: %v", art.Location(), err)
		}
		if cfg.Scale != 0 {
			m.scale = cfg.Scale
		}
	}
	Stats.Loads.Add(1)
	if mt == "selfbatch" {
		m.kind = "sum"
		return selfBatching{m}, nil
	}
	return m, nil
}

// selfBatching is the sum model declaring that it batches itself.
type selfBatching struct{ *testModel }

func (selfBatching) BatchesItself() {}

func (m selfBatching) ModelType() string { return "selfbatch" }

type testModel struct {
	kind   string
	t      types.Type
	scale  float64
	labels []string
}

func (m *testModel) Type() types.Type  { return m.t }
func (m *testModel) ModelType() string { return m.kind }
func (m *testModel) Close() error      { Stats.Closes.Add(1); return nil }

func (m *testModel) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	Stats.Calls.Add(1)
	Stats.Rows.Add(int64(b.Rows))
	Stats.mu.Lock()
	Stats.Batches = append(Stats.Batches, b.Rows)
	Stats.mu.Unlock()
	if m.kind == "fail" {
		return nil, fmt.Errorf("test model fails on purpose")
	}
	out := make([]any, b.Rows)
	for r := range b.Rows {
		v, err := m.row(b, r)
		if err != nil {
			return nil, err
		}
		out[r] = v
	}
	return out, nil
}

func (m *testModel) row(b *model.Batch, r int) (any, error) {
	switch m.kind {
	case "sum":
		s := 0.0
		for _, a := range b.Args {
			xs, err := numbers(a[r])
			if err != nil {
				return nil, err
			}
			for _, x := range xs {
				s += x
			}
		}
		return s * m.scale, nil
	case "echo":
		xs, err := numbers(b.Args[0][r])
		if err != nil {
			return nil, err
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			out[i] = float32(x * m.scale)
		}
		return out, nil
	}
	x, err := numbers(b.Args[0][r])
	if err != nil || len(x) != 1 {
		return nil, fmt.Errorf("expects one number, got %v", b.Args[0][r])
	}
	id := int32(x[0])
	if m.kind == "class" {
		return id, nil
	}
	label := fmt.Sprintf("label%d", id)
	if int(id) >= 0 && int(id) < len(m.labels) {
		label = m.labels[id]
	}
	return map[string]any{"label_id": id, "score": float32(0.5), "label": label}, nil
}

func numbers(v any) ([]float64, error) {
	if list, ok := v.([]any); ok {
		out := make([]float64, 0, len(list))
		for _, e := range list {
			f, ok := model.Float64Of(e)
			if !ok {
				return nil, fmt.Errorf("expects numbers, got %T", e)
			}
			out = append(out, f)
		}
		return out, nil
	}
	f, ok := model.Float64Of(v)
	if !ok {
		return nil, fmt.Errorf("expects numbers, got %T", v)
	}
	return []float64{f}, nil
}
