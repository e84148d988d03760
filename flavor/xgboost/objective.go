package xgboost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/augurdb/augur/model"
)

// kind of model an objective makes.
const (
	regression     = "regression"     // one number per row
	classification = "classification" // a class index, with probabilities
	ranking        = "ranking"        // a score per row
)

// objective is what XGBoost 1.7's objective does at prediction time: how
// base_score becomes a margin (ProbToMargin) and how margins become
// predictions (PredTransform), in float32 as XGBoost computes.
type objective struct {
	kind  string
	multi bool // one margin per class (multi:*)
	// link: how base_score becomes a margin: "" identity, "logit", "log".
	link string
	// transform of one margin (regression and binary), nil: identity.
	transform func(float32) float32
	// softmax: multi:softprob's probabilities; multi:softmax predicts
	// the class index.
	softmaxIndex bool
	// hinge: binary:hinge predicts 0 or 1.
	hinge bool
	// raw: binary:logitraw predicts the margin.
	raw bool
}

// sigmoid is the logistic function rounded to float32, as XGBoost's
// predictions are: not linkfn.Expit, scipy's float64 with two branches.
func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

var objectives = map[string]*objective{
	"reg:squarederror":     {kind: regression},
	"reg:linear":           {kind: regression}, // the old name of squarederror
	"reg:squaredlogerror":  {kind: regression},
	"reg:pseudohubererror": {kind: regression},
	"reg:absoluteerror":    {kind: regression},
	"reg:quantileerror":    {kind: regression},
	"reg:logistic":         {kind: regression, link: "logit", transform: sigmoid},
	"count:poisson":        {kind: regression, link: "log", transform: exp32},
	"reg:gamma":            {kind: regression, link: "log", transform: exp32},
	"reg:tweedie":          {kind: regression, link: "log", transform: exp32},
	"binary:logistic":      {kind: classification, link: "logit", transform: sigmoid},
	"binary:logitraw":      {kind: classification, raw: true}, // ProbToMargin is the identity
	"binary:hinge":         {kind: classification, hinge: true},
	"multi:softprob":       {kind: classification, multi: true},
	"multi:softmax":        {kind: classification, multi: true, softmaxIndex: true},
	"rank:pairwise":        {kind: ranking},
	"rank:ndcg":            {kind: ranking},
	"rank:map":             {kind: ranking},
}

func objectiveOf(name string) *objective { return objectives[name] }

func objectiveNames() string {
	names := make([]string, 0, len(objectives))
	for n := range objectives {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// margin is ProbToMargin: base_score as a margin.
func (o *objective) margin(base float32) (float32, error) {
	switch o.link {
	case "logit":
		if !(base > 0 && base < 1) {
			return 0, fmt.Errorf("%g must lie in (0, 1) for a logistic objective", base)
		}
		return float32(-math.Log(1/float64(base) - 1)), nil
	case "log":
		if !(base > 0) {
			return 0, fmt.Errorf("%g must be positive for a log-link objective", base)
		}
		return float32(math.Log(float64(base))), nil
	}
	return base, nil
}

// softmax turns margins into probabilities as XGBoost's common::Softmax:
// exp(x - max) in float32, summed in double (so not linkfn.Softmax, all in
// float64).
func softmax(m []float32, p []float64) {
	wmax := m[0]
	for _, v := range m[1:] {
		if v > wmax {
			wmax = v
		}
	}
	var sum float64
	for i, v := range m {
		e := float32(math.Exp(float64(v - wmax)))
		p[i] = float64(e)
		sum += float64(e)
	}
	s := float32(sum)
	for i := range p {
		p[i] = float64(float32(p[i]) / s)
	}
}

// multiClass computes multi:*'s probabilities into p and returns the
// predicted class: multi:softprob's is the first most probable,
// multi:softmax's the first largest margin (margins that differ can round
// to the same float32 probability).
func (o *objective) multiClass(mg []float32, p []float64) int {
	if !o.softmaxIndex {
		softmax(mg, p)
		return model.ArgMax(p)
	}
	for i, v := range mg {
		p[i] = float64(v) // exact, so model.ArgMax finds the margins' argmax
	}
	c := model.ArgMax(p)
	softmax(mg, p)
	return c
}
