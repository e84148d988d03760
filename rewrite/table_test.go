package rewrite

import (
	"errors"
	"strings"
	"testing"

	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/types"
)

// tableEnv describes models by name: named* know their features' names,
// s* return a STRUCT, c* are binary classifiers with probabilities.
func tableEnv(calls *[]string) Env {
	return Env{
		Resolve: resolver(nil),
		Model: func(name string, pos parser.Pos) (*Model, error) {
			if calls != nil {
				*calls = append(*calls, name+"@"+pos.String())
			}
			if strings.HasPrefix(name, "missing") {
				return nil, errors.New("model \"" + name + "\" does not exist")
			}
			m := &Model{Name: name, Predict: "fn_" + name, Result: types.Float64T, Named: strings.HasPrefix(name, "named")}
			if strings.HasPrefix(name, "s") {
				m.Result = types.StructOf(types.Field{Name: "label", Type: types.Int64T})
			}
			if strings.HasPrefix(name, "c") {
				m.Result, m.Proba, m.Classes, m.Class = types.Int64T, "proba", []any{int64(0), int64(1)}, types.Int64T
			}
			return m, nil
		},
		Columns: func(q string) ([]Column, error) {
			return []Column{{"a", "DOUBLE"}, {"Label", "BIGINT"}, {"s", "VARCHAR"}}, nil
		},
	}
}

func TestTableForm(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT * FROM ML_PREDICT(MODEL m, TABLE t)",
			`SELECT * FROM (SELECT __augur_in.*, fn_m('m', *COLUMNS(*)) AS "m" FROM t AS __augur_in)`},
		{"SELECT * FROM ml_predict(model named, TABLE s.\"T\") p",
			`SELECT * FROM (SELECT __augur_in.*, fn_named('named', __augur_in) AS "named" FROM s."T" AS __augur_in) p`},
		{"SELECT * FROM ML_PREDICT(MODEL s1, (SELECT ML_PREDICT(m, x) FROM t))",
			`SELECT * FROM (SELECT __augur_in.*, unnest(fn_s1('s1', *COLUMNS(*))) FROM (SELECT fn_m('m', x) AS "m" FROM t) AS __augur_in)`},
		{"SELECT ML_PREDICT(m, 1), * FROM ML_PREDICT(MODEL m, TABLE t)",
			`SELECT fn_m('m', 1) AS "m", * FROM (SELECT __augur_in.*, fn_m('m', *COLUMNS(*)) AS "m" FROM t AS __augur_in)`},
	} {
		got, changed, err := RewriteEnv(c.in, origin, tableEnv(nil))
		if err != nil || !changed || got != c.want {
			t.Errorf("%s:\n got  %s (%v)\n want %s", c.in, got, err, c.want)
		}
	}
}

func TestEvaluateSQL(t *testing.T) {
	got, _, err := RewriteEnv("SELECT * FROM ML_EVALUATE(MODEL named, TABLE t, 'label')", origin, tableEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	// the label found case-insensitively, left out of the features
	for _, w := range []string{`fn_named('named', struct_pack(*COLUMNS(* EXCLUDE ("Label"))))`, `__augur_in."Label"::DOUBLE AS y`, "AS mae", "AS r2"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
	got, _, err = RewriteEnv("SELECT * FROM ML_EVALUATE(MODEL c, (SELECT 1), 'Label')", origin, tableEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`proba('c', *COLUMNS(* EXCLUDE ("Label")))`, `[0, 1][p."class" + 1]`, "AS roc_auc", "FROM (SELECT 1) AS __augur_in"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
}

func TestTableFormErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT * FROM\n ML_PREDICT(MODEL missing, TABLE t)", `line 2, column 2: model "missing" does not exist`},
		{"SELECT * FROM ML_PREDICT(MODEL m TABLE t)", "line 1, column 34: ML_PREDICT: expected ',' and the input after the model"},
		{"SELECT * FROM ML_PREDICT(MODEL m, TABLE t.)", "line 1, column 43: ML_PREDICT: expected a table name after TABLE"},
		{"SELECT * FROM ML_PREDICT(MODEL m, ())", "line 1, column 35: ML_PREDICT: the subquery is empty"},
		{"SELECT * FROM ML_EVALUATE(MODEL m, TABLE t, 'nope')", `line 1, column 45: ML_EVALUATE: the input has no column "nope"; its columns are "a", "Label", "s"`},
		{"SELECT * FROM ML_EVALUATE(MODEL m, TABLE t, s)", `line 1, column 45: ML_EVALUATE(m): the label column "s" is VARCHAR, but the model predicts numbers`},
		{"SELECT * FROM ML_EVALUATE(MODEL c, TABLE t, 's')", `the label column "s" is VARCHAR, but the model predicts numeric classes (BIGINT)`},
		{"SELECT * FROM ML_EVALUATE(MODEL s, TABLE t, 'a')", `line 1, column 15: ML_EVALUATE(s): the model returns STRUCT("label" BIGINT), neither a class nor a number`},
		{"SELECT 1, ML_PREDICT(MODEL m, TABLE t)", "line 1, column 11: ML_PREDICT(MODEL ...) returns a table: use it in a FROM clause"},
		{"SELECT ML_EVALUATE(x)", "line 1, column 8: ML_EVALUATE takes (MODEL m, TABLE t, 'label_column')"},
	} {
		_, _, err := RewriteEnv(c.in, origin, tableEnv(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %s", c.in, err, c.want)
		}
	}
}
