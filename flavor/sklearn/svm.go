package sklearn

import (
	"github.com/augurdb/augur/model"
	"math"

	"github.com/augurdb/augur/types"
)

func init() {
	modelTypes.Register("svc", &modelType{
		estimators: []string{"sklearn.svm._classes.SVC"},
		build:      buildSVC,
	})
	modelTypes.Register("nu_svc", &modelType{
		estimators: []string{"sklearn.svm._classes.NuSVC"},
		build:      buildSVC,
	})
	modelTypes.Register("svr", &modelType{
		estimators: []string{"sklearn.svm._classes.SVR"},
		build:      buildSVR,
	})
	modelTypes.Register("nu_svr", &modelType{
		estimators: []string{"sklearn.svm._classes.NuSVR"},
		build:      buildSVR,
	})
}

// svmKernel is a fitted libsvm model's kernel and its support vectors.
// scikit-learn keeps libsvm's own coefficients in _dual_coef_ and
// _intercept_ (-rho); dual_coef_ and intercept_ are negated for binary
// classifiers, so augur reads the underscored ones, as scikit-learn's
// predict does.
type svmKernel struct {
	kind   string // linear, poly, rbf, sigmoid
	gamma  float64
	coef0  float64
	degree int
	sv     []float64 // nsv rows of nf
	nsv    int
	nf     int
}

func readKernel(e *estimator) (*svmKernel, error) {
	kv, err := e.attr("kernel")
	if err != nil {
		return nil, err
	}
	kind, ok := kv.(string)
	switch {
	case !ok:
		return nil, e.errorf("its kernel is a callable, which augur cannot run (only linear, poly, rbf and sigmoid)")
	case kind != "linear" && kind != "poly" && kind != "rbf" && kind != "sigmoid":
		return nil, e.errorf("kernel %q is not supported (only linear, poly, rbf and sigmoid)", kind)
	}
	if e.bool("_sparse") {
		return nil, e.errorf("it was fitted on a sparse matrix, which augur does not support")
	}
	k := &svmKernel{kind: kind}
	sv, shape, err := e.floats("support_vectors_")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] == 0 {
		return nil, e.errorf("support_vectors_ has shape %v, expected (support vectors, features)", shape)
	}
	k.sv, k.nsv, k.nf = sv, shape[0], shape[1]
	if err := e.setFeatures(k.nf); err != nil {
		return nil, err
	}
	g, _, err := e.floats("_gamma")
	if err != nil {
		return nil, err
	}
	c0, _, err := e.floats("coef0")
	if err != nil {
		return nil, err
	}
	if len(g) != 1 || len(c0) != 1 {
		return nil, e.errorf("_gamma and coef0 must be numbers")
	}
	k.gamma, k.coef0 = g[0], c0[0]
	if kind == "poly" {
		d, err := e.int("degree")
		if err != nil {
			return nil, err
		}
		k.degree = d
	}
	return k, nil
}

// values fills kv with the kernel of x and every support vector, as
// libsvm's k_function computes it.
func (k *svmKernel) values(x, kv []float64) {
	nf := k.nf
	x = x[:nf]
	for i := range kv {
		s := k.sv[i*nf : i*nf+nf]
		switch k.kind {
		case "linear":
			kv[i] = dot(x, s)
		case "poly":
			kv[i] = powi(k.gamma*dot(x, s)+k.coef0, k.degree)
		case "rbf":
			sum := 0.0
			for j, v := range s {
				d := x[j] - v
				sum += d * d
			}
			kv[i] = math.Exp(-k.gamma * sum)
		case "sigmoid":
			kv[i] = math.Tanh(k.gamma*dot(x, s) + k.coef0)
		}
	}
}

// powi is libsvm's integer power by squaring.
func powi(base float64, times int) float64 {
	tmp, ret := base, 1.0
	for t := times; t > 0; t /= 2 {
		if t%2 == 1 {
			ret *= tmp
		}
		tmp *= tmp
	}
	return ret
}

func (k *svmKernel) describe(d map[string]any) {
	d["kernel"] = k.kind
	d["n_support_vectors"] = k.nsv
	d["gamma"] = k.gamma
	if k.kind != "rbf" && k.kind != "linear" {
		d["coef0"] = k.coef0
	}
	if k.kind == "poly" {
		d["degree"] = k.degree
	}
}

// svc is SVC (and NuSVC): libsvm's one-vs-one classifier.
type svc struct {
	*svmKernel
	dual    []float64 // _dual_coef_: nc-1 rows of nsv
	icpt    []float64 // _intercept_: one per pair of classes
	start   []int     // the first support vector of each class
	nsup    []int     // _n_support
	classes *classes
	// breakTies: predict is the argmax of the one-vs-rest decision
	// function (break_ties with decision_function_shape 'ovr').
	breakTies bool
	// probA and probB are Platt's sigmoid per pair (probability=True).
	probA, probB []float64
	class        string
}

func buildSVC(e *estimator) (node, error) {
	k, err := readKernel(e)
	if err != nil {
		return nil, err
	}
	c, err := e.readClasses()
	if err != nil {
		return nil, err
	}
	nc := len(c.boxed)
	if nc < 2 {
		return nil, e.errorf("it has %d class; libsvm needs two or more", nc)
	}
	s := &svc{svmKernel: k, classes: c, class: e.class}
	npairs := nc * (nc - 1) / 2
	var shape []int
	if s.dual, shape, err = e.floats("_dual_coef_"); err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != nc-1 || shape[1] != k.nsv {
		return nil, e.errorf("_dual_coef_ has shape %v for %d classes and %d support vectors", shape, nc, k.nsv)
	}
	if s.icpt, _, err = e.floats("_intercept_"); err != nil {
		return nil, err
	}
	if len(s.icpt) != npairs {
		return nil, e.errorf("_intercept_ has %d values for %d pairs of classes", len(s.icpt), npairs)
	}
	ns, _, err := e.floats("_n_support")
	if err != nil {
		return nil, err
	}
	if len(ns) != nc {
		return nil, e.errorf("_n_support has %d values for %d classes", len(ns), nc)
	}
	total := 0
	for _, v := range ns {
		if v < 0 || v != math.Trunc(v) || v > float64(k.nsv) {
			return nil, e.errorf("_n_support holds %v", v)
		}
		s.start = append(s.start, total)
		s.nsup = append(s.nsup, int(v))
		total += int(v)
	}
	if total != k.nsv {
		return nil, e.errorf("_n_support adds up to %d, but there are %d support vectors", total, k.nsv)
	}
	shapeOpt, _ := stringAttr(e, "decision_function_shape")
	s.breakTies = e.bool("break_ties") && shapeOpt == "ovr" && nc > 2
	if e.bool("probability") {
		if s.probA, _, err = e.floats("_probA"); err != nil {
			return nil, err
		}
		if s.probB, _, err = e.floats("_probB"); err != nil {
			return nil, err
		}
		if len(s.probA) == 0 {
			// A model fitted with probability=True on too few rows.
			s.probA, s.probB = nil, nil
		} else if len(s.probA) != npairs || len(s.probB) != npairs {
			return nil, e.errorf("_probA and _probB have %d and %d values for %d pairs of classes", len(s.probA), len(s.probB), npairs)
		}
	}
	if s.probA != nil {
		return &svcProba{s}, nil
	}
	return s, nil
}

func (s *svc) resultType() types.Type { return s.classes.typ }
func (s *svc) className() string      { return s.class }

func (s *svc) describe(d map[string]any) {
	s.svmKernel.describe(d)
	d["n_support_"] = s.nsup
	s.classes.describe(d)
}

// scratch for one row: kernel values, decisions, votes.
type svcRow struct {
	kv, dec, votes []float64
}

func (s *svc) newRow() *svcRow {
	nc := len(s.classes.boxed)
	return &svcRow{kv: make([]float64, s.nsv), dec: make([]float64, nc*(nc-1)/2), votes: make([]float64, nc)}
}

// decide is libsvm's svm_predict_values for one row: the decision of
// each pair (i, j), i < j, positive for i; it returns the class that
// predict returns.
func (s *svc) decide(x []float64, w *svcRow) int {
	s.values(x, w.kv)
	nc := len(s.classes.boxed)
	nsv := s.nsv
	clear(w.votes)
	p := 0
	for i := 0; i < nc; i++ {
		for j := i + 1; j < nc; j++ {
			si, sj := s.start[i], s.start[j]
			c1 := s.dual[(j-1)*nsv : j*nsv]
			c2 := s.dual[i*nsv : (i+1)*nsv]
			sum := 0.0
			for k := si; k < si+s.nsup[i]; k++ {
				sum += c1[k] * w.kv[k]
			}
			for k := sj; k < sj+s.nsup[j]; k++ {
				sum += c2[k] * w.kv[k]
			}
			sum += s.icpt[p] // -rho
			w.dec[p] = sum
			if sum > 0 {
				w.votes[i]++
			} else {
				w.votes[j]++
			}
			p++
		}
	}
	if s.breakTies {
		return model.ArgMax(ovrDecision(w.dec, nc, w.votes))
	}
	return model.ArgMax(w.votes) // libsvm keeps the first class with the most votes
}

// ovrDecision is scikit-learn's _ovr_decision_function over libsvm's
// pairwise decisions: votes plus the summed confidences, squashed to
// less than one third. It overwrites votes.
func ovrDecision(dec []float64, nc int, votes []float64) []float64 {
	conf := make([]float64, nc)
	clear(votes)
	p := 0
	for i := 0; i < nc; i++ {
		for j := i + 1; j < nc; j++ {
			// predictions = dec < 0, confidences = -dec
			conf[i] += dec[p]
			conf[j] -= dec[p]
			if dec[p] < 0 {
				votes[j]++
			} else {
				votes[i]++
			}
			p++
		}
	}
	for i := range votes {
		votes[i] += conf[i] / (3 * (math.Abs(conf[i]) + 1))
	}
	return votes
}

func (s *svc) predict(X []float64, null []bool, out []any) {
	w := s.newRow()
	nf := s.nf
	for r := range out {
		if !null[r] {
			out[r] = s.classes.boxed[s.decide(X[r*nf:r*nf+nf], w)]
		}
	}
}

// svcProba is an SVC fitted with probability=True: predict_proba is
// libsvm's svm_predict_probability (Platt's sigmoid of each pairwise
// decision, coupled by multiclass_probability), while predict still
// counts votes, so the class returned need not be the most probable.
type svcProba struct{ *svc }

func (s *svcProba) classList() *classes { return s.classes }

func (s *svcProba) proba(X []float64, null []bool, P []float64, cls []int) {
	w := s.newRow()
	nc := len(s.classes.boxed)
	nf := s.nf
	r2 := make([][]float64, nc)
	for i := range r2 {
		r2[i] = make([]float64, nc)
	}
	mp := newMultiProb(nc)
	for r := range null {
		if null[r] {
			continue
		}
		cls[r] = s.decide(X[r*nf:r*nf+nf], w)
		const minProb = 1e-7
		p := 0
		for i := 0; i < nc; i++ {
			for j := i + 1; j < nc; j++ {
				v := min(max(sigmoidPredict(w.dec[p], s.probA[p], s.probB[p]), minProb), 1-minProb)
				r2[i][j], r2[j][i] = v, 1-v
				p++
			}
		}
		// scikit-learn's libsvm couples two classes too (libsvm >= 3.25
		// returns the pairwise probability as it is).
		mp.solve(r2, P[r*nc:(r+1)*nc])
	}
}

// sigmoidPredict is libsvm's Platt sigmoid, written to avoid
// cancellation.
func sigmoidPredict(dec, a, b float64) float64 {
	f := dec*a + b
	if f >= 0 {
		return math.Exp(-f) / (1 + math.Exp(-f))
	}
	return 1 / (1 + math.Exp(f))
}

// multiProb is the scratch of libsvm's multiclass_probability (Wu, Lin
// and Weng's second method) for k classes.
type multiProb struct {
	k  int
	Q  []float64 // k × k
	Qp []float64
}

func newMultiProb(k int) *multiProb {
	return &multiProb{k: k, Q: make([]float64, k*k), Qp: make([]float64, k)}
}

// solve couples the pairwise probabilities r into p, step for step as
// libsvm does (the same iterations and stopping rule give the same
// numbers).
func (m *multiProb) solve(r [][]float64, p []float64) {
	k := m.k
	Q, Qp := m.Q, m.Qp
	maxIter := max(100, k)
	eps := 0.005 / float64(k)
	for t := 0; t < k; t++ {
		p[t] = 1 / float64(k)
		Q[t*k+t] = 0
		for j := 0; j < t; j++ {
			Q[t*k+t] += r[j][t] * r[j][t]
			Q[t*k+j] = Q[j*k+t]
		}
		for j := t + 1; j < k; j++ {
			Q[t*k+t] += r[j][t] * r[j][t]
			Q[t*k+j] = -r[j][t] * r[t][j]
		}
	}
	for iter := 0; iter < maxIter; iter++ {
		pQp := 0.0
		for t := 0; t < k; t++ {
			Qp[t] = 0
			for j := 0; j < k; j++ {
				Qp[t] += Q[t*k+j] * p[j]
			}
			pQp += p[t] * Qp[t]
		}
		maxErr := 0.0
		for t := 0; t < k; t++ {
			if e := math.Abs(Qp[t] - pQp); e > maxErr {
				maxErr = e
			}
		}
		if maxErr < eps {
			break
		}
		for t := 0; t < k; t++ {
			diff := (-Qp[t] + pQp) / Q[t*k+t]
			p[t] += diff
			pQp = (pQp + diff*(diff*Q[t*k+t]+2*Qp[t])) / (1 + diff) / (1 + diff)
			for j := 0; j < k; j++ {
				Qp[j] = (Qp[j] + diff*Q[t*k+j]) / (1 + diff)
				p[j] /= 1 + diff
			}
		}
	}
}

// svr is SVR (and NuSVR): the kernel expansion Σ dual·k(x, sv) - rho.
type svr struct {
	*svmKernel
	dual  []float64
	icpt  float64
	typ   types.Type
	class string
}

func buildSVR(e *estimator) (node, error) {
	k, err := readKernel(e)
	if err != nil {
		return nil, err
	}
	dual, shape, err := e.floats("_dual_coef_")
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != 1 || shape[1] != k.nsv {
		return nil, e.errorf("_dual_coef_ has shape %v for %d support vectors", shape, k.nsv)
	}
	icpt, _, err := e.floats("_intercept_")
	if err != nil {
		return nil, err
	}
	if len(icpt) != 1 {
		return nil, e.errorf("_intercept_ has %d values, expected 1", len(icpt))
	}
	return &svr{svmKernel: k, dual: dual, icpt: icpt[0], typ: e.regressionType(), class: e.class}, nil
}

func (s *svr) resultType() types.Type { return s.typ }
func (s *svr) className() string      { return s.class }

func (s *svr) predict(X []float64, null []bool, out []any) {
	kv := make([]float64, s.nsv)
	nf := s.nf
	f64 := s.typ.Kind == types.Float64
	for r := range out {
		if null[r] {
			continue
		}
		s.values(X[r*nf:r*nf+nf], kv)
		y := dot(kv, s.dual) + s.icpt
		if f64 {
			out[r] = y
		} else {
			out[r] = float32(y)
		}
	}
}
