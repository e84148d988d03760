package sklearn

// A model file may hold anything in any attribute, at any depth: every
// fixture of every folder is read, its estimators (and the estimators
// inside them: a Pipeline's steps, a ColumnTransformer's transformers, a
// GradientBoosting's trees, a HistGradientBoosting's predictors, a
// KNeighbors' training rows) have their attributes replaced in turn by
// odd values, and the model then either fails to build with an error or
// predicts awkward rows (NaN, infinities, huge values, text where numbers
// are expected and numbers where text is) without a panic. A second test
// checks that the numbers a file states (feature counts, node counts, a
// degree, n_neighbors) cannot make a build allocate beyond what the
// file's own arrays imply.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
	"github.com/augurdb/augur/types"
)

// hostileFolders are every folder of scikit-learn fixtures.
var hostileFolders = []string{
	"../../testdata/sklearn",
	"../../testdata/sklearn/pipeline",
	"../../testdata/sklearn/ensemble",
	"../../testdata/sklearn/more",
}

// hostileFixture is one fixture file, read once, with a spec it builds
// under and a few of its input rows.
type hostileFixture struct {
	name string
	root *pickle.Object
	spec *model.Spec
	rows [][]any
}

// loadHostileFixtures reads the protocol-4 pickle of every fixture (one
// file per model) that builds as it is.
func loadHostileFixtures(t *testing.T) []*hostileFixture {
	t.Helper()
	var out []*hostileFixture
	for _, dir := range hostileFolders {
		files, err := filepath.Glob(filepath.Join(dir, "*.p4.pkl"))
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(files)
		for _, path := range files {
			fx := readHostileFixture(t, path)
			if fx != nil {
				out = append(out, fx)
			}
		}
	}
	return out
}

func readHostileFixture(t *testing.T, path string) *hostileFixture {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pickle.Load(f, unpickleOptions())
	f.Close()
	if err != nil {
		return nil // refused files are tested elsewhere
	}
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil
	}
	fx := &hostileFixture{name: filepath.Base(path), root: obj}
	// The spec the fixture builds under: as it is, with text classes, or
	// (a transformer) with doubles.
	str, dbl := types.StringT, types.ListOf(types.Float64T)
	for _, r := range []*types.Type{nil, &str, &dbl} {
		spec := &model.Spec{Name: "m", Returns: r}
		if _, err := build(spec, obj); err == nil {
			fx.spec = spec
			break
		}
	}
	if fx.spec == nil {
		return nil // a fixture that tests a refusal
	}
	var rec struct {
		Inputs []any `json:"inputs"`
	}
	js := strings.TrimSuffix(path, ".p4.pkl") + ".json"
	if _, err := os.Stat(js); err == nil {
		readJSON(t, js, &rec)
	}
	for _, r := range rec.Inputs {
		if l, ok := r.([]any); ok && len(fx.rows) < 2 {
			fx.rows = append(fx.rows, l)
		}
	}
	return fx
}

// hostileObjects lists the objects reachable from root that hold
// attributes, each once, in a fixed order; at most perClass of each
// class (a forest's hundred trees are alike).
func hostileObjects(root *pickle.Object, perClass int) []*pickle.Object {
	seen := map[any]bool{}
	count := map[string]int{}
	var out []*pickle.Object
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 12 {
			return
		}
		switch x := v.(type) {
		case *pickle.Object:
			if seen[x] {
				return
			}
			seen[x] = true
			if x.Dict != nil && count[x.Class.Key] < perClass {
				count[x.Class.Key]++
				out = append(out, x)
			}
			if x.Dict != nil {
				for _, c := range x.Dict.Values {
					walk(c, depth+1)
				}
			}
		case *pickle.List:
			if seen[x] {
				return
			}
			seen[x] = true
			for _, c := range x.Items {
				walk(c, depth+1)
			}
		case pickle.Tuple:
			for _, c := range x {
				walk(c, depth+1)
			}
		case *pickle.Dict:
			if seen[x] {
				return
			}
			seen[x] = true
			for _, c := range x.Values {
				walk(c, depth+1)
			}
		case *pickle.Array:
			if seen[x] {
				return
			}
			seen[x] = true
			for _, c := range x.Objects {
				walk(c, depth+1)
			}
		}
	}
	walk(root, 0)
	return out
}

// oddValues are the values any attribute may be replaced by.
func oddValues() []any {
	return []any{
		nil, int64(-1), int64(0), int64(1 << 40), int64(math.MaxInt32), "x\x1b[2J\n",
		math.NaN(), math.Inf(1), true, &pickle.List{}, pickle.Tuple{},
		&pickle.Dict{}, &pickle.List{Items: []any{int64(-1), "x"}},
		floatArray([]int{0}), floatArray([]int{1, 0}), floatArray([]int{3}, math.NaN()),
		intArray([]int{2}, math.MaxInt64), intArray([]int{2, 2}, -7),
		&pickle.Array{Dtype: &pickle.Dtype{Kind: 'U', ItemSize: 0, ByteOrder: '<'}, Shape: []int{100000000}},
	}
}

func floatArray(shape []int, v ...float64) *pickle.Array {
	a := &pickle.Array{Dtype: &pickle.Dtype{Kind: 'f', ItemSize: 8, ByteOrder: '<'}, Shape: shape}
	a.Data = make([]byte, 8*a.Len())
	for i := 0; i < a.Len() && len(v) > 0; i++ {
		binary.LittleEndian.PutUint64(a.Data[8*i:], math.Float64bits(v[0]))
	}
	return a
}

func intArray(shape []int, v int64) *pickle.Array {
	a := &pickle.Array{Dtype: &pickle.Dtype{Kind: 'i', ItemSize: 8, ByteOrder: '<'}, Shape: shape}
	a.Data = make([]byte, 8*a.Len())
	for i := 0; i < a.Len(); i++ {
		binary.LittleEndian.PutUint64(a.Data[8*i:], uint64(v))
	}
	return a
}

// variants are odd versions of an array the file holds: other shapes of
// the same data, fewer elements, and every byte set to patterns that
// read as -1, NaN, huge or tiny numbers and out-of-range indices (a
// tree's nodes are a structured array: every field at once).
func variants(v any) []any {
	a, ok := v.(*pickle.Array)
	if !ok || a.Dtype == nil || a.Dtype.Kind == 'O' || len(a.Data) != a.Len()*a.Dtype.ItemSize {
		if l, ok := v.(*pickle.List); ok && len(l.Items) > 0 {
			return []any{&pickle.List{Items: l.Items[:len(l.Items)-1]}, &pickle.List{Items: append(append([]any(nil), l.Items...), l.Items[0])}}
		}
		return nil
	}
	n := a.Len()
	var out []any
	with := func(shape []int, data []byte) {
		out = append(out, &pickle.Array{Dtype: a.Dtype, Shape: shape, Fortran: a.Fortran, Data: data})
	}
	with([]int{n}, a.Data)
	with([]int{1, n}, a.Data)
	with([]int{n, 1}, a.Data)
	if len(a.Shape) > 0 && a.Shape[0] > 0 {
		shape := append([]int{a.Shape[0] - 1}, a.Shape[1:]...)
		sz := a.Dtype.ItemSize
		for _, s := range shape[1:] {
			sz *= s
		}
		with(shape, a.Data[:len(a.Data)-sz])
	}
	for _, b := range []byte{0xff, 0x7f, 0x80, 0x01} {
		data := make([]byte, len(a.Data))
		for i := range data {
			data[i] = b
		}
		with(a.Shape, data)
	}
	return out
}

// hostileRows are rows of nf features, given as one argument per
// feature: the fixture's own rows, then NaN, infinities, huge values,
// text in every column and numbers in every column.
func hostileRows(fx *hostileFixture, nf int) *model.Batch {
	var rows [][]any
	for _, r := range fx.rows {
		row := make([]any, nf)
		for j := range row {
			row[j] = 1.0
			if j < len(r) && r[j] != nil {
				row[j] = r[j]
			}
		}
		rows = append(rows, row)
	}
	for _, v := range []any{math.NaN(), math.Inf(1), math.Inf(-1), 1e308, -1e308, 3.5e38, "x\x1b[2J", "", 0.0, nil} {
		row := make([]any, nf)
		for j := range row {
			row[j] = v
		}
		rows = append(rows, row)
	}
	if len(fx.rows) > 0 {
		// The first row with text and numbers swapped.
		row := make([]any, nf)
		for j := range row {
			row[j] = "7"
			if j < len(fx.rows[0]) {
				if _, isText := fx.rows[0][j].(string); isText {
					row[j] = 7.0
				}
			}
		}
		rows = append(rows, row)
	}
	b := &model.Batch{Args: make([][]any, nf), Rows: len(rows)}
	for j := range b.Args {
		b.Args[j] = make([]any, len(rows))
		for i, r := range rows {
			b.Args[j][i] = r[j]
		}
	}
	return b
}

// tryHostile builds obj's root as fx says and predicts hostile rows
// (one at a time too, so that a row that fails does not hide the
// others), and predict_proba when the model has it. A panic fails t.
func tryHostile(t *testing.T, fx *hostileFixture, what func() string) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s: panic %v\n%s", what(), p, panicWhere())
		}
	}()
	m, err := build(fx.spec, fx.root)
	if err != nil {
		if strings.ContainsAny(err.Error(), "\x1b\n") {
			t.Errorf("%s: error holds the file's control characters: %q", what(), err)
		}
		return
	}
	nf := m.NFeatures()
	ctx := context.Background()
	if nf > 4096 {
		// A model that claims many features is given a short row: it
		// must refuse it without allocating for its claim.
		b := listBatch([][]float64{{1, 2}})
		if _, err := m.Predict(ctx, b); err == nil {
			t.Errorf("%s: %d features, but a row of 2 predicted", what(), nf)
		}
		return
	}
	b := hostileRows(fx, nf)
	batches := []*model.Batch{b}
	for r := 0; r < b.Rows; r++ {
		one := &model.Batch{Args: make([][]any, nf), Rows: 1}
		for j := range one.Args {
			one.Args[j] = b.Args[j][r : r+1]
		}
		batches = append(batches, one)
	}
	for _, b := range batches {
		m.Predict(ctx, b)
		if m.Classes() != nil {
			ps, err := m.PredictProba(ctx, b)
			if err == nil {
				for _, p := range ps {
					if p.P != nil && (p.Class < 0 || p.Class >= len(m.Classes()) || len(p.P) != len(m.Classes())) {
						t.Fatalf("%s: class index %d of %d classes (%d probabilities)", what(), p.Class, len(m.Classes()), len(p.P))
					}
				}
			}
		}
	}
}

func TestHostileAttributesEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every fixture many times")
	}
	start := time.Now()
	rng := rand.New(rand.NewSource(13))
	fixtures := loadHostileFixtures(t)
	if len(fixtures) < 100 {
		t.Fatalf("only %d fixtures built", len(fixtures))
	}
	odd := oddValues()
	builds := 0
	for _, fx := range fixtures {
		t0 := time.Now()
		// Each fixture's untouched rows first: the awkward inputs alone.
		tryHostile(t, fx, func() string { return fx.name })
		type change struct {
			obj *pickle.Object
			key any
			val any
		}
		var changes []change
		for _, obj := range hostileObjects(fx.root, 2) {
			keys := obj.Dict.Keys
			for _, k := range keys {
				orig, _ := obj.Dict.Get(k)
				vals := append(append([]any(nil), odd...), variants(orig)...)
				for _, k2 := range keys {
					if v2, _ := obj.Dict.Get(k2); k2 != k {
						vals = append(vals, v2)
					}
				}
				for _, v := range vals {
					changes = append(changes, change{obj, k, v})
				}
			}
		}
		// Sampled to keep the whole test to seconds: the same sample
		// every run.
		const perFixture = 220
		if len(changes) > perFixture {
			rng.Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })
			changes = changes[:perFixture]
		}
		for _, c := range changes {
			orig, _ := c.obj.Dict.Get(c.key)
			c.obj.Dict.Set(c.key, c.val)
			t1 := time.Now()
			builds++
			tryHostile(t, fx, func() string {
				return fmt.Sprintf("%s: %s.%v = %s", fx.name, c.obj.Class.Name, c.key, describeHostile(c.val))
			})
			c.obj.Dict.Set(c.key, orig)
			if d := time.Since(t1); d > 300*time.Millisecond {
				t.Logf("slow: %s %s.%v = %s: %v", fx.name, c.obj.Class.Name, c.key, describeHostile(c.val), d)
			}
		}
		if d := time.Since(t0); d > time.Second {
			t.Logf("slow fixture %s: %v", fx.name, d)
		}
	}
	t.Logf("%d fixtures, %d builds in %v", len(fixtures), builds, time.Since(start))
}

// panicWhere is the first frame of augur's code in the panicking stack.
func panicWhere() string {
	st := string(debug.Stack())
	lines := strings.Split(st, "\n")
	for i, l := range lines {
		if i > 0 && strings.Contains(l, "/flavor/sklearn/") && !strings.Contains(l, "_test.go") {
			return strings.TrimSpace(lines[i-1]) + " " + strings.TrimSpace(l)
		}
	}
	return ""
}

func describeHostile(v any) string {
	if a, ok := v.(*pickle.Array); ok && a.Dtype != nil {
		return fmt.Sprintf("array %s%v", a.Dtype, a.Shape)
	}
	return fmt.Sprintf("%s %v", describePickled(v), v)
}

// claimedInts are the attributes that hold one integer (an int or a
// one-element integer array): counts and sizes a file states.
func claimedInts(root *pickle.Object) [][2]any {
	var out [][2]any
	for _, obj := range hostileObjects(root, 2) {
		for _, k := range obj.Dict.Keys {
			v, _ := obj.Dict.Get(k)
			if _, ok := intOf(v); ok {
				out = append(out, [2]any{obj, k})
			} else if a, ok := v.(*pickle.Array); ok && a.Len() <= 64 && a.Dtype != nil && (a.Dtype.Kind == 'i' || a.Dtype.Kind == 'u') {
				out = append(out, [2]any{obj, k}) // n_support_, hidden layer sizes
			}
		}
	}
	return out
}

// TestHostileClaimsBounded: every count a file states (n_features_in_,
// n_support_, node counts, a degree, n_neighbors, n_outputs_, ...) set to
// a huge value cannot make building the model and predicting a batch
// allocate more than a bound: what augur allocates follows the arrays
// the file holds (whose size the reader bounded), never its claims.
func TestHostileClaimsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every fixture many times")
	}
	if !peakrss.Supported() {
		t.Skip("peak RSS is not measurable here")
	}
	const bound = 96 << 20
	fixtures := loadHostileFixtures(t)
	huge := []any{int64(math.MaxInt32), int64(1 << 40)}
	reset := func() int64 {
		if err := peakrss.Reset(); err != nil {
			t.Skip(err)
		}
		base, _ := peakrss.Current()
		return base
	}
	base := reset()
	tries := 0
	for _, fx := range fixtures {
		m, err := build(fx.spec, fx.root)
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		nf := m.NFeatures()
		for _, c := range claimedInts(fx.root) {
			obj, key := c[0].(*pickle.Object), c[1]
			orig, _ := obj.Dict.Get(key)
			vals := append([]any(nil), huge...)
			if a, ok := orig.(*pickle.Array); ok {
				vals = append(vals, intArray(a.Shape, math.MaxInt32), intArray(a.Shape, 1<<40))
			}
			for _, v := range vals {
				obj.Dict.Set(key, v)
				tries++
				what := func() string {
					return fmt.Sprintf("%s: %s.%v = %s", fx.name, obj.Class.Name, key, describeHostile(v))
				}
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Errorf("%s: panic %v\n%s", what(), p, panicWhere())
						}
					}()
					m, err := build(fx.spec, fx.root)
					if err != nil {
						return
					}
					b := hostileRows(fx, nf)
					// A full batch of the fixture's rows, as DuckDB sends.
					for j := range b.Args {
						col := make([]any, 2048)
						for i := range col {
							col[i] = b.Args[j][i%min(2, b.Rows)]
						}
						b.Args[j] = col
					}
					b.Rows = 2048
					m.Predict(context.Background(), b)
					if m.Classes() != nil {
						m.PredictProba(context.Background(), b)
					}
				}()
				if peak, err := peakrss.Peak(); err == nil && peak-base > bound {
					t.Errorf("%s: memory grew by %d MiB", what(), (peak-base)>>20)
					base = reset()
				}
			}
			obj.Dict.Set(key, orig)
		}
	}
	t.Logf("%d fixtures, %d claims", len(fixtures), tries)
}
