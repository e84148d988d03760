package sklearn

import (
	"fmt"
	"strings"

	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("pipeline", &modelType{
		estimators: []string{"sklearn.pipeline.Pipeline"},
		build:      buildPipeline,
		composite:  true,
	})
}

// pipeline is scikit-learn's Pipeline: every step but the last
// transforms the rows, the last predicts (or transforms, and the rows
// are the result). Each step's input is checked as scikit-learn's
// check_array would (NaN passes only where that step takes it).
type pipeline struct {
	est    *estimator
	names  []string
	steps  []transformer
	checks []inputCheck // of each step and then of the final
	final  predictor
	// first is the first step's estimator: a Pipeline's n_features_in_
	// and feature_names_in_ are its first step's.
	first *estimator
	// ests are the estimators of steps and then of final.
	ests []*estimator
}

func buildPipeline(e *estimator) (node, error) {
	v, err := e.attr("steps")
	if err != nil {
		return nil, err
	}
	items, ok := listItems(v)
	if !ok || len(items) == 0 {
		return nil, e.errorf("steps is a %s, not a list of (name, estimator)", describePickled(v))
	}
	p := &pipeline{est: e}
	for i, it := range items {
		name, est, err := stepOf(e, it, i)
		if err != nil {
			return nil, err
		}
		if est == nil {
			continue // 'passthrough' or None
		}
		where := fmt.Sprintf("step %q", name)
		n, ce, err := e.child(est, where)
		if err != nil {
			return nil, err
		}
		if p.first == nil {
			p.first = ce
		}
		p.ests = append(p.ests, ce)
		last := i == len(items)-1
		if last {
			if err := p.setFinal(e, n, name); err != nil {
				return nil, err
			}
			break
		}
		t, ok := transformerOf(n)
		if !ok {
			return nil, e.errorf("step %q (%s) is not a transformer, but only the last step may predict", name, ce.class)
		}
		p.names = append(p.names, name)
		p.steps = append(p.steps, t)
		p.checks = append(p.checks, checkOf(n))
	}
	if p.final == nil {
		// Every step after the last transformer was 'passthrough': the
		// pipeline is a transformer.
		if len(p.steps) == 0 {
			return nil, e.errorf("every step is 'passthrough'")
		}
		t := p.steps[len(p.steps)-1]
		p.steps, p.names = p.steps[:len(p.steps)-1], p.names[:len(p.names)-1]
		p.checks = p.checks[:len(p.checks)-1]
		if err := p.setFinal(e, t, ""); err != nil {
			return nil, err
		}
	}
	// Each step's input is the width the step before returns: a file
	// whose steps disagree would index past a row.
	for i, ce := range p.ests {
		if i == 0 || i > len(p.steps) || ce.nFeatures == 0 {
			continue
		}
		if w := p.steps[i-1].width(); w != ce.nFeatures {
			return nil, e.errorf("step %q returns %d columns, but the step after it (%s) was fitted on %d features: the file is inconsistent; refit and save the pipeline again",
				p.names[i-1], w, ce.class, ce.nFeatures)
		}
	}
	if p.first != nil {
		e.featureNames = p.first.featureNames
		if err := e.setFeatures(p.first.nFeatures); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *pipeline) setFinal(e *estimator, n node, name string) error {
	switch x := n.(type) {
	case predictor:
		p.final = x
	case transformer:
		p.final = newTransformOut(e, x)
	default:
		return e.errorf("step %q neither predicts nor transforms", name)
	}
	p.checks = append(p.checks, checkOf(n))
	return nil
}

// listItems is a pickled list or tuple's items.
func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case *pickle.List:
		return x.Items, true
	case pickle.Tuple:
		return x, true
	}
	return nil, false
}

// stepOf reads one (name, estimator) pair; est is nil for a step that
// is 'passthrough' or None.
func stepOf(e *estimator, it any, i int) (name string, est any, err error) {
	pair, ok := listItems(it)
	if !ok || len(pair) < 2 {
		return "", nil, e.errorf("step %d is a %s, not a (name, estimator) pair", i, describePickled(it))
	}
	name, _ = pair[0].(string)
	switch x := pair[1].(type) {
	case nil:
		return name, nil, nil
	case string:
		if x == "passthrough" || x == "drop" {
			return name, nil, nil
		}
	}
	return name, pair[1], nil
}

func (p *pipeline) resultType() types.Type { return p.final.resultType() }
func (p *pipeline) className() string      { return "Pipeline" }

// inputCheck: the pipeline checks every step's input itself.
func (p *pipeline) inputCheck() inputCheck { return inputCheck{allowNaN: true, allowInf: true} }

// finalModelType is the model type of the last step, which a Pipeline
// reports as its own (SHOW MODELS, and MODEL_TYPE's check).
func (p *pipeline) finalModelType() (string, string) {
	last := p.ests[len(p.ests)-1]
	if f, ok := p.final.(interface{ finalModelType() (string, string) }); ok {
		return f.finalModelType()
	}
	return last.modelType, last.obj.Class.Key
}

func (p *pipeline) describe(d map[string]any) {
	steps := make([]string, 0, len(p.steps)+1)
	for i, s := range p.steps {
		steps = append(steps, fmt.Sprintf("%s: %s", p.names[i], nodeName(s)))
	}
	steps = append(steps, nodeName(p.final))
	d["steps"] = strings.Join(steps, " → ")
	p.final.describe(d)
}

func (p *pipeline) predict(X []float64, null []bool, out []any) {
	// Model calls predictFrame; this serves the dense path's numbers.
	w := 0
	if len(out) > 0 {
		w = len(X) / len(out)
	}
	_ = p.predictFrame(&frame{n: len(out), w: w, X: X}, null, out)
}

// through runs the transformers, checking each step's input.
func (p *pipeline) through(f *frame, null []bool) (*frame, error) {
	f.skip = null
	for i, s := range p.steps {
		if err := p.est.check(p.checks[i], f, null, nodeName(s), p.after(i)); err != nil {
			return nil, err
		}
		g, err := runTransform(s, f)
		if err != nil {
			return nil, p.est.errorf("step %q: %v", p.names[i], err)
		}
		g.skip = null
		f = g
	}
	if n := len(p.steps); n < len(p.ests) && n > 0 && p.ests[n].nFeatures != 0 && f.w != p.ests[n].nFeatures {
		return nil, p.est.errorf("step %q returns %d columns, but %s takes %d", p.names[n-1], f.w, nodeName(p.final), p.ests[n].nFeatures)
	}
	err := p.est.check(p.checks[len(p.steps)], f, null, nodeName(p.final), p.after(len(p.steps)))
	return f, err
}

// after names what came before step i, for messages.
func (p *pipeline) after(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf("after step %q", p.names[i-1])
}

func (p *pipeline) predictFrame(f *frame, null []bool, out []any) error {
	g, err := p.through(f, null)
	if err != nil {
		return err
	}
	return runPredict(p.final, g, null, out)
}

func (p *pipeline) classList() *classes { return classesOf(p.final) }

func (p *pipeline) probaFrame(f *frame, null []bool, P []float64, cls []int) error {
	g, err := p.through(f, null)
	if err != nil {
		return err
	}
	return runProba(p.final, g, null, P, cls)
}
