package sklearn

import (
	"fmt"
	"math"

	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("pca", &modelType{
		estimators: []string{"sklearn.decomposition._pca.PCA"},
		build:      buildPCA,
	})
}

// pca is scikit-learn's PCA.transform: (x - mean_) · components_ᵀ,
// divided by sqrt(explained_variance_) when whiten is set.
type pca struct {
	mean       []float64
	components []float64 // nc rows of nf
	scale      []float64 // 1 / sqrt(explained_variance_), whiten only
	nc, nf     int
	whiten     bool
	typ        types.Type
}

func buildPCA(e *estimator) (node, error) {
	comp, shape, err := e.floats("components_")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		return nil, e.errorf("components_ has shape %v, expected (components, features)", shape)
	}
	nc, nf := shape[0], shape[1]
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	mean, _, err := e.floats("mean_")
	if err != nil {
		return nil, err
	}
	if len(mean) != nf {
		return nil, e.errorf("mean_ has %d values for %d features", len(mean), nf)
	}
	p := &pca{mean: mean, components: comp, nc: nc, nf: nf, whiten: e.bool("whiten")}
	if p.whiten {
		ev, _, err := e.floats("explained_variance_")
		if err != nil {
			return nil, err
		}
		if len(ev) != nc {
			return nil, e.errorf("explained_variance_ has %d values for %d components", len(ev), nc)
		}
		p.scale = make([]float64, nc)
		for i, v := range ev {
			p.scale[i] = math.Sqrt(v)
		}
	}
	p.typ = types.ListOf(types.Float32T)
	if r := e.spec.Returns; r != nil && r.Kind == types.List && r.Elem != nil && r.Elem.Kind == types.Float64 {
		p.typ = types.ListOf(types.Float64T)
	}
	return p, nil
}

func (p *pca) resultType() types.Type { return p.typ }

func (p *pca) predict(X []float64, null []bool, out []any) {
	nf, nc := p.nf, p.nc
	f64 := p.typ.Elem.Kind == types.Float64
	centred := make([]float64, nf)
	for r := range out {
		if null[r] {
			continue
		}
		x := X[r*nf : r*nf+nf]
		for i := range centred {
			centred[i] = x[i] - p.mean[i]
		}
		row := make([]any, nc)
		for j := 0; j < nc; j++ {
			w := p.components[j*nf : j*nf+nf]
			s := dot(centred, w)
			if p.whiten {
				s /= p.scale[j]
			}
			if f64 {
				row[j] = s
			} else {
				row[j] = float32(s)
			}
		}
		out[r] = row
	}
}

func (p *pca) describe(d map[string]any) {
	d["n_components_"] = p.nc
	d["whiten"] = p.whiten
}

// PCA is a pipeline step too.
func (p *pca) width() int        { return p.nc }
func (p *pca) className() string { return "PCA" }

func (p *pca) transform(in *frame) (*frame, error) {
	if err := in.numeric("PCA"); err != nil {
		return nil, err
	}
	if in.w != p.nf {
		return nil, fmt.Errorf("PCA expects %d features, got %d", p.nf, in.w)
	}
	out := newFrame(in.n, p.nc)
	centred := make([]float64, p.nf)
	for r := 0; r < in.n; r++ {
		x := in.row(r)
		for i := range centred {
			centred[i] = x[i] - p.mean[i]
		}
		o := out.row(r)
		for j := range o {
			s := dot(centred, p.components[j*p.nf:j*p.nf+p.nf])
			if p.whiten {
				s /= p.scale[j]
			}
			o[j] = s
		}
	}
	return out, nil
}
