package sklearn

import "github.com/augurdb/augur/model"

var _ model.MissingAware = (*Model)(nil)

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
func (p *pipeline) nanFate() nanFate {
	for i, s := range p.steps {
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
