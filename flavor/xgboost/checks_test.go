package xgboost

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/augurdb/augur/model"
)

func loadErr(file string, opts map[string]string) error {
	_, err := Flavor{}.Load(context.Background(), &model.Spec{Name: "m", Flavor: "xgboost", Options: opts}, fileArtifact(filepath.Join(fixtures, file)))
	return err
}

// TestIterationsBeyondRounds: OPTIONS iterations above the rounds the
// trees make is refused, naming the option, the value and the rounds, as
// XGBoost 1.7 refuses iteration_range=(0, n) then ("Check failed:
// tree_end <= model_.trees.size() (7 vs. 6)"; its dart crashes). All the
// rounds, and 0, are accepted; gblinear has no rounds and XGBoost ignores
// the range's end for it, as augur does.
func TestIterationsBeyondRounds(t *testing.T) {
	for _, c := range []struct {
		file          string
		rounds, trees int
	}{
		{"diabetes_reg.json", 6, 6},
		{"diabetes_reg.p5.pkl", 6, 6},
		{"iris_multi.ubj", 4, 12}, // 3 classes: a tree each per round
		{"iris_rf.json", 2, 18},   // 3 classes x num_parallel_tree 3
		{"diabetes_dart.json", 6, 6},
	} {
		for _, n := range []int{c.rounds + 1, 1000, math.MaxInt32} {
			err := loadErr(c.file, map[string]string{"iterations": strconv.Itoa(n)})
			want := []string{"OPTIONS iterations = " + strconv.Itoa(n), "has " + strconv.Itoa(c.rounds) + " boosting rounds (" + strconv.Itoa(c.trees) + " trees)", "XGBoost refuses it"}
			if err == nil {
				t.Errorf("%s: iterations = %d accepted", c.file, n)
				continue
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: iterations = %d: %v; want %q", c.file, n, err, w)
				}
			}
		}
		for _, n := range []int{0, 1, c.rounds} {
			m := load(t, c.file, map[string]string{"iterations": strconv.Itoa(n)})
			if got := m.b.ens.ntrees; n > 0 && got != c.trees/c.rounds*n || n == 0 && got != c.trees {
				t.Errorf("%s: iterations = %d keeps %d trees", c.file, n, got)
			}
		}
	}
	lin := load(t, "diabetes_linear.json", map[string]string{"iterations": "1000"})
	all := load(t, "diabetes_linear.json", nil)
	row := [][]float64{{0.01, -0.02, 0.03, 0.04, -0.05, 0.06, 0.07, -0.08, 0.09, 0.1}}
	a, _ := lin.Predict(context.Background(), listBatch(row))
	b, _ := all.Predict(context.Background(), listBatch(row))
	if a[0] != b[0] {
		t.Errorf("gblinear with iterations = 1000: %v, without %v", a[0], b[0])
	}
}

// TestBestIterationBeyondRounds: a wrapper's pickle whose best_iteration
// points past its trees is inconsistent (its predict would fail as
// above): refused, unless OPTIONS iterations chooses the rounds.
func TestBestIterationBeyondRounds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "wine_early_stop.p5.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []options{{}, {iterations: 2}} {
		f, err := parseFile(data)
		if err != nil {
			t.Fatal(err)
		}
		have := f.b.rounds()
		f.bestIteration = have // rounds [0, have+1)
		_, err = newModel(specFor("m"), f, opts)
		switch {
		case opts.iterations == 0 && (err == nil || !strings.Contains(err.Error(), "best_iteration is "+strconv.Itoa(have))):
			t.Errorf("best_iteration %d of %d rounds: %v", have, have, err)
		case opts.iterations > 0 && err != nil:
			t.Errorf("with iterations = %d: %v", opts.iterations, err)
		}
	}
}

// TestNumTreesMismatch: a file whose gbtree_model_param.num_trees is not
// the number of trees it holds is corrupt; XGBoost's JSON loader checks
// trees_json.size() == num_trees (2.x; 1.7 sized tree_info by num_trees
// and crashed on this file). Refused, in JSON and UBJSON, without
// allocating by the count.
func TestNumTreesMismatch(t *testing.T) {
	edit := func(file, n string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(file, ".ubj") {
			// XGBoost writes num_trees as a string: S, its length as
			// L (8 bytes), its digits. The object has no count, so
			// the string may change length.
			old := []byte("num_treesSL\x00\x00\x00\x00\x00\x00\x00\x016")
			if !bytes.Contains(data, old) {
				t.Fatalf("%s: num_trees not found", file)
			}
			repl := append([]byte("num_treesSL\x00\x00\x00\x00\x00\x00\x00"), byte(len(n)))
			return bytes.Replace(data, old, append(repl, n...), 1)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		gb := doc["learner"].(map[string]any)["gradient_booster"].(map[string]any)
		if inner, ok := gb["gbtree"].(map[string]any); ok { // dart
			gb = inner
		}
		gb["model"].(map[string]any)["gbtree_model_param"].(map[string]any)["num_trees"] = n
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, file := range []string{"diabetes_reg.json", "diabetes_reg.ubj", "diabetes_dart.json"} {
		for _, n := range []string{"100000000", "5", "7", "0"} {
			data := edit(file, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := parseFile(data)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "num_trees is "+n+", but") || !strings.Contains(err.Error(), "holds 6 trees") || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("%s with num_trees %s: %v", file, n, err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("%s with num_trees %s: %d bytes allocated", file, n, grew)
			}
		}
		if _, err := parseFile(edit(file, "6")); err != nil {
			t.Errorf("%s as written: %v", file, err)
		}
	}
}

// TestLogitrawWrapper: XGBClassifier(objective='binary:logitraw')'s
// predict labels a row 1 when Booster.predict's value, the margin, is
// above 0.5, and its predict_proba is [1 - margin, margin] (xgboost 1.7's
// sklearn.py); its pickle follows both. The same booster saved as a
// file has no wrapper: its class is margin > 0 and its probability the
// sigmoid of the margin.
func TestLogitrawWrapper(t *testing.T) {
	var f fixture
	var between int
	for _, e := range readManifest(t) {
		if e.Name == "cancer_logitraw_wrapper" {
			f = e
		}
	}
	data, _ := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	var raw struct{ Models []map[string]any }
	_ = json.Unmarshal(data, &raw)
	for _, e := range raw.Models {
		if e["name"] == "cancer_logitraw_wrapper" {
			between = int(e["between"].(float64))
		}
	}
	if f.Wrapper == nil || between == 0 {
		t.Fatal("no rows with margins in (0, 0.5] in the fixture")
	}
	rows := f.rows()
	margins := f.predictions(t)
	for _, file := range []string{"cancer_logitraw_wrapper.p2.pkl", "cancer_logitraw_wrapper.p5.pkl", "cancer_logitraw_wrapper.json"} {
		m := load(t, file, nil)
		got, err := m.Predict(context.Background(), listBatch(rows))
		if err != nil {
			t.Fatal(err)
		}
		probs, err := m.PredictProba(context.Background(), listBatch(rows))
		if err != nil {
			t.Fatal(err)
		}
		pickled := strings.HasSuffix(file, ".pkl")
		for r := range rows {
			mg := margins[r][0]
			if r < between && !(mg > 0 && mg <= 0.5) {
				t.Fatalf("row %d: margin %v, not in (0, 0.5]", r, mg)
			}
			want, p1 := float64(b2i(mg > 0)), float64(float32(1/(1+math.Exp(-mg))))
			if pickled {
				want, p1 = f.Wrapper[r], f.Proba[r][1]
				if r < between && want != 0 {
					t.Fatalf("row %d: the wrapper's predict %v for margin %v", r, want, mg)
				}
			}
			if float64(got[r].(int32)) != want || probs[r].Class != int(want) || !close32(probs[r].P[1], p1) {
				t.Errorf("%s row %d (margin %v): class %v, probabilities %v; want %v, %v", file, r, mg, got[r], probs[r].P, want, p1)
			}
		}
	}
}

// TestRefusedHolders: a pickle that holds an XGBoost model inside
// something else (a scikit-learn Pipeline, a dict), or a wrapper whose
// parameters hold another library's function, is refused with what it
// holds, where the model is and how to save it, not with the allowlist's
// bare "which augur does not load"; a scikit-learn model without XGBoost
// is sent to FLAVOR sklearn.
func TestRefusedHolders(t *testing.T) {
	for file, want := range map[string][]string{
		"refused_pipeline.p5.pkl": {
			"a scikit-learn Pipeline (StandardScaler, XGBClassifier) whose last step, pipe[-1], is an XGBClassifier",
			"FLAVOR xgboost reads an XGBoost wrapper pickled alone",
			"pipe[-1].get_booster().save_model('model.json')",
			"the steps before it (StandardScaler) in SQL",
			"ONNX",
		},
		"refused_dict.p5.pkl": {
			`a dict holding an XGBClassifier at obj["model"]`,
			`obj["model"].get_booster().save_model('model.json')`,
		},
		"refused_eval_metric.p5.pkl": {
			"sklearn.metrics._classification.log_loss",
			"the pickled XGBClassifier holds it at clf.eval_metric",
			"clf.get_booster().save_model('model.json')",
		},
		"../sklearn/dt_clf.p5.pkl": {
			"a scikit-learn DecisionTreeClassifier, not an XGBoost model",
			"FLAVOR sklearn reads",
		},
	} {
		err := loadErr(file, nil)
		if err == nil {
			t.Errorf("%s accepted", file)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q", file, err, w)
			}
		}
		if file != "refused_eval_metric.p5.pkl" && strings.Contains(err.Error(), "does not load") {
			t.Errorf("%s: %v", file, err)
		}
	}
}
