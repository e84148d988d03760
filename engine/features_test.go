package engine

import (
	"reflect"
	"strings"
	"testing"
)

func TestMapFields(t *testing.T) {
	// exact names first, then the one field that differs in case; extra
	// fields are ignored
	got, err := mapFields("m", []string{"Age", "bmi", "BP"}, []string{"AGE", "Age", "BMI", "bp", "id"})
	if err != nil || !reflect.DeepEqual(got, []string{"Age", "BMI", "bp"}) {
		t.Errorf("got %v, %v", got, err)
	}
	_, err = mapFields("m", []string{"age"}, []string{"AGE", "Age"})
	if err == nil || !strings.Contains(err.Error(), `the model's feature "age" matches the fields "AGE", "Age", which differ only in case`) {
		t.Errorf("ambiguous: %v", err)
	}
	feats := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	_, err = mapFields("m", feats, []string{"a", "x\x1b[31m"})
	if err == nil || !strings.Contains(err.Error(), `no field for 7 of the model's 8 features: "b", "c", "d", "e", "f" and 2 more; it has 2 fields: "a", "x\x1b[31m"`) {
		t.Errorf("missing: %v", err)
	}
}

func TestByNameNulls(t *testing.T) {
	col := []any{
		map[string]any{"a": 1.0, "b": 2.0, "z": nil},
		map[string]any{"a": nil, "b": 2.0, "z": 1},
		nil,
		map[string]any{"a": 3.0, "b": 4.0, "z": 1},
	}
	null := make([]bool, len(col))
	args, err := byName("m", []string{"b", "a"}, col, null)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(null, []bool{false, true, true, false}) ||
		!reflect.DeepEqual(args, [][]any{{2.0, 4.0}, {1.0, 3.0}}) {
		t.Errorf("null %v, args %v", null, args)
	}
}
