package rewrite

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/augurdb/augur/parser"
)

var origin = parser.Pos{Offset: 0, Line: 1, Col: 1}

// resolver maps model m to fn_m and fails for models named missing*.
func resolver(calls *[]string) Resolver {
	return func(model string, pos parser.Pos) (string, error) {
		if calls != nil {
			*calls = append(*calls, fmt.Sprintf("%s@%d:%d", model, pos.Line, pos.Col))
		}
		if strings.HasPrefix(model, "missing") {
			return "", fmt.Errorf("model %q does not exist", model)
		}
		return "fn_" + strings.NewReplacer(" ", "_", `"`, "", "'", "").Replace(model), nil
	}
}

func TestRewrite(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"expression items named as written, implicit aliases kept",
			"SELECT id, ML_PREDICT(m, x)  *\n 2, ML_PREDICT(m, x) + 1 total, CASE WHEN ML_PREDICT(m, x) > 0 THEN 1 END FROM t",
			`SELECT id, fn_m('m', x)  *` + "\n" + ` 2 AS "ML_PREDICT(m, x) * 2", fn_m('m', x) + 1 total, CASE WHEN fn_m('m', x) > 0 THEN 1 END AS "CASE WHEN ML_PREDICT(m, x) > 0 THEN 1 END" FROM t`},
		{"reserved words that end an expression are not aliases",
			"SELECT ML_PREDICT(m, x) IS NULL, ML_PREDICT(m, x) IS NOT TRUE, ML_PREDICT(m, x) = y AND z, ML_PREDICT(m, x) IS NULL n FROM t",
			`SELECT fn_m('m', x) IS NULL AS "ML_PREDICT(m, x) IS NULL", fn_m('m', x) IS NOT TRUE AS "ML_PREDICT(m, x) IS NOT TRUE", fn_m('m', x) = y AND z AS "ML_PREDICT(m, x) = y AND z", fn_m('m', x) IS NULL n FROM t`},
		{"two calls in one item get one alias",
			"SELECT ML_PREDICT(m, x) - ML_PREDICT(n, x) FROM t",
			`SELECT fn_m('m', x) - fn_n('n', x) AS "ML_PREDICT(m, x) - ML_PREDICT(n, x)" FROM t`},
		{"nested field access",
			"SELECT ML_PREDICT(m, x).box.xmin FROM t",
			`SELECT fn_m('m', x).box.xmin AS "xmin" FROM t`},
		{"distinct on is not an item",
			"SELECT DISTINCT ON (a) a, ML_PREDICT(m, x) FROM t",
			`SELECT DISTINCT ON (a) a, fn_m('m', x) AS "m" FROM t`},
		{"select list default alias",
			"SELECT ML_PREDICT(m, x) FROM t",
			`SELECT fn_m('m', x) AS "m" FROM t`},
		{"several items",
			"SELECT id, ml_predict(m, x), ML_PREDICT(n, y, z) FROM t",
			`SELECT id, fn_m('m', x) AS "m", fn_n('n', y, z) AS "n" FROM t`},
		{"end of statement and semicolon",
			"select distinct ML_Predict(m, 1); SELECT ALL ml_predict(m, 2)",
			`select distinct fn_m('m', 1) AS "m"; SELECT ALL fn_m('m', 2) AS "m"`},
		{"explicit alias",
			"SELECT ML_PREDICT(m, x) AS pred, ML_PREDICT(m, x) pred2 FROM t",
			"SELECT fn_m('m', x) AS pred, fn_m('m', x) pred2 FROM t"},
		{"field access, cast, operator, index",
			"SELECT ML_PREDICT(m, x).label, ML_PREDICT(m, x)::VARCHAR, ML_PREDICT(m, x) + 1, ML_PREDICT(m, x)[1] FROM t",
			`SELECT fn_m('m', x).label AS "label", fn_m('m', x)::VARCHAR AS "ML_PREDICT(m, x)::VARCHAR", fn_m('m', x) + 1 AS "ML_PREDICT(m, x) + 1", fn_m('m', x)[1] AS "ML_PREDICT(m, x)[1]" FROM t`},
		{"inside another function",
			"SELECT size(ML_PREDICT(m, img)) AS n, len(ML_PREDICT(m, img)) FROM t",
			`SELECT size(fn_m('m', img)) AS n, len(fn_m('m', img)) AS "len(ML_PREDICT(m, img))" FROM t`},
		{"where, group by, having, order by",
			"SELECT a FROM t WHERE ML_PREDICT(m, x) > 0.5 GROUP BY ML_PREDICT(m, x), a HAVING count(*) > ML_PREDICT(m, 1) ORDER BY ML_PREDICT(m, x) DESC, a",
			"SELECT a FROM t WHERE fn_m('m', x) > 0.5 GROUP BY fn_m('m', x), a HAVING count(*) > fn_m('m', 1) ORDER BY fn_m('m', x) DESC, a"},
		{"where with field access",
			"SELECT * FROM t WHERE label != ML_PREDICT(old, image).label",
			"SELECT * FROM t WHERE label != fn_old('old', image).label"},
		{"cte and subquery",
			"WITH p AS (SELECT ML_PREDICT(m, x) FROM t) SELECT * FROM (SELECT ML_PREDICT(n, y) FROM p) WHERE z IN (SELECT ML_PREDICT(m, w) FROM u)",
			`WITH p AS (SELECT fn_m('m', x) AS "m" FROM t) SELECT * FROM (SELECT fn_n('n', y) AS "n" FROM p) WHERE z IN (SELECT fn_m('m', w) AS "m" FROM u)`},
		{"scalar subquery in select list",
			"SELECT (SELECT ML_PREDICT(m, x)), 1",
			`SELECT (SELECT fn_m('m', x) AS "m"), 1`},
		{"ctas",
			"CREATE TABLE r AS SELECT id, ML_PREDICT(m, x) FROM t",
			`CREATE TABLE r AS SELECT id, fn_m('m', x) AS "m" FROM t`},
		{"insert select",
			"INSERT INTO r SELECT ML_PREDICT(m, x) FROM t",
			`INSERT INTO r SELECT fn_m('m', x) AS "m" FROM t`},
		{"insert values",
			"INSERT INTO r VALUES (ML_PREDICT(m, 1), 2)",
			"INSERT INTO r VALUES (fn_m('m', 1), 2)"},
		{"copy",
			"COPY (SELECT ML_PREDICT(m, x) FROM t) TO 'out.parquet' (FORMAT parquet)",
			`COPY (SELECT fn_m('m', x) AS "m" FROM t) TO 'out.parquet' (FORMAT parquet)`},
		{"view",
			"CREATE VIEW v AS SELECT ML_PREDICT(m, x) FROM t",
			`CREATE VIEW v AS SELECT fn_m('m', x) AS "m" FROM t`},
		{"union",
			"SELECT ML_PREDICT(m, x) UNION ALL SELECT ML_PREDICT(n, x) ORDER BY 1",
			`SELECT fn_m('m', x) AS "m" UNION ALL SELECT fn_n('n', x) AS "n" ORDER BY 1`},
		{"nested",
			"SELECT ML_PREDICT(a, ML_PREDICT(b, x)) FROM t",
			`SELECT fn_a('a', fn_b('b', x)) AS "a" FROM t`},
		{"string-literal model",
			"SELECT ML_PREDICT('my model', x), ML_PREDICT('it''s', x) FROM t",
			`SELECT fn_my_model('my model', x) AS "my model", fn_its('it''s', x) AS "it's" FROM t`},
		{"quoted model names",
			"SELECT ML_PREDICT(\"My\"\"M\", x), ML_PREDICT(`bq`, x) FROM t",
			`SELECT fn_MyM('My"M', x) AS "My""M", fn_bq('bq', x) AS "bq" FROM t`},
		{"model name keeps its case",
			"SELECT ML_PREDICT(MyModel, x)",
			`SELECT fn_MyModel('MyModel', x) AS "MyModel"`},
		{"whitespace and comments kept",
			"SELECT /*a*/ ML_PREDICT /*b*/ ( /*c*/ m /*d*/ , x ) -- e\nFROM t",
			"SELECT /*a*/ fn_m /*b*/ ( /*c*/ 'm' /*d*/ , x ) AS \"m\" -- e\nFROM t"},
		{"multi-line",
			"SELECT\n  ML_PREDICT(m,\n    x)\nFROM t",
			"SELECT\n  fn_m('m',\n    x) AS \"m\"\nFROM t"},
		{"is distinct from stays in the select list",
			"SELECT a IS DISTINCT FROM b, ML_PREDICT(m, x) FROM t",
			`SELECT a IS DISTINCT FROM b, fn_m('m', x) AS "m" FROM t`},
		{"within group stays in the select list",
			"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), ML_PREDICT(m, x) FROM t",
			`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), fn_m('m', x) AS "m" FROM t`},
		{"struct and list literals",
			"SELECT {'p': ML_PREDICT(m, x)}, [ML_PREDICT(m, x)]",
			"SELECT {'p': fn_m('m', x)}, [fn_m('m', x)]"},
		{"case expression",
			"SELECT CASE WHEN a THEN ML_PREDICT(m, x) END FROM t",
			`SELECT CASE WHEN a THEN fn_m('m', x) END AS "CASE WHEN a THEN ML_PREDICT(m, x) END" FROM t`},
		{"returning",
			"INSERT INTO r SELECT 1 RETURNING ML_PREDICT(m, 1)",
			`INSERT INTO r SELECT 1 RETURNING fn_m('m', 1) AS "m"`},
		{"absent from strings and comments",
			"SELECT 'ML_PREDICT(m, x)', ML_PREDICT(m, x) -- ML_PREDICT(n, y)\n/* ML_PREDICT(o, z) */",
			"SELECT 'ML_PREDICT(m, x)', fn_m('m', x) AS \"m\" -- ML_PREDICT(n, y)\n/* ML_PREDICT(o, z) */"},
		{"a column named ml_predict is left alone",
			"SELECT ml_predict, t.ml_predict, ML_PREDICT(m, ml_predict) FROM t",
			`SELECT ml_predict, t.ml_predict, fn_m('m', ml_predict) AS "m" FROM t`},
		{"non-ASCII text around",
			"SELECT 'é', ML_PREDICT(m, \"ü\") FROM t",
			"SELECT 'é', fn_m('m', \"ü\") AS \"m\" FROM t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed, err := Rewrite(tt.in, origin, resolver(nil))
			if err != nil {
				t.Fatalf("Rewrite(%q): %v", tt.in, err)
			}
			if out != tt.want || !changed {
				t.Errorf("Rewrite(%q)\n got  %q (changed %v)\n want %q", tt.in, out, changed, tt.want)
			}
		})
	}
}

func TestRewriteUnchanged(t *testing.T) {
	for _, in := range []string{
		"SELECT 1",
		"SELECT ml_predict FROM t",
		"SELECT 'ML_PREDICT(m, x)' -- ml_predict(a, b)",
		"SELECT \"ML_PREDICT\"(m, x)",
		"SELECT x.ml_predict(m)",
		"  select  *\n from   t ;  ",
		"",
	} {
		called := false
		out, changed, err := Rewrite(in, origin, func(string, parser.Pos) (string, error) {
			called = true
			return "f", nil
		})
		if err != nil || changed || out != in || called {
			t.Errorf("Rewrite(%q) = %q, %v, %v (resolver called: %v); want it unchanged", in, out, changed, err, called)
		}
	}
}

func TestRewriteResolverCalls(t *testing.T) {
	var calls []string
	_, _, err := Rewrite("SELECT 1,\n ML_PREDICT(a, ml_predict('b', x))", parser.Pos{Offset: 50, Line: 4, Col: 9}, resolver(&calls))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a@5:2", "b@5:16"}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("resolver calls %v, want %v", calls, want)
	}
}

var errSentinel = errors.New("sentinel")

func TestRewriteErrors(t *testing.T) {
	tests := []struct {
		in    string
		start parser.Pos
		want  string
	}{
		{"SELECT ML_PREDICT(m)", origin, "line 1, column 8: ML_PREDICT(m) needs at least 2 arguments (the model and its input), got 1"},
		{"SELECT ML_PREDICT()", origin, "line 1, column 8: ML_PREDICT needs at least 2 arguments (the model and its input), got 0"},
		{"SELECT ML_PREDICT(f(a, b))", origin, "line 1, column 8: ML_PREDICT needs at least 2 arguments (the model and its input), got 1"},
		{"SELECT ML_PREDICT(m.x, y)", origin, "line 1, column 19: ML_PREDICT: the first argument must name a model (an identifier or a string literal)"},
		{"SELECT ML_PREDICT(f(m), y)", origin, "line 1, column 19: ML_PREDICT: the first argument must name a model (an identifier or a string literal)"},
		{"SELECT ML_PREDICT((SELECT 'm'), y)", origin, "line 1, column 19: ML_PREDICT: the first argument must name a model (an identifier or a string literal)"},
		{"SELECT ML_PREDICT(1, y)", origin, "line 1, column 19: ML_PREDICT: the first argument must name a model (an identifier or a string literal)"},
		{"SELECT ML_PREDICT(E'm', y)", origin, "line 1, column 19: ML_PREDICT: the first argument must name a model (an identifier or a string literal)"},
		{"SELECT ML_PREDICT(, y)", origin, "line 1, column 19: ML_PREDICT: the first argument must name a model (an identifier or a string literal)"},
		{"SELECT ML_PREDICT(m, x", origin, "line 1, column 18: ML_PREDICT: missing ')'"},
		{"SELECT ML_PREDICT(foo, x)", origin, `line 1, column 8: model "missingfoo" does not exist`},
		{"SELECT ML_PREDICT(m, ML_PREDICT(n))", origin, "line 1, column 22: ML_PREDICT(n) needs at least 2 arguments (the model and its input), got 1"},
		{"SELECT 'é',\n  ML_PREDICT(missing, x)", parser.Pos{Offset: 40, Line: 3, Col: 5}, `line 4, column 3: model "missing" does not exist`},
		{"SELECT ML_PREDICT(m, 'x)", origin, "line 1, column 22: unterminated string literal"},
	}
	for _, tt := range tests {
		in := strings.Replace(tt.in, "(foo", "(missingfoo", 1)
		out, changed, err := Rewrite(in, tt.start, resolver(nil))
		if err == nil {
			t.Errorf("Rewrite(%q) = %q, want error %q", in, out, tt.want)
			continue
		}
		var pe *parser.Error
		if !errors.As(err, &pe) {
			t.Errorf("Rewrite(%q) error %T, want *parser.Error", in, err)
		}
		if err.Error() != tt.want || changed || out != "" {
			t.Errorf("Rewrite(%q)\n error %q (out %q, changed %v)\n want  %q", in, err, out, changed, tt.want)
		}
	}
}

func TestRewriteResolverErrors(t *testing.T) {
	own := &parser.Error{Pos: parser.Pos{Line: 9, Col: 9}, Msg: "resolver's own"}
	_, _, err := Rewrite("SELECT ML_PREDICT(m, x)", origin, func(string, parser.Pos) (string, error) { return "", own })
	if err != own {
		t.Errorf("a *parser.Error from the resolver should be returned as is, got %v", err)
	}
	_, _, err = Rewrite("SELECT ML_PREDICT(m, x)", origin, func(string, parser.Pos) (string, error) { return "", errSentinel })
	if !errors.Is(err, errSentinel) || err.Error() != "line 1, column 8: sentinel" {
		t.Errorf("wrapped resolver error = %v; want it to wrap the sentinel with the position", err)
	}
}

// FuzzRewrite checks that Rewrite never panics and that, when nothing is
// rewritten, the text comes back unchanged.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"SELECT ML_PREDICT(m, x) FROM t", "SELECT ML_PREDICT(a, ML_PREDICT(b, x)).f", "ml_predict(", "ML_PREDICT)(",
		"SELECT (ML_PREDICT('m', [1, {a: 2}]))", "select ml_predict(`m`, 1) union select 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		out, changed, err := Rewrite(sql, origin, func(m string, _ parser.Pos) (string, error) { return "f", nil })
		if err == nil && !changed && out != sql {
			t.Fatalf("unchanged but different: %q -> %q", sql, out)
		}
		if changed && !strings.Contains(out, "f") {
			t.Fatalf("changed without the function: %q -> %q", sql, out)
		}
	})
}
