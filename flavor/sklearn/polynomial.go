package sklearn

import (
	"fmt"
)

func init() {
	modelTypes.Register("polynomial_features", &modelType{
		estimators: []string{"sklearn.preprocessing._polynomial.PolynomialFeatures"},
		build:      buildPolynomial,
	})
}

// maxPolyTerms bounds the columns a PolynomialFeatures file may ask for
// (degree and n_features_in_ are the file's numbers), and maxPolyIndices
// the feature indices they hold in all.
const (
	maxPolyTerms   = 1 << 16
	maxPolyIndices = 1 << 20
)

// polynomial is PolynomialFeatures.transform: the products of the
// features' combinations (with replacement unless interaction_only) of
// each degree from min to max, in scikit-learn's order (itertools'
// combinations for each degree in turn), after a column of ones when
// include_bias.
type polynomial struct {
	nf    int
	terms [][]int // the features multiplied in each output column
}

func buildPolynomial(e *estimator) (node, error) {
	nf := e.nFeatures
	if nf == 0 {
		return nil, e.errorf("the estimator has no n_features_in_: is it fitted?")
	}
	lo, hi, err := degrees(e)
	if err != nil {
		return nil, err
	}
	p := &polynomial{nf: nf}
	if e.bool("include_bias") {
		p.terms = append(p.terms, nil)
	}
	interaction := e.bool("interaction_only")
	for d := max(lo, 1); d <= hi; d++ {
		if err := p.combinations(d, interaction); err != nil {
			return nil, e.errorf("%v", err)
		}
	}
	if n, ok := intOf(ctAttr(e, "n_output_features_")); ok && n != len(p.terms) {
		return nil, e.errorf("n_output_features_ is %d, but degree %d..%d of %d features makes %d", n, lo, hi, nf, len(p.terms))
	}
	if len(p.terms) == 0 {
		return nil, e.errorf("it makes no columns")
	}
	return p, nil
}

// degrees is (_min_degree, _max_degree), or degree when a file has no
// such attributes.
func degrees(e *estimator) (int, int, error) {
	lo, ok1 := intOf(ctAttr(e, "_min_degree"))
	hi, ok2 := intOf(ctAttr(e, "_max_degree"))
	if !ok1 || !ok2 {
		d, ok := intOf(ctAttr(e, "degree"))
		if !ok {
			return 0, 0, e.errorf("degree is a %s, not an integer", describePickled(ctAttr(e, "degree")))
		}
		lo, hi = 0, d
	}
	if lo > hi || hi > 64 {
		return 0, 0, e.errorf("degrees %d to %d: augur takes degrees up to 64", lo, hi)
	}
	return lo, hi, nil
}

// combinations appends the combinations of d features, in
// itertools.combinations(_with_replacement)'s order.
func (p *polynomial) combinations(d int, interaction bool) error {
	if interaction && d > p.nf {
		return nil
	}
	c := make([]int, d)
	if interaction {
		for i := range c {
			c[i] = i
		}
	}
	for {
		if len(p.terms) >= maxPolyTerms || (len(p.terms)+1)*d > maxPolyIndices {
			return fmt.Errorf("it makes more than %d columns (degree %d of %d features); augur refuses such a file", len(p.terms), d, p.nf)
		}
		p.terms = append(p.terms, append([]int(nil), c...))
		// the next combination: the rightmost index that can grow grows,
		// and those after it start again from it
		i := d - 1
		for ; i >= 0; i-- {
			limit := p.nf - 1
			if interaction {
				limit = p.nf - d + i
			}
			if c[i] < limit {
				break
			}
		}
		if i < 0 {
			return nil
		}
		c[i]++
		for k := i + 1; k < d; k++ {
			if interaction {
				c[k] = c[k-1] + 1
			} else {
				c[k] = c[i]
			}
		}
	}
}

func (p *polynomial) className() string { return "PolynomialFeatures" }
func (p *polynomial) width() int        { return len(p.terms) }
func (p *polynomial) describe(d map[string]any) {
	d["n_output_features_"] = len(p.terms)
}

func (p *polynomial) transform(in *frame) (*frame, error) {
	if err := in.numeric("PolynomialFeatures"); err != nil {
		return nil, err
	}
	if in.w != p.nf {
		return nil, fmt.Errorf("PolynomialFeatures expects %d features, got %d", p.nf, in.w)
	}
	out := newFrame(in.n, len(p.terms))
	for r := 0; r < in.n; r++ {
		x, o := in.row(r), out.row(r)
		for k, t := range p.terms {
			if len(t) == 0 {
				o[k] = 1
				continue
			}
			// x_i * (x_j * x_k): scikit-learn multiplies a feature into
			// the columns of the degree below, which start at it.
			v := x[t[len(t)-1]]
			for i := len(t) - 2; i >= 0; i-- {
				v = x[t[i]] * v
			}
			o[k] = v
		}
	}
	return out, nil
}
