package xgboost

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

// Model is a loaded XGBoost model. It is immutable after Load, so
// Predict is safe for concurrent use.
type Model struct {
	name        string
	b           *booster
	kind        string
	file        *file
	typ         types.Type
	classes     []any // classification: the class values, in order
	rounds      int   // boosting rounds used, 0: all
	missing     *float32
	onErrorNull bool
}

var (
	_ model.DenseModel   = (*Model)(nil)
	_ model.Classifier   = (*Model)(nil)
	_ model.FeatureNamer = (*Model)(nil)
	_ model.Describer    = (*Model)(nil)
	_ model.OptionKeyer  = Flavor{}
)

// Type is the result type.
func (m *Model) Type() types.Type { return m.typ }

// ModelType is regression, classification or ranking.
func (m *Model) ModelType() string { return m.kind }

// Close does nothing: the model holds only memory.
func (m *Model) Close() error { return nil }

// Features is the number of features: every result is a number, so the
// dense path always applies.
func (m *Model) Features() int { return m.b.numFeature }

// FeatureNames are the file's feature_names, nil when it has none.
func (m *Model) FeatureNames() []string { return m.b.names }

// Classes are the class values (the wrapper's classes_, else 0..n-1).
func (m *Model) Classes() []any {
	if m.kind != classification {
		return nil
	}
	return m.classes
}

// ClassType is INTEGER.
func (m *Model) ClassType() types.Type { return types.Int32T }

// Describe reports the model for DESCRIBE MODEL.
func (m *Model) Describe() map[string]any {
	b := m.b
	d := map[string]any{
		"flavor":      "xgboost",
		"model_type":  m.kind,
		"objective":   b.objName,
		"booster":     b.booster,
		"format":      m.file.format,
		"num_feature": b.numFeature,
		"result_type": m.typ.String(),
	}
	if b.version != "" {
		d["xgboost_version"] = b.version
	}
	if m.file.wrapper != "" {
		d["estimator"] = untrusted.Clean(m.file.wrapper)
	}
	if b.numClass > 0 {
		d["num_class"] = b.numClass
	}
	if m.kind == classification {
		d["classes"] = m.classes
	}
	bs := make([]float64, len(b.baseScore))
	for i, v := range b.baseScore {
		bs[i] = float64(v)
	}
	d["base_score"] = bs
	if b.ens != nil {
		d["trees"] = b.ens.ntrees
		d["max_depth"] = b.ens.depth
	}
	if m.rounds > 0 {
		d["iterations"] = m.rounds
	}
	in := map[string]any{"name": "X", "type": "double", "shape": fmt.Sprintf("[%d]", b.numFeature)}
	if b.names != nil {
		names := make([]string, len(b.names))
		for i, n := range b.names {
			names[i] = untrusted.Clean(n)
		}
		d["feature_names"] = names
		in["features"] = names
	}
	d["inputs"] = []any{in}
	d["outputs"] = []any{map[string]any{"name": "prediction", "type": m.typ.SQL()}}
	return d
}

// block is the rows predicted together: every tree is walked for the
// block's rows before the next tree, as XGBoost's CPU predictor does,
// so that a tree's nodes stay in cache.
const block = 64

// scratch holds one block's float32 features, their keys (key32) and
// margins.
type scratch struct {
	x  []float32
	k  []int32
	hk []uint32 // k interleaved for the heap walk (heap.go)
	m  []float32
	p  []float64
}

var scratchPool sync.Pool

func (m *Model) scratch() *scratch {
	s, _ := scratchPool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	nx, nm := block*m.b.numFeature, block*m.b.groups
	if cap(s.x) < nx {
		s.x, s.k = make([]float32, nx), make([]int32, 2*nx)
	}
	if cap(s.m) < nm {
		s.m = make([]float32, nm)
	}
	if cap(s.p) < max(m.b.groups, 2) {
		s.p = make([]float64, max(m.b.groups, 2))
	}
	if nh := heapKeys(block, 2*m.b.numFeature); cap(s.hk) < nh {
		s.hk = make([]uint32, nh)
	}
	s.x, s.k, s.m = s.x[:nx], s.k[:2*nx], s.m[:nm]
	s.hk = s.hk[:cap(s.hk)]
	return s
}

// load converts rows [start, end) of x to float32, missing as NaN,
// marking in skip (under on_error = 'null') or refusing a row with an
// infinite value or one beyond float32's range, as XGBoost's DMatrix
// refuses them. Rows already in skip are left alone.
func (m *Model) load(x []float64, skip []bool, start, end int, dst []float32, keys []int32) error {
	nf := m.b.numFeature
	for r := start; r < end; r++ {
		if skip[r] {
			continue
		}
		row := dst[(r-start)*nf : (r-start+1)*nf]
		// Two copies of the keys (see node): missing goes right in the
		// first, left in the second.
		kr := keys[(r-start)*2*nf : (r-start+1)*2*nf]
		kl := kr[nf:]
	features:
		for j, v := range x[r*nf : (r+1)*nf] {
			f := float32(v)
			switch {
			case f != f || m.missing != nil && f == *m.missing:
				row[j], kr[j], kl[j] = float32(math.NaN()), missingRight, missingLeft
				continue
			case math.IsInf(float64(f), 0):
				if m.onErrorNull {
					skip[r] = true
					break features
				}
				return m.refused(x[r*nf:(r+1)*nf], j, v)
			}
			k := key32(f)
			row[j], kr[j], kl[j] = f, k, k
		}
	}
	return nil
}

func (m *Model) refused(row []float64, j int, v float64) error {
	what := "infinity"
	if !math.IsInf(v, 0) {
		what = fmt.Sprintf("%g, beyond float32's range, which XGBoost reads its features as", v)
	}
	return fmt.Errorf("model %q: input contains %s (feature %d of the row %s); XGBoost refuses it (\"Input data contains `inf` or `nan`\"); OPTIONS (on_error = 'null') returns NULL for such rows, and NaN or NULL means a missing value",
		m.name, what, j+1, model.ShowRow(row))
}

// margins computes the margins of n rows of x32 (float32 features, and
// their keys; hk is scratch for the heap walk's copy of them) into
// mg (n*groups): base_score's margin plus every tree's leaf, summed in
// float32 in tree order, or gblinear's bias and weights.
func (b *booster) margins(x32 []float32, keys []int32, hk []uint32, n int, mg []float32, skip []bool) {
	g, nf := b.groups, b.numFeature
	for r := 0; r < n; r++ {
		copy(mg[r*g:(r+1)*g], b.baseMargin)
	}
	if e := b.ens; e != nil {
		h := e.heap
		if h != nil {
			h.interleave(keys, n, hk)
		}
		for t := range e.roots {
			if h != nil && h.node0[t] >= 0 {
				h.addTree(t, hk, n, mg, g, int(e.group[t]))
				continue
			}
			e.addTree(t, keys, nf, n, mg, g, int(e.group[t]))
		}
		return
	}
	for r := 0; r < n; r++ {
		if skip[r] {
			continue
		}
		row := x32[r*nf : (r+1)*nf]
		for k := 0; k < g; k++ {
			s := b.bias[k] + mg[r*g+k]
			for j, v := range row {
				if v == v { // a missing feature is absent from the sum
					s += v * b.weights[j*g+k]
				}
			}
			mg[r*g+k] = s
		}
	}
}

// PredictDense predicts rows of features read straight from DuckDB.
func (m *Model) PredictDense(ctx context.Context, x []float64, skip []bool, out []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.run(x, skip, func(r int, mg []float32, p []float64) {
		out[r] = m.value(mg, p)
	})
}

// run predicts rows of x in blocks, calling emit for each row not in
// skip with its margins.
func (m *Model) run(x []float64, skip []bool, emit func(r int, mg []float32, p []float64)) error {
	s := m.scratch()
	defer scratchPool.Put(s)
	n, g := len(skip), m.b.groups
	for start := 0; start < n; start += block {
		end := min(start+block, n)
		if err := m.load(x, skip, start, end, s.x, s.k); err != nil {
			return err
		}
		m.b.margins(s.x, s.k, s.hk, end-start, s.m, skip[start:end])
		for r := start; r < end; r++ {
			if !skip[r] {
				emit(r, s.m[(r-start)*g:(r-start+1)*g], s.p)
			}
		}
	}
	return nil
}

// value is one row's prediction as a number: Booster.predict's value for
// regression and ranking (and a binary objective read as a regression),
// the class (its value) for a classifier.
func (m *Model) value(mg []float32, p []float64) float64 {
	o := m.b.objective
	if m.kind != classification {
		v := mg[0]
		switch {
		case o.transform != nil:
			v = o.transform(v)
		case o.hinge:
			v = hinge(v)
		}
		return float64(v)
	}
	c := m.class(mg, p)
	f, _ := types.AsFloat64(m.classes[c])
	return f
}

// hinge is binary:hinge's PredTransform: 1 for a positive margin, else 0.
func hinge(x float32) float32 {
	if x > 0 {
		return 1
	}
	return 0
}

// class computes the probabilities into p and returns the predicted
// class's index.
//
// A binary objective's class is 1 when class 1's probability q is above
// 0.5, as the scikit-learn wrapper's predict does with Booster.predict's
// value (1 - q and q are predict_proba's). binary:logitraw's
// Booster.predict is the margin: a wrapper's pickle takes it for q, as
// XGBClassifier's predict and predict_proba do (so its class is margin
// > 0.5); a Booster file, which has no predict_proba, takes the
// sigmoid of the margin, the probability logitraw's margin stands for
// (so its class is margin > 0).
func (m *Model) class(mg []float32, p []float64) int {
	o := m.b.objective
	if o.multi {
		return o.multiClass(mg, p[:len(mg)])
	}
	var q float32
	switch {
	case o.hinge:
		q = hinge(mg[0])
	case o.raw && m.file.wrapper != "":
		q = mg[0]
	default:
		q = sigmoid(mg[0])
	}
	p[0], p[1] = float64(1-q), float64(q)
	if o.raw && m.file.wrapper == "" {
		// The margin's sign: the float32 sigmoid rounds tiny margins
		// to 0.5.
		return b2i(mg[0] > 0)
	}
	return b2i(q > 0.5)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Predict runs a batch: one LIST/ARRAY argument holding the features,
// or one numeric argument per feature.
func (m *Model) Predict(ctx context.Context, b *model.Batch) ([]any, error) {
	out := make([]any, b.Rows)
	x, skip, err := m.features(ctx, b)
	if err != nil {
		return nil, err
	}
	err = m.run(x, skip, func(r int, mg []float32, p []float64) {
		v := m.value(mg, p)
		switch m.typ.Kind {
		case types.Float32:
			out[r] = float32(v)
		case types.Float64:
			out[r] = v
		default:
			out[r] = m.classes[m.class(mg, p)]
		}
	})
	return out, err
}

// PredictProba returns each row's class probabilities (predict_proba's)
// and predicted class.
func (m *Model) PredictProba(ctx context.Context, b *model.Batch) ([]model.Proba, error) {
	if m.kind != classification {
		return nil, fmt.Errorf("model %q is a %s model, with no class probabilities", m.name, m.kind)
	}
	out := make([]model.Proba, b.Rows)
	x, skip, err := m.features(ctx, b)
	if err != nil {
		return nil, err
	}
	err = m.run(x, skip, func(r int, mg []float32, p []float64) {
		c := m.class(mg, p)
		out[r] = model.Proba{P: append([]float64(nil), p[:len(m.classes)]...), Class: c}
	})
	return out, err
}

// features reads the batch into a row-major matrix. A row whose list
// holds a NULL gives NULL, as on the engine's dense path (a NULL argument
// never reaches Predict): NaN, not NULL, is XGBoost's missing value. A
// cancelled query stops here, before the trees.
func (m *Model) features(ctx context.Context, b *model.Batch) ([]float64, []bool, error) {
	fr := model.FeatureReader{Model: m.name, N: m.b.numFeature, Count: "num_feature"}
	x := make([]float64, b.Rows*fr.N)
	skip := make([]bool, b.Rows)
	if err := fr.Read(b, x, skip); err != nil {
		return nil, nil, err
	}
	return x, skip, ctx.Err()
}
