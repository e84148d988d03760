package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
)

// A model that knows its features' names (model.FeatureNamer: a
// scikit-learn estimator fitted on a DataFrame, for instance) takes a
// whole row by name: ML_PREDICT(m, t) hands it the row of t as a STRUCT
// (DuckDB's reading of a table name as a column), and the engine passes
// the model one argument per feature, in the model's order, taken from
// the STRUCT's fields of the same name. Extra fields are ignored, so a
// table's label or id columns may stay in the row.

// unwrapper is a model that wraps another (model.ApplyProbabilities'
// wrapper): what the inner model implements still counts.
type unwrapper interface{ Unwrap() model.Model }

// featureNames returns the model's feature names; named is false when the
// model does not implement model.FeatureNamer at all (it may then take a
// STRUCT for reasons of its own: an ONNX model's named inputs, an image).
func featureNames(m model.Model) (names []string, named bool) {
	for m != nil {
		if fn, ok := m.(model.FeatureNamer); ok {
			return fn.FeatureNames(), true
		}
		u, ok := m.(unwrapper)
		if !ok {
			return nil, false
		}
		m = u.Unwrap()
	}
	return nil, false
}

// classifierOf returns the model as a model.Classifier, looking through
// wrappers, or nil.
func classifierOf(m model.Model) model.Classifier {
	for m != nil {
		if c, ok := m.(model.Classifier); ok && len(c.Classes()) > 0 {
			return c
		}
		u, ok := m.(unwrapper)
		if !ok {
			return nil
		}
		m = u.Unwrap()
	}
	return nil
}

// structArg reports whether a chunk's single model argument is a STRUCT,
// looking at its first non-NULL value.
func structArg(col []any) bool {
	for _, v := range col {
		if v != nil {
			_, ok := v.(map[string]any)
			return ok
		}
	}
	return false
}

// fieldsOf returns the field names of the first STRUCT value of col,
// sorted (every row of a column has the same fields).
func fieldsOf(col []any) []string {
	for _, v := range col {
		if m, ok := v.(map[string]any); ok {
			fields := make([]string, 0, len(m))
			for k := range m {
				fields = append(fields, k)
			}
			sort.Strings(fields)
			return fields
		}
	}
	return nil
}

// mapFields finds, for each feature, the STRUCT field that holds it: the
// field of the same name, else the one field whose name differs only in
// case (DuckDB's own column names are case-insensitive). It fails naming
// the features it cannot find and the fields there are.
func mapFields(modelName string, features, fields []string) ([]string, error) {
	exact := make(map[string]bool, len(fields))
	folded := make(map[string][]string, len(fields))
	for _, f := range fields {
		exact[f] = true
		folded[strings.ToLower(f)] = append(folded[strings.ToLower(f)], f)
	}
	out := make([]string, len(features))
	var missing []string
	for i, name := range features {
		if exact[name] {
			out[i] = name
			continue
		}
		switch c := folded[strings.ToLower(name)]; len(c) {
		case 1:
			out[i] = c[0]
		case 0:
			missing = append(missing, name)
		default:
			return nil, fmt.Errorf("ML_PREDICT(%s): the model's feature %s matches the fields %s, which differ only in case; rename one of them",
				modelName, untrusted.Quote(name), listNames(c, 5))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ML_PREDICT(%s): the row has no field for %d of the model's %d features: %s; it has %s (the model takes a row's fields by the names of the features it was fitted on)",
			modelName, len(missing), len(features), listNames(missing, 5), fieldList(fields))
	}
	return out, nil
}

func fieldList(fields []string) string {
	if len(fields) == 0 {
		return "no fields"
	}
	return fmt.Sprintf("%d fields: %s", len(fields), listNames(fields, 10))
}

// listNames quotes up to max names, then says how many more there are.
func listNames(names []string, max int) string {
	n := min(len(names), max)
	q := make([]string, n)
	for i := range q {
		q[i] = untrusted.Quote(names[i])
	}
	s := strings.Join(q, ", ")
	if len(names) > n {
		s += fmt.Sprintf(" and %d more", len(names)-n)
	}
	return s
}

// byName turns one STRUCT column into one column per feature. A row whose
// STRUCT lacks a value (a NULL field) is marked in null: its result is
// NULL, as for a NULL argument.
func byName(modelName string, features []string, col []any, null []bool) ([][]any, error) {
	fields, err := mapFields(modelName, features, fieldsOf(col))
	if err != nil {
		return nil, err
	}
	args := make([][]any, len(features))
	for i := range args {
		args[i] = make([]any, 0, len(col))
	}
	for r, v := range col {
		row, _ := v.(map[string]any)
		if row == nil {
			null[r] = true
			continue
		}
		for _, f := range fields {
			if row[f] == nil {
				null[r] = true
				break
			}
		}
		if null[r] {
			continue
		}
		for i, f := range fields {
			args[i] = append(args[i], row[f])
		}
	}
	return args, nil
}

// noNamesError is the error for a STRUCT given to a model that could map
// it by name but does not know its features' names.
func noNamesError(modelName string) error {
	return fmt.Errorf("ML_PREDICT(%s): the model does not know its features' names (it was fitted without them, on an array rather than a DataFrame), so it cannot take a row or STRUCT by name; pass the features as columns in the order it was fitted on, ML_PREDICT(%s, a, b, c), or as one list, ML_PREDICT(%s, [a, b, c])",
		modelName, modelName, modelName)
}
