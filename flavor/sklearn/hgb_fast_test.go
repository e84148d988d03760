package sklearn

import (
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

// The fast path (hgb_fast.go) against the plain walk: the same raw
// predictions, bit for bit, on every HistGradientBoosting fixture, on
// the fixtures' rows and on rows made of the awkward values: NaN, ±Inf,
// ±0, every threshold of the model and the doubles next to it.

// rawAll is h's raw predictions (K per row) for the rows of X, by the
// fast path or the plain walk.
func rawAll(h *hgb, X []float64, fast bool) []float64 {
	n := len(X) / h.nf
	out := make([]float64, n*h.K)
	use := func(start, m int, acc []float64) { copy(out[start*h.K:], acc[:m*h.K]) }
	if fast {
		h.rawFast(h.fast, X, n, use)
	} else {
		h.rawPlain(X, n, use)
	}
	return out
}

// sameRaw fails t where the two paths differ on X.
func sameRaw(t *testing.T, name string, h *hgb, X []float64) {
	t.Helper()
	want, got := rawAll(h, X, false), rawAll(h, X, true)
	bad := 0
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			if bad++; bad <= 5 {
				r := i / h.K
				t.Errorf("%s: row %d %v, raw[%d]: fast %v, plain %v", name, r, X[r*h.nf:(r+1)*h.nf], i%h.K, got[i], want[i])
			}
		}
	}
}

// awkwardRows is rows of nf features whose values come from the model's
// thresholds (each, and the doubles either side), NaN, ±Inf, ±0 and
// [0, 1) at random, plus rows of the fixture with one feature at a time
// set to each awkward value.
func awkwardRows(h *hgb, base []float64, n int) []float64 {
	nf := h.nf
	perFeat := make([][]float64, nf)
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), -1e308, 1e308, 5e-324}
	for i := range perFeat {
		perFeat[i] = append(perFeat[i], special...)
	}
	for _, nd := range h.nodes {
		if nd.leaf || nd.cat {
			continue
		}
		t := nd.thr
		perFeat[nd.feat] = append(perFeat[nd.feat], t, math.Nextafter(t, math.Inf(1)), math.Nextafter(t, math.Inf(-1)))
	}
	rng := rand.New(rand.NewSource(7))
	var X []float64
	for r := 0; r < n; r++ {
		for f := 0; f < nf; f++ {
			v := rng.Float64()
			if rng.Intn(4) != 0 {
				v = perFeat[f][rng.Intn(len(perFeat[f]))]
			}
			X = append(X, v)
		}
	}
	for b := 0; b+nf <= len(base) && b < 20*nf; b += nf {
		for f := 0; f < nf; f++ {
			for _, v := range perFeat[f] {
				row := append([]float64(nil), base[b:b+nf]...)
				row[f] = v
				X = append(X, row...)
			}
		}
	}
	return X
}

func TestHistGradientBoostingFastPath(t *testing.T) {
	const dir = "../../testdata/sklearn/ensemble"
	files, _ := filepath.Glob(filepath.Join(dir, "hgb_*.json"))
	if len(files) < 8 {
		t.Fatalf("%d HistGradientBoosting fixtures", len(files))
	}
	for _, jf := range files {
		var c struct {
			Files  []string `json:"files"`
			Inputs [][]any  `json:"inputs"`
		}
		b, _ := os.ReadFile(jf)
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		var base []float64
		for _, r := range c.Inputs {
			for _, v := range r {
				f, ok := v.(float64)
				if !ok {
					f = math.NaN()
				}
				base = append(base, f)
			}
		}
		for _, file := range c.Files {
			m := loadEnsembleFile(t, &model.Spec{Name: "m"}, filepath.Join(dir, file))
			h := m.pred.(*hgb)
			fast, cat := 0, false
			for _, r := range h.fast.roots {
				if r >= 0 {
					fast++
				}
			}
			for _, k := range h.known {
				cat = cat || k != [8]uint32{}
			}
			if fast == 0 || !cat && fast != len(h.roots) {
				t.Errorf("%s: %d of %d trees on the fast path", file, fast, len(h.roots))
			}
			sameRaw(t, file, h, base)
			sameRaw(t, file, h, awkwardRows(h, base, 3000))
		}
	}
}

// TestHistGradientBoostingFastPathLimits: what the fast layout cannot
// hold takes the plain walk, with the same results: a tree of more than
// 256 nodes, nodes shared by two parents, more (feature, missing
// direction) pairs than a byte of slots.
func TestHistGradientBoostingFastPathLimits(t *testing.T) {
	const nf = 300
	h := &hgb{K: 1, nf: nf, baseline: []float64{0.5}, link: linkIdentity, typ: types.Float64T}
	// addTree appends a tree from (feat, thr, nanLeft, left, right) rows,
	// children relative to the tree; left == right == 0 is a leaf of
	// value thr.
	type spec struct {
		feat        int32
		thr         float64
		nanLeft     bool
		left, right int32
	}
	addTree := func(nodes []spec) {
		base := int32(len(h.nodes))
		d := make([]int32, len(nodes))
		depth := int32(0)
		for i, s := range nodes {
			self := base + int32(i)
			if s.left == 0 {
				h.nodes = append(h.nodes, hnode{thr: s.thr, left: self, right: self, leaf: true})
				depth = max(depth, d[i])
				continue
			}
			h.nodes = append(h.nodes, hnode{thr: s.thr, feat: s.feat, left: base + s.left, right: base + s.right, nanLeft: s.nanLeft})
			d[s.left], d[s.right] = max(d[s.left], d[i]+1), max(d[s.right], d[i]+1)
		}
		h.roots = append(h.roots, base)
		h.depths = append(h.depths, depth)
	}
	// A chain of 200 splits (401 nodes): too big for the fast layout.
	var chain []spec
	for i := int32(0); i < 200; i++ {
		chain = append(chain, spec{feat: i % nf, thr: float64(i%7) / 7, nanLeft: i%2 == 0, left: 2*i + 1, right: 2*i + 2}, spec{thr: float64(i)})
	}
	chain = append(chain, spec{thr: -1})
	addTree(chain)
	// Both children of the root are node 1, whose children are leaves.
	addTree([]spec{{feat: 3, thr: 0.5, left: 1, right: 1}, {feat: 4, thr: 0.25, nanLeft: true, left: 2, right: 3}, {thr: 1}, {thr: 2}})
	// Thresholds scikit-learn writes for a split on missing values only
	// (+Inf), and ones a hostile file may hold (NaN, -Inf).
	for i, thr := range []float64{math.Inf(1), math.NaN(), math.Inf(-1)} {
		for _, nl := range []bool{false, true} {
			addTree([]spec{{feat: int32(i), thr: thr, nanLeft: nl, left: 1, right: 2}, {thr: 1}, {thr: 2}})
		}
	}
	// 200 small trees on features 0 to 199, NaN one way, then the other:
	// 400 pairs, past the 255 slots.
	for i := int32(0); i < 400; i++ {
		addTree([]spec{{feat: i % 200, thr: float64(i%9) / 9, nanLeft: i >= 200, left: 1, right: 2}, {thr: float64(i)}, {thr: -float64(i)}})
	}
	h.fast = h.compileFast()
	r := h.fast.roots
	if r[0] != -1 || r[1] != -1 || r[2] < 0 || r[8] < 0 || r[len(r)-1] != -1 {
		t.Errorf("fast roots %v, %v ... %v: want the chain, the shared nodes and the trees past 255 slots on the plain walk", r[:3], r[8], r[len(r)-1])
	}
	X := awkwardRows(h, nil, 500)
	sameRaw(t, "limits", h, X)
}
