package xgboost

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// regJSON is the diabetes regression as a generic JSON document, for
// tests that break one part of it.
func regJSON(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "diabetes_reg.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func firstTree(doc map[string]any) map[string]any {
	l := doc["learner"].(map[string]any)
	gb := l["gradient_booster"].(map[string]any)
	return gb["model"].(map[string]any)["trees"].([]any)[0].(map[string]any)
}

func parseDoc(t *testing.T, doc any) error {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseFile(data)
	return err
}

// TestHostileTrees: a tree file that would loop, share nodes, point
// outside the tree or the features, or claim other sizes than it has is
// refused with an error that says where.
func TestHostileTrees(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(tree, doc map[string]any)
		want string
	}{
		"cycle": {func(tr, _ map[string]any) {
			l := tr["left_children"].([]any)
			l[1] = 0.0 // node 1 (a split) points back at the root
		}, "not a node of the tree"},
		"self loop deeper": {func(tr, _ map[string]any) {
			l := tr["left_children"].([]any)
			r := tr["right_children"].([]any)
			l[1], r[1] = r[0], l[0] // node 1's children are its siblings: node 1 reached twice
		}, "reached twice"},
		"child out of range": {func(tr, _ map[string]any) {
			tr["right_children"].([]any)[0] = 1e9
		}, "not a node of the tree"},
		"fractional child": {func(tr, _ map[string]any) {
			tr["right_children"].([]any)[0] = 1.5
		}, "not a node of the tree"},
		"feature out of range": {func(tr, _ map[string]any) {
			tr["split_indices"].([]any)[0] = 10.0
		}, "num_feature"},
		"short array": {func(tr, _ map[string]any) {
			tr["split_conditions"] = tr["split_conditions"].([]any)[:2]
		}, "split_conditions has 2 entries"},
		"num_nodes lies": {func(tr, _ map[string]any) {
			tr["tree_param"].(map[string]any)["num_nodes"] = "100000"
		}, "num_nodes"},
		"categorical": {func(tr, _ map[string]any) {
			st := tr["split_type"].([]any)
			st[0] = 1.0
		}, "categorical"},
		"huge num_feature": {func(_, doc map[string]any) {
			doc["learner"].(map[string]any)["learner_model_param"].(map[string]any)["num_feature"] = "999999999999"
		}, "AUGUR_MAX_TENSOR_ELEMENTS"},
		"unknown objective": {func(_, doc map[string]any) {
			doc["learner"].(map[string]any)["objective"].(map[string]any)["name"] = "survival:cox"
		}, "survival:cox"},
		"tree_info group": {func(_, doc map[string]any) {
			gb := doc["learner"].(map[string]any)["gradient_booster"].(map[string]any)
			gb["model"].(map[string]any)["tree_info"].([]any)[0] = 3.0
		}, "output group"},
		"no trees array": {func(_, doc map[string]any) {
			gb := doc["learner"].(map[string]any)["gradient_booster"].(map[string]any)
			gb["model"].(map[string]any)["trees"] = "x"
		}, "not an array of trees"},
	} {
		t.Run(name, func(t *testing.T) {
			doc := regJSON(t)
			c.edit(firstTree(doc), doc)
			err := parseDoc(t, doc)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestHostileUBJSON: counts and lengths beyond the file, bad markers and
// deep nesting are errors, before any allocation they would drive.
func TestHostileUBJSON(t *testing.T) {
	for name, data := range map[string][]byte{
		"huge typed count": []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[$d#L\x7f\xff\xff\xff\xff\xff\xff\xff}"),
		"huge count":       []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[#L\x00\x00\x00\x00\x10\x00\x00\x00}"),
		"negative length":  []byte("{i\xffa}"),
		"long string":      []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01aSL\x00\x00\x00\x00\xff\x00\x00\x00}"),
		"bad marker":       []byte("{i\x01a\x01}"),
		"unclosed":         []byte("{i\x01a[i\x01"),
		"deep":             append([]byte("{i\x01a"), bytes.Repeat([]byte("["), 100000)...),
		"float length":     []byte("{i\x01a[#d\x00\x00\x00\x00]}"),
	} {
		t.Run(name, func(t *testing.T) {
			if !isUBJSON(data) {
				t.Fatal("not taken for UBJSON")
			}
			if _, err := parseFile(data); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestRefusedFiles: other formats say what they are and what to do.
func TestRefusedFiles(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"old binary": {append([]byte{0, 0, 0, 0x3f}, make([]byte, 100)...), "old binary format"},
		"binf":       {append([]byte("binf"), make([]byte, 100)...), "old binary format"},
		"json array": {[]byte("[1, 2]"), "not an XGBoost model"},
		"json other": {[]byte(`{"a": 1}`), "learner is missing"},
		"empty":      {nil, "not an XGBoost model"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseFile(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// TestRefusedPickles: a pickle of anything else is refused by the
// allowlist, naming the class; nothing runs.
func TestRefusedPickles(t *testing.T) {
	// protocol 2: os.system('x') via REDUCE
	evil := []byte("\x80\x02cos\nsystem\nq\x00X\x01\x00\x00\x00xq\x01\x85q\x02Rq\x03.")
	_, err := parseFile(evil)
	if err == nil || !strings.Contains(err.Error(), "os.system") {
		t.Fatalf("got %v", err)
	}
	// A wrapper whose booster is missing.
	empty := []byte("\x80\x02cxgboost.sklearn\nXGBRegressor\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00aK\x01sb.")
	_, err = parseFile(empty)
	if err == nil || !strings.Contains(err.Error(), "no fitted Booster") {
		t.Fatalf("got %v", err)
	}
}
