package sklearn

import "github.com/augurdb/augur/model"

var (
	_ model.MissingAware    = (*Model)(nil)
	_ model.MissingFeatures = (*Model)(nil)
)

// TakesMissing reports whether every NaN feature is handled before any
// step that refuses it (model.MissingAware): the estimator takes NaN
// (HistGradientBoosting, the trees of versions whose predict routes
// it), or a pipeline imputes it first, possibly after steps that pass
// NaN on (a scaler, then a SimpleImputer). The engine then passes SQL's
// NULL as NaN. A pipeline in which a NaN could reach a step that refuses
// it (StandardScaler, then LogisticRegression) does not take missing
// values: its NULL rows stay NULL rather than failing the query, and a
// NaN passed explicitly still fails with scikit-learn's message, or
// gives NULL under on_error = 'null'.
func (m *Model) TakesMissing() bool {
	return m.check.allowNaN && fateOf(m.pred) == nanHandled
}

// nanFate is what a node does with a NaN in its input.
type nanFate int

const (
	nanRefused nanFate = iota // its input check refuses NaN
	nanPassed                 // NaN may come out of it (a scaler): what follows decides
	nanHandled                // no NaN comes out (an imputer), or it predicts from NaN
)

func fateOf(n any) nanFate {
	if !checkOf(n).allowNaN {
		return nanRefused
	}
	switch x := n.(type) {
	case *pipeline:
		return x.nanFate()
	case *pipelineTransformer:
		return x.p.nanFate()
	case *transformOut:
		return fateOf(x.t)
	case *composite:
		return x.nanFate()
	case *imputer, *indicator, *oneHot:
		// The imputer fills NaN in, the indicator flags it, and the
		// one-hot encoder encodes it as a category (or refuses it, as
		// scikit-learn does, when it is unknown): none passes it on.
		return nanHandled
	case transformer:
		// Scalers, OrdinalEncoder (encoded_missing_value is NaN by
		// default) and the other transformers that take NaN give NaN.
		return nanPassed
	}
	// A predictor whose check takes NaN predicts from it.
	return nanHandled
}

// nanFate follows a NaN through the steps: the first step that refuses
// or handles it decides; one that passes it on leaves it to the next.
func (p *pipeline) nanFate() nanFate { return p.fateFrom(0) }

// fateFrom is nanFate from step i on.
func (p *pipeline) fateFrom(i0 int) nanFate {
	for i := i0; i < len(p.steps); i++ {
		s := p.steps[i]
		if i < len(p.checks) && !p.checks[i].allowNaN {
			return nanRefused
		}
		if f := fateOf(s); f != nanPassed {
			return f
		}
	}
	if n := len(p.steps); n < len(p.checks) && !p.checks[n].allowNaN {
		return nanRefused
	}
	return fateOf(p.final)
}

// nanFate: a NaN in any column must be handled by the part that takes
// it ('drop'ped columns are never parts); NaN passes on when it passes
// through any part ('passthrough' among them).
func (c *composite) nanFate() nanFate {
	fate := nanHandled
	for _, p := range c.parts {
		if !p.check.allowNaN {
			return nanRefused
		}
		f := nanPassed
		if p.t != nil {
			f = fateOf(p.t)
		}
		switch f {
		case nanRefused:
			return nanRefused
		case nanPassed:
			fate = nanPassed
		}
	}
	return fate
}

// TakesMissingIn reports, feature by feature, whether a NaN there is
// handled before any step that refuses it (model.MissingFeatures), for
// a pipeline that takes missing values in some features only: a
// OneHotEncoder with handle_unknown='ignore' takes a missing category
// (as unknown, or as the category of NaN it saw in fit) while the
// scaled numbers beside it reach a LogisticRegression that refuses NaN.
// The engine then passes SQL's NULL as NaN in those features only. nil
// when no feature takes it.
func (m *Model) TakesMissingIn() []bool {
	w := m.est.nFeatures
	if !m.check.allowNaN || w <= 0 || w > maxFeatureFates {
		return nil
	}
	at := make([]bool, w)
	some := false
	for j, f := range featureFates(m.pred, w) {
		at[j] = f == nanHandled
		some = some || at[j]
	}
	if !some {
		return nil
	}
	return at
}

// maxFeatureFates bounds the features TakesMissingIn looks at, since
// n_features_in_ is the file's word and sizes what it allocates: a model
// with more takes missing values in all features or in none.
const maxFeatureFates = 1 << 20

// featureFates is what a node does with a NaN in each of its w input
// features.
func featureFates(n any, w int) []nanFate {
	if !checkOf(n).allowNaN {
		return fates(w, nanRefused)
	}
	switch x := n.(type) {
	case *pipeline:
		return x.featureFates(w)
	case *pipelineTransformer:
		return x.p.featureFates(w)
	case *transformOut:
		return featureFates(x.t, w)
	case *composite:
		return x.featureFates(w)
	}
	return fates(w, fateOf(n))
}

func fates(w int, f nanFate) []nanFate {
	out := make([]nanFate, w)
	for j := range out {
		out[j] = f
	}
	return out
}

// featureFates: the first step decides feature by feature; a NaN it
// passes on meets the steps after it, whose fate is theirs as a whole.
func (p *pipeline) featureFates(w int) []nanFate {
	if len(p.checks) > 0 && !p.checks[0].allowNaN {
		return fates(w, nanRefused)
	}
	if len(p.steps) == 0 {
		return featureFates(p.final, w)
	}
	out := featureFates(p.steps[0], w)
	rest := p.fateFrom(1)
	for j, f := range out {
		if f == nanPassed {
			out[j] = rest
		}
	}
	return out
}

// featureFates: each column's NaN meets the parts that take it; one that
// refuses it decides, else one that passes it on; a column no part
// takes ('drop') takes NaN anywhere.
func (c *composite) featureFates(w int) []nanFate {
	out := fates(w, nanHandled)
	for _, p := range c.parts {
		cols := p.cols
		if cols == nil {
			cols = make([]int, w)
			for j := range cols {
				cols[j] = j
			}
		}
		var pf []nanFate
		switch {
		case !p.check.allowNaN:
			pf = fates(len(cols), nanRefused)
		case p.t == nil:
			pf = fates(len(cols), nanPassed)
		default:
			pf = featureFates(p.t, len(cols))
		}
		for k, j := range cols {
			if j >= 0 && j < w && k < len(pf) && worse(pf[k], out[j]) {
				out[j] = pf[k]
			}
		}
	}
	return out
}

// worse reports whether fate a is worse for a NaN than b: refused, then
// passed on, then handled (the order nanFate's constants are declared in).
func worse(a, b nanFate) bool { return a < b }
