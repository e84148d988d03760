package sklearn

import "fmt"

func init() {
	modelTypes.Register("truncated_svd", &modelType{
		estimators: []string{"sklearn.decomposition._truncated_svd.TruncatedSVD"},
		build:      buildTruncatedSVD,
	})
}

// truncatedSVD is TruncatedSVD.transform: x·components_ᵀ (no centring,
// unlike PCA). Alone it returns the transformed row as a list.
type truncatedSVD struct {
	components []float64 // nc rows of nf
	nc, nf     int
}

func buildTruncatedSVD(e *estimator) (node, error) {
	comp, shape, err := e.floats("components_")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] == 0 {
		return nil, e.errorf("components_ has shape %v, expected (components, features)", shape)
	}
	if err := e.setFeatures(shape[1]); err != nil {
		return nil, err
	}
	return &truncatedSVD{components: comp, nc: shape[0], nf: shape[1]}, nil
}

func (t *truncatedSVD) width() int        { return t.nc }
func (t *truncatedSVD) className() string { return "TruncatedSVD" }

func (t *truncatedSVD) describe(d map[string]any) {
	d["n_components"] = t.nc
}

func (t *truncatedSVD) transform(in *frame) (*frame, error) {
	if err := in.numeric("TruncatedSVD"); err != nil {
		return nil, err
	}
	if in.w != t.nf {
		return nil, fmt.Errorf("TruncatedSVD expects %d features, got %d", t.nf, in.w)
	}
	out := newFrame(in.n, t.nc)
	for r := 0; r < in.n; r++ {
		x, o := in.row(r), out.row(r)
		for j := range o {
			o[j] = dot(x, t.components[j*t.nf:(j+1)*t.nf])
		}
	}
	return out, nil
}
