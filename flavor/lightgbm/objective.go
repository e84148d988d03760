package lightgbm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/linkfn"
)

// objective is how LightGBM turns raw scores into predictions (each
// objective's ConvertOutput in src/objective).
type objective struct {
	name    string  // as the file names it ("" when the file has none)
	kind    kind    // regression, binary or multiclass
	sigmoid float64 // binary, multiclassova: 1/(1+exp(-sigmoid*x))
	sqrt    bool    // regression family: sign(x)*x^2
	classes int     // multiclass, multiclassova: num_class
}

type kind int

const (
	regression kind = iota // one number per row
	binary                 // two classes, one score
	multiclass             // num_class scores
)

// parseObjective reads the header's objective= line, as the objective's
// ToString wrote it: the name, then key:value settings.
func parseObjective(s string) (objective, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		// A model trained with a custom objective (or none) predicts raw
		// scores.
		return objective{kind: regression}, nil
	}
	o := objective{name: f[0], sigmoid: 1}
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, ":")
		switch k {
		case "sigmoid":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) {
				return o, fmt.Errorf("objective %s: sigmoid:%s is not a positive number", o.name, quoteKey(v))
			}
			o.sigmoid = x
		case "num_class":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1<<20 {
				return o, fmt.Errorf("objective %s: num_class:%s is not a positive number", o.name, quoteKey(v))
			}
			o.classes = n
		case "sqrt":
			o.sqrt = true
		}
		// Other settings (tweedie_variance_power, alpha, ...) only
		// matter for training.
	}
	switch o.name {
	case "regression", "regression_l1", "huber", "fair", "quantile", "mape",
		"poisson", "gamma", "tweedie", "cross_entropy", "cross_entropy_lambda",
		"lambdarank", "rank_xendcg", "custom":
		o.kind = regression
	case "binary":
		o.kind = binary
	case "multiclass", "multiclassova":
		o.kind = multiclass
		if o.classes < 2 {
			return o, fmt.Errorf("objective %s names no num_class of 2 or more", o.name)
		}
	default:
		return o, fmt.Errorf("objective %s is not one augur knows (it knows regression, regression_l1, huber, fair, quantile, mape, poisson, gamma, tweedie, cross_entropy, cross_entropy_lambda, lambdarank, rank_xendcg, binary, multiclass, multiclassova)", quoteKey(o.name))
	}
	return o, nil
}

// outputs is the number of raw scores per row.
func (o *objective) outputs() int {
	if o.kind == multiclass {
		return o.classes
	}
	return 1
}

// convert turns one row's raw scores into predictions in place.
func (o *objective) convert(raw []float64) {
	switch o.name {
	case "binary", "multiclassova":
		// LightGBM's 1/(1+exp(-σx)) for every x, not linkfn.Expit's two
		// branches (which round differently for x < 0).
		for i, x := range raw {
			raw[i] = 1 / (1 + math.Exp(-o.sigmoid*x))
		}
	case "multiclass":
		linkfn.Softmax(raw, raw) // LightGBM's Common::Softmax computes the same
	case "poisson", "gamma", "tweedie":
		raw[0] = math.Exp(raw[0])
	case "cross_entropy":
		raw[0] = 1 / (1 + math.Exp(-raw[0]))
	case "cross_entropy_lambda":
		raw[0] = math.Log1p(math.Exp(raw[0]))
	case "regression", "regression_l1", "huber", "fair", "quantile", "mape":
		if o.sqrt {
			x := raw[0]
			raw[0] = math.Copysign(x*x, x)
			if x == 0 {
				raw[0] = 0
			}
		}
	}
}
