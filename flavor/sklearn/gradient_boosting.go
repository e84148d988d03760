package sklearn

import (
	"math"

	"github.com/augurdb/augur/internal/linkfn"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// GradientBoostingClassifier and GradientBoostingRegressor: estimators_ is
// a 2-D object array (n_estimators_, K) of DecisionTreeRegressor, K the
// number of classes for a multi-class classifier and 1 otherwise. The raw
// prediction starts at init_'s (a DummyClassifier's class priors turned
// into log-odds, a DummyRegressor's constant, or zeros for init='zero') and
// each tree adds learning_rate times its leaf value, in stage order, as
// scikit-learn's predict_stages does: the compiled leaves hold
// learning_rate*value, the same float64 product, so the sums are
// scikit-learn's to the bit. Trees read float32 features like every
// scikit-learn tree (tree.go).
//
// The module is sklearn.ensemble._gb from 0.22 to at least 1.6.
func init() {
	modelTypes.Register("gradient_boosting_classifier", &modelType{
		estimators: []string{"sklearn.ensemble._gb.GradientBoostingClassifier"},
		build:      buildGradientBoosting,
	})
	modelTypes.Register("gradient_boosting_regressor", &modelType{
		estimators: []string{"sklearn.ensemble._gb.GradientBoostingRegressor"},
		build:      buildGradientBoosting,
	})
}

// gbLoss is how raw predictions become results.
type gbLoss int

const (
	gbRegression  gbLoss = iota // the raw prediction is the result
	gbBinomial                  // log_loss, two classes: expit(raw)
	gbMultinomial               // log_loss, K > 2 classes: softmax(raw)
	gbExponential               // exponential: expit(2 raw)
)

// boosted is a gradient-boosted ensemble of scikit-learn trees.
type boosted struct {
	f       *forest
	loss    gbLoss
	lossStr string
	lr      float64
	classes *classes
	typ     types.Type
	kind    string
}

func buildGradientBoosting(e *estimator) (node, error) {
	lossStr, _ := e.obj.Attr("loss")
	ls, _ := lossStr.(string)
	b := &boosted{lossStr: ls, kind: e.class, loss: gbRegression}
	var err error
	if e.class == "GradientBoostingClassifier" {
		if b.classes, err = e.readClasses(); err != nil {
			return nil, err
		}
		k := len(b.classes.boxed)
		switch {
		case ls == "exponential" && k == 2:
			b.loss = gbExponential
		case (ls == "log_loss" || ls == "deviance") && k == 2:
			b.loss = gbBinomial
		case ls == "log_loss" || ls == "deviance":
			b.loss = gbMultinomial
		default:
			return nil, e.errorf("loss %s with %d classes is not supported (log_loss and exponential are)", gbDescribeLoss(lossStr), k)
		}
		b.typ = b.classes.typ
	} else {
		switch ls {
		case "squared_error", "ls", "absolute_error", "lad", "huber", "quantile":
		default:
			return nil, e.errorf("loss %s is not supported (squared_error, absolute_error, huber and quantile are)", gbDescribeLoss(lossStr))
		}
		b.typ = e.regressionType()
	}
	lrV, err := e.attr("learning_rate")
	if err != nil {
		return nil, err
	}
	lr, ok := model.Float64Of(lrV)
	if !ok || !(lr > 0) || math.IsInf(lr, 0) {
		return nil, e.errorf("learning_rate is %s, not a positive number", describePickled(lrV))
	}
	b.lr = lr
	K := 1
	if b.loss == gbMultinomial {
		K = len(b.classes.boxed)
	}
	init, err := gbInit(e, b.loss, b.classes, K)
	if err != nil {
		return nil, err
	}
	if b.f, err = gbTrees(e, K, lr); err != nil {
		return nil, err
	}
	b.f.init = init
	b.f.typ, b.f.kind = b.typ, e.class
	return b, nil
}

func gbDescribeLoss(v any) string {
	if s, ok := v.(string); ok {
		return untrusted.Quote(s)
	}
	return describePickled(v)
}

// gbTrees compiles estimators_ (stages × K) into one forest whose tree i
// adds to column i % K, leaves scaled by the learning rate.
func gbTrees(e *estimator, K int, lr float64) (*forest, error) {
	v, err := e.attr("estimators_")
	if err != nil {
		return nil, err
	}
	a, ok := v.(*pickle.Array)
	if !ok || a.Dtype == nil || a.Dtype.Kind != 'O' || len(a.Shape) != 2 || a.Shape[1] != K || a.Shape[0] == 0 {
		return nil, e.errorf("estimators_ is a %s, not an array of trees of shape (n_estimators, %d)", describePickled(v), K)
	}
	items, err := a.Values()
	if err != nil {
		return nil, e.errorf("estimators_: %v", err)
	}
	if err := e.setFeatures(e.nFeatures); err != nil {
		return nil, err
	}
	nf := e.nFeatures
	f := &forest{nf: nf, width: 1, outs: K, treeCol: make([]int32, 0, len(items))}
	// One tree listed many times (a memo reference) is read and compiled
	// once, as buildForest does.
	seen := map[*pickle.Object]*ctree{}
	for i, it := range items {
		dt, ok := it.(*pickle.Object)
		if !ok {
			return nil, e.errorf("estimators_[%d, %d] is a %s, not a DecisionTreeRegressor", i/K, i%K, describePickled(it))
		}
		f.treeCol = append(f.treeCol, int32(i%K))
		if t, ok := seen[dt]; ok {
			f.trees = append(f.trees, t)
			continue
		}
		r, err := readTree(e, dt, nf)
		if err != nil {
			return nil, err
		}
		if r.width != 1 {
			return nil, e.errorf("estimators_[%d, %d] has %d values per node, not 1", i/K, i%K, r.width)
		}
		base := len(f.vals)
		if base+r.nodeCount > math.MaxInt32 {
			return nil, e.errorf("too many tree nodes")
		}
		for j := range r.values {
			r.values[j] *= lr
		}
		f.vals = append(f.vals, r.values...)
		t := r.compile(int32(base))
		seen[dt] = t
		f.trees = append(f.trees, t)
	}
	return f, nil
}

// gbInit is the raw prediction every row starts from: what the loss's
// get_init_raw_predictions makes of init_'s predictions (K values), or nil
// for init='zero'.
func gbInit(e *estimator, loss gbLoss, cls *classes, K int) ([]float64, error) {
	v, err := e.attr("init_")
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && s == "zero" {
		return nil, nil
	}
	obj, ok := v.(*pickle.Object)
	if !ok || obj.Dict == nil {
		return nil, e.errorf("init_ is a %s; augur reads 'zero' or the default DummyClassifier/DummyRegressor", describePickled(v))
	}
	switch obj.Class.Key {
	case "sklearn.dummy.DummyRegressor":
		if loss != gbRegression {
			return nil, e.errorf("init_ is a DummyRegressor, but the model is a classifier")
		}
		c, _, err := floatsOf(e, "init_.constant_", gbAttr(obj, "constant_"))
		if err != nil {
			return nil, err
		}
		if len(c) != 1 {
			return nil, e.errorf("init_.constant_ has %d values, not 1", len(c))
		}
		return c, nil
	case "sklearn.dummy.DummyClassifier":
		if loss == gbRegression {
			return nil, e.errorf("init_ is a DummyClassifier, but the model is a regressor")
		}
		st, _ := obj.Attr("_strategy")
		if st == nil {
			st, _ = obj.Attr("strategy")
		}
		if s, _ := st.(string); s != "prior" {
			return nil, e.errorf("init_ is a DummyClassifier with strategy %s; augur reads strategy 'prior' (GradientBoosting's default)", gbDescribeLoss(st))
		}
		p, _, err := floatsOf(e, "init_.class_prior_", gbAttr(obj, "class_prior_"))
		if err != nil {
			return nil, err
		}
		if len(p) != len(cls.boxed) {
			return nil, e.errorf("init_.class_prior_ has %d values for %d classes", len(p), len(cls.boxed))
		}
		return priorsToRaw(p, loss, K), nil
	}
	return nil, e.errorf("init_ is a %s; augur reads GradientBoosting's init only as 'zero' or the default DummyClassifier/DummyRegressor", gbClassName(obj))
}

func gbClassName(o *pickle.Object) string { return untrusted.Name(o.Class.Name) }

func gbAttr(o *pickle.Object, name string) any {
	v, _ := o.Attr(name)
	return v
}

// priorsToRaw is scikit-learn 1.2's get_init_raw_predictions on class
// probabilities: clipped to [eps, 1-eps] (float32's eps), then log-odds
// (binomial), half the log-odds (exponential) or logs (multinomial).
func priorsToRaw(p []float64, loss gbLoss, K int) []float64 {
	const eps = 1.0 / (1 << 23)
	clip := func(x float64) float64 { return math.Min(math.Max(x, eps), 1-eps) }
	switch loss {
	case gbMultinomial:
		out := make([]float64, K)
		for k := range out {
			out[k] = math.Log(clip(p[k]))
		}
		return out
	case gbExponential:
		q := clip(p[1])
		return []float64{0.5 * math.Log(q/(1-q))}
	}
	q := clip(p[1])
	return []float64{math.Log(q / (1 - q))}
}

func (b *boosted) resultType() types.Type { return b.typ }
func (b *boosted) className() string      { return b.kind }
func (b *boosted) classList() *classes    { return b.classes }

// inputCheck: scikit-learn validates GradientBoosting's input as float32.
func (b *boosted) inputCheck() inputCheck { return inputCheck{float32: true} }

func (b *boosted) describe(d map[string]any) {
	b.f.describe(d)
	d["n_estimators"] = len(b.f.trees) / b.f.outWidth()
	d["loss"] = untrusted.Clean(b.lossStr)
	d["learning_rate"] = b.lr
}

func (b *boosted) predict(X []float64, null []bool, out []any) {
	if b.classes == nil {
		f64 := b.typ.Kind == types.Float64
		b.f.blocks(X, len(out), func(start, n int, acc []float64) {
			for r := 0; r < n; r++ {
				if null[start+r] {
					continue
				}
				if f64 {
					out[start+r] = acc[r]
				} else {
					out[start+r] = float32(acc[r])
				}
			}
		})
		return
	}
	predictByProba(b, X, null, out)
}

// proba is predict_proba, and predict's class: the argmax of the
// probabilities (binomial), of the raw predictions (multinomial), or
// raw >= 0 (exponential), as scikit-learn 1.2's losses decide.
func (b *boosted) proba(X []float64, null []bool, P []float64, cls []int) {
	K := len(b.classes.boxed)
	b.f.blocks(X, len(null), func(start, n int, acc []float64) {
		ow := b.f.outWidth()
		for r := 0; r < n; r++ {
			if null[start+r] {
				continue
			}
			raw := acc[r*ow : (r+1)*ow]
			p := P[(start+r)*K : (start+r+1)*K]
			switch b.loss {
			case gbBinomial, gbExponential:
				x := raw[0]
				if b.loss == gbExponential {
					x *= 2
				}
				p[1] = linkfn.Expit(x)
				p[0] = 1 - p[1]
				if b.loss == gbExponential {
					cls[start+r] = gbB2I(raw[0] >= 0)
				} else {
					cls[start+r] = model.ArgMax(p)
				}
			default:
				softmaxLSE(raw, p)
				cls[start+r] = model.ArgMax(raw)
			}
		}
	})
}

func gbB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

// softmaxLSE is exp(raw - logsumexp(raw)), scipy's logsumexp: the maximum
// (0 when it is infinite) is subtracted before the exponentials are
// summed. It is not linkfn.Softmax, which divides by the sum instead:
// GradientBoosting's and naive Bayes' predict_proba compute this. p may
// be raw.
func softmaxLSE(raw, p []float64) {
	m := math.Inf(-1)
	for _, v := range raw {
		m = math.Max(m, v)
	}
	if math.IsInf(m, 0) {
		m = 0
	}
	s := 0.0
	for _, v := range raw {
		s += math.Exp(v - m)
	}
	lse := math.Log(s) + m
	for i, v := range raw {
		p[i] = math.Exp(v - lse)
	}
}
