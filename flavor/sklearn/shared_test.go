package sklearn

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/pickle"
)

// TestSharedTreesCompileOnce: a forest whose estimators_ lists one tree
// many times (memo references cost a pickle a few bytes each) reads and
// compiles it once, so memory and time follow the distinct trees.
func TestSharedTreesCompileOnce(t *testing.T) {
	f, err := os.Open(filepath.Join(fixtures, "dt_clf.p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := pickle.Load(f, unpickleOptions())
	if err != nil {
		t.Fatal(err)
	}
	dt := v.(*pickle.Object)
	const refs = 200000
	list := &pickle.List{Items: make([]any, refs)}
	for i := range list.Items {
		list.Items[i] = dt
	}
	state := &pickle.Dict{}
	for _, k := range []string{"classes_", "n_features_in_", "_sklearn_version"} {
		v, _ := dt.Attr(k)
		state.Set(k, v)
	}
	state.Set("estimators_", list)
	cls := "sklearn.ensemble._forest.RandomForestClassifier"
	rf := &pickle.Object{Class: &pickle.Global{Module: "sklearn.ensemble._forest", Name: "RandomForestClassifier", Key: cls}, Dict: state}
	start := time.Now()
	peakrss.Within(t, 64<<20, func() {
		m, err := build(&model.Spec{Name: "m"}, rf)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.pred.(*forest).vals); n > 10000 {
			t.Errorf("%d leaf values for one distinct tree", n)
		}
	})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("building took %v", d)
	}
}
