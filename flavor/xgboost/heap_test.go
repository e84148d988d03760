package xgboost

import (
	"context"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// randomTrees is a gbtree document of ntrees random trees over nf
// features: a node at depth below maxDepth is a leaf with probability
// pLeaf (the root never is, unless maxDepth is 0), so the trees range
// from complete to long and thin. Thresholds come from a few values, so
// that rows hit them exactly.
func randomTrees(rng *rand.Rand, ntrees, maxDepth, nf int, pLeaf float64) map[string]any {
	trees := make([]any, ntrees)
	info := make([]float64, ntrees)
	for t := range trees {
		var l, r, f, c, d []float64
		var grow func(depth int) int
		grow = func(depth int) int {
			i := len(l)
			l, r, f, c, d = append(l, -1), append(r, -1), append(f, 0), append(c, 0), append(d, 0)
			if depth == maxDepth || depth > 0 && rng.Float64() < pLeaf {
				c[i] = float64(float32(rng.NormFloat64()))
				return i
			}
			f[i] = float64(rng.Intn(nf))
			c[i] = float64(edgeValues[rng.Intn(len(edgeValues))])
			d[i] = float64(rng.Intn(2))
			a := grow(depth + 1)
			b := grow(depth + 1)
			l[i], r[i] = float64(a), float64(b)
			return i
		}
		grow(0)
		trees[t] = map[string]any{"left_children": l, "right_children": r, "split_indices": f,
			"split_conditions": c, "default_left": d, "tree_param": map[string]any{"num_nodes": strconv.Itoa(len(l))}}
	}
	return map[string]any{"learner": map[string]any{
		"learner_model_param": map[string]any{"num_feature": strconv.Itoa(nf), "num_class": "0", "base_score": "5E-1"},
		"objective":           map[string]any{"name": "reg:squarederror"},
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"trees": trees, "tree_info": info}},
	}}
}

// edgeValues are feature values and thresholds where a walk could go
// wrong: signed zeros, infinities, the extremes of float32, neighbours.
var edgeValues = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, math.Nextafter32(0.5, 1), math.Nextafter32(0.5, 0),
	float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}

// edgeKeys is n rows of keys (two copies, see node) over nf features:
// each feature is missing, an edge value, a threshold of e (exactly, or
// a neighbouring key), or one of the given values.
func edgeKeys(rng *rand.Rand, e *ensemble, nf, n int, values []float64) []int32 {
	var thr []int32
	for _, nd := range e.nodes {
		if nd.skip >= 0 {
			thr = append(thr, nd.thr)
		}
	}
	keys := make([]int32, n*2*nf)
	for r := 0; r < n; r++ {
		kr := keys[r*2*nf : (r+1)*2*nf]
		for j := 0; j < nf; j++ {
			var k int32
			switch c := rng.Intn(6); {
			case c == 0:
				kr[j], kr[nf+j] = missingRight, missingLeft
				continue
			case c == 1:
				k = key32(edgeValues[rng.Intn(len(edgeValues))])
			case c <= 3 && len(thr) > 0:
				k = thr[rng.Intn(len(thr))] + int32(rng.Intn(3)-1)
				k = max(k, key32(float32(math.Inf(-1))))
				k = min(k, key32(float32(math.Inf(1))))
			case len(values) > 0:
				k = key32(float32(values[rng.Intn(len(values))]))
			default:
				k = key32(float32(rng.NormFloat64()))
			}
			kr[j], kr[nf+j] = k, k
		}
	}
	return keys
}

// compareWalks checks, tree by tree, that the heap walk reaches the
// leaf value the preorder walk does, bit for bit, for n rows of keys.
func compareWalks(t *testing.T, e *ensemble, nf, n int, keys []int32) (heapTrees int) {
	t.Helper()
	h := e.heap
	if h == nil {
		return 0
	}
	hk := make([]uint32, heapKeys(n, 2*nf))
	h.interleave(keys, n, hk)
	old, got := make([]float32, n), make([]float32, n)
	for tr := range e.roots {
		if h.node0[tr] < 0 {
			continue
		}
		heapTrees++
		clear(old)
		clear(got)
		e.addTree(tr, keys, nf, n, old, 1, 0)
		h.addTree(tr, hk, n, got, 1, 0)
		for r := range old {
			if math.Float32bits(old[r]) != math.Float32bits(got[r]) {
				t.Fatalf("tree %d (depth %d), row %d (keys %v): heap walk %v, preorder walk %v", tr, e.depths[tr], r, keys[r*2*nf:(r+1)*2*nf], got[r], old[r])
			}
		}
	}
	return heapTrees
}

// TestHeapWalkFixtures: on every fixture with trees, the heap walk
// agrees with the preorder walk for the fixture's rows and for rows of
// missing values, thresholds, their neighbours, ±0 and ±Inf; and the
// dense path with the heap layout gives bit for bit what it gives
// without.
func TestHeapWalkFixtures(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	walked := 0
	for _, f := range readManifest(t) {
		rows := f.rows()
		for _, file := range f.Files {
			if strings.HasSuffix(file, ".pkl") {
				continue // the same boosters as the .json and .ubj files
			}
			m := load(t, file, nil)
			e := m.b.ens
			if e == nil {
				continue
			}
			nf := m.Features()
			var values []float64
			for _, r := range rows {
				values = append(values, r...)
			}
			const n = 203 // not a multiple of heapRows
			walked += compareWalks(t, e, nf, n, edgeKeys(rng, e, nf, n, values))

			x := make([]float64, 0, len(rows)*nf)
			for _, r := range rows {
				x = append(x, r...)
			}
			heap := make([]float64, len(rows))
			if err := m.PredictDense(context.Background(), x, make([]bool, len(rows)), heap); err != nil {
				t.Fatal(err)
			}
			saved := e.heap
			e.heap = nil
			plain := make([]float64, len(rows))
			err := m.PredictDense(context.Background(), x, make([]bool, len(rows)), plain)
			e.heap = saved
			if err != nil {
				t.Fatal(err)
			}
			for r := range rows {
				if math.Float64bits(heap[r]) != math.Float64bits(plain[r]) {
					t.Fatalf("%s row %d: %v with the heap layout, %v without", file, r, heap[r], plain[r])
				}
			}
		}
	}
	if walked == 0 {
		t.Fatal("no fixture tree took the heap layout")
	}
}

// TestHeapWalkShapes: random trees from complete to long and thin, of
// depth 0 to 10: those the heap layout takes agree with the preorder
// walk; deeper ones and thin ones whose padding would cost too much
// keep the preorder walk.
func TestHeapWalkShapes(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for depth := 0; depth <= 10; depth++ {
		for _, pLeaf := range []float64{0, 0.2, 0.5} {
			const nf = 5
			bst, err := parseBooster(randomTrees(rng, 20, depth, nf, pLeaf))
			if err != nil {
				t.Fatal(err)
			}
			e := bst.ens
			compareWalks(t, e, nf, 101, edgeKeys(rng, e, nf, 101, nil))
			if e.heap == nil {
				continue
			}
			for tr, d := range e.depths {
				size := 1<<(max(d, 1)+1) - 1
				laid := e.heap.node0[tr] >= 0
				if want := d <= heapMaxDepth && size <= heapSlack*e.treeSize(tr)+64; laid != want {
					t.Errorf("tree of depth %d, %d nodes: heap layout %v, want %v", d, e.treeSize(tr), laid, want)
				}
			}
		}
	}
}

// TestHeapWide: a model with more than 128 features (256 keys a row)
// keeps the preorder walk.
func TestHeapWide(t *testing.T) {
	bst, err := parseBooster(randomTrees(rand.New(rand.NewSource(1)), 2, 3, 129, 0))
	if err != nil {
		t.Fatal(err)
	}
	if bst.ens.heap != nil {
		t.Fatal("129 features took the heap layout")
	}
}
