package sklearn

import "github.com/augurdb/augur/types"

func init() {
	modelTypes.Register("k_means", &modelType{
		estimators: []string{"sklearn.cluster._kmeans.KMeans"},
		build:      buildKMeans,
	})
	modelTypes.Register("mini_batch_k_means", &modelType{
		estimators: []string{"sklearn.cluster._kmeans.MiniBatchKMeans"},
		build:      buildKMeans,
	})
}

// kmeans is KMeans (and MiniBatchKMeans): predict is the index of the
// nearest cluster centre. scikit-learn compares ‖c‖² - 2x·c (the
// distance without ‖x‖², which every centre shares) and keeps the first
// smallest; augur compares the same numbers.
type kmeans struct {
	centers []float64 // k rows of nf
	csq     []float64 // ‖c‖² of each centre
	k, nf   int
	class   string
}

func buildKMeans(e *estimator) (node, error) {
	c, shape, err := e.floats("cluster_centers_")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] == 0 {
		return nil, e.errorf("cluster_centers_ has shape %v, expected (clusters, features)", shape)
	}
	m := &kmeans{centers: c, k: shape[0], nf: shape[1], class: e.class}
	if err := e.setFeatures(m.nf); err != nil {
		return nil, err
	}
	m.csq = make([]float64, m.k)
	for i := range m.csq {
		row := c[i*m.nf : (i+1)*m.nf]
		m.csq[i] = dot(row, row)
	}
	return m, nil
}

func (m *kmeans) resultType() types.Type { return types.Int32T }
func (m *kmeans) className() string      { return m.class }

func (m *kmeans) describe(d map[string]any) {
	d["n_clusters"] = m.k
}

func (m *kmeans) predict(X []float64, null []bool, out []any) {
	nf := m.nf
	for r := range out {
		if null[r] {
			continue
		}
		x := X[r*nf : r*nf+nf]
		best, bestD := 0, 0.0
		for i := 0; i < m.k; i++ {
			d := m.csq[i] - 2*dot(x, m.centers[i*nf:(i+1)*nf])
			if i == 0 || d < bestD {
				best, bestD = i, d
			}
		}
		out[r] = int32(best)
	}
}
