package rewrite

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/types"
)

// ML_EVALUATE(MODEL m, input, 'label') becomes SQL that DuckDB runs, so it
// composes like any subquery: one row of metrics, computed as
// scikit-learn's metrics module computes them.
//
// Classifiers: accuracy; precision, recall and f1 averaged over the union
// of the true and predicted labels (average='macro', zero_division=0);
// log_loss (the model's probabilities clipped to [eps, 1-eps], eps being
// float64's machine epsilon, and renormalised, as scikit-learn 1.2 does);
// roc_auc for two classes (the Mann-Whitney statistic with ties counted
// half, which equals the area under roc_curve). A model that predicts
// classes but gives no probabilities gets NULL log_loss and roc_auc.
// Regressors: mae, mse, rmse, r2 (1 when both sums of squares are 0, 0
// when only the total one is, as r2_score's force_finite; NULL for one
// row, where r2_score gives NaN).
//
// Rows whose label or prediction is NULL are left out. log_loss is NULL
// when a label is not one of the model's classes, roc_auc when the rows
// hold one class only (scikit-learn raises for both).

// eps is numpy's float64 machine epsilon, log_loss's eps="auto".
const eps = "2.220446049250313e-16"

func (r *rewriter) evaluate(c *tableCall, m *Model) (string, error) {
	label, typ, err := r.labelColumn(c)
	if err != nil {
		return "", err
	}
	for _, f := range m.Features {
		if strings.EqualFold(f, label) {
			return "", &parser.Error{Pos: c.labelPos, Msg: fmt.Sprintf("ML_EVALUATE(%s): the label column %s is one of the model's features, which ML_EVALUATE leaves out of its input; name the column the model predicts",
				m.Name, quote(label, '"'))}
		}
	}
	kind := labelKind(typ)
	fail := func(what string) error {
		return &parser.Error{Pos: c.labelPos, Msg: fmt.Sprintf("ML_EVALUATE(%s): the label column %s is %s, but %s", m.Name, quote(label, '"'), typ, what)}
	}
	empty := sqlString(fmt.Sprintf("%s: ML_EVALUATE(%s): the input has no rows with both a label and a prediction", c.fn.Pos, m.Name))
	switch {
	case m.Proba != "" || classResult(m.Result):
		want := classKind(m)
		if want == "" {
			return "", &parser.Error{Pos: c.fn.Pos, Msg: fmt.Sprintf("ML_EVALUATE(%s): the model's classes are %s, which ML_EVALUATE cannot compare with a label column", m.Name, m.Class.SQL())}
		}
		cast := labelCast(kind, want)
		if kind != want && cast == "" {
			return "", fail(fmt.Sprintf("the model predicts %s classes (%s)", want, m.Class.SQL()))
		}
		cont := "false"
		if kind == "numeric" && fractional(typ) && integerKind(classType(m)) {
			// scikit-learn refuses continuous labels for a classifier
			// rather than scoring them as wrong classes.
			cont = "NOT isfinite(y::DOUBLE) OR y::DOUBLE <> trunc(y::DOUBLE)"
		}
		contMsg := sqlString(fmt.Sprintf("%s: ML_EVALUATE(%s): the label column %s holds values that are not whole numbers (fractions, NaN or infinity), but the model predicts integer classes: is it a regressor's target? (scikit-learn: \"Classification metrics can't handle a mix of binary and continuous targets\")",
			c.labelPos, m.Name, quote(label, '"')))
		return classifierSQL(c, m, label, cast, empty, cont, contMsg)
	case numeric(m.Result):
		if kind != "numeric" {
			return "", fail("the model predicts numbers")
		}
		if r.env.Precise != nil && m.Result.Kind == types.Float32 {
			p, err := r.env.Precise(m.Name)
			if err != nil {
				return "", &parser.Error{Pos: c.fn.Pos, Msg: "ML_EVALUATE: " + err.Error(), Err: err}
			}
			mp := *m
			mp.Precise = p
			m = &mp
		}
		notFinite := sqlString(fmt.Sprintf("%s: ML_EVALUATE(%s): the label column %s or the model's predictions hold NaN or infinity, which no metric can take (scikit-learn: \"Input contains NaN\"); leave those rows out with WHERE isfinite(%s)",
			c.labelPos, m.Name, quote(label, '"'), quote(label, '"')))
		return regressorSQL(c, m, label, empty, notFinite), nil
	}
	return "", &parser.Error{Pos: c.fn.Pos, Msg: fmt.Sprintf("ML_EVALUATE(%s): the model returns %s, neither a class nor a number, so there is nothing to compare with a label", m.Name, m.Result.SQL())}
}

// labelColumn finds the label among the input's columns: by its exact
// name, else by the one name that differs only in case.
func (r *rewriter) labelColumn(c *tableCall) (name, typ string, err error) {
	if r.env.Columns == nil {
		return "", "", &parser.Error{Pos: c.fn.Pos, Msg: "ML_EVALUATE is not available here"}
	}
	cols, err := r.env.Columns("SELECT * FROM " + c.input + " AS " + inAlias)
	if err != nil {
		return "", "", &parser.Error{Pos: c.inputPos, Msg: "ML_EVALUATE: the input: " + err.Error(), Err: err}
	}
	var folded []Column
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = quote(col.Name, '"')
		if col.Name == c.label {
			return col.Name, col.Type, nil
		}
		if strings.EqualFold(col.Name, c.label) {
			folded = append(folded, col)
		}
	}
	if len(folded) == 1 {
		return folded[0].Name, folded[0].Type, nil
	}
	list := strings.Join(names[:min(len(names), 20)], ", ")
	if len(names) > 20 {
		list += fmt.Sprintf(" and %d more", len(names)-20)
	}
	return "", "", &parser.Error{Pos: c.labelPos, Msg: fmt.Sprintf("ML_EVALUATE: the input has no column %s; its columns are %s", quote(c.label, '"'), list)}
}

// labelKind sorts a DuckDB column type into what a label may be.
func labelKind(typ string) string {
	t := strings.ToUpper(typ)
	switch {
	case t == "BOOLEAN":
		return "boolean"
	case t == "VARCHAR":
		return "string"
	case strings.HasPrefix(t, "ENUM("):
		return "enum"
	case strings.HasPrefix(t, "DECIMAL"), strings.HasSuffix(t, "INT"), strings.HasSuffix(t, "INTEGER"),
		t == "HUGEINT", t == "UHUGEINT", t == "FLOAT", t == "DOUBLE":
		return "numeric" // TINYINT ... BIGINT, UTINYINT ... UBIGINT too
	}
	return typ
}

// labelCast is the type a label of one kind is cast to for classes of
// another, or "" when they do not compare: an ENUM's values are text,
// and a BOOLEAN label is 0 or 1, as scikit-learn stores the classes of a
// model fitted on booleans (which augur returns as integers).
func labelCast(kind, want string) string {
	switch {
	case kind == "enum" && want == "string":
		return "VARCHAR"
	case kind == "boolean" && want == "numeric":
		return "INTEGER"
	}
	return ""
}

// fractional reports whether a label column's type holds fractions.
func fractional(typ string) bool {
	t := strings.ToUpper(typ)
	return t == "FLOAT" || t == "DOUBLE" || strings.HasPrefix(t, "DECIMAL")
}

// classType is the type of the model's classes as ML_EVALUATE compares
// them: the probabilities' label type, else the result's.
func classType(m *Model) types.Type {
	if m.Proba == "" {
		return m.Result
	}
	return m.Class
}

func integerKind(t types.Type) bool {
	switch t.Kind {
	case types.Int8, types.Int16, types.Int32, types.Int64:
		return true
	}
	return false
}

// classKind is the label kind the model's classes compare with.
func classKind(m *Model) string {
	t := classType(m)
	switch {
	case t.Kind == types.Bool:
		return "boolean"
	case t.Kind == types.String:
		return "string"
	case numeric(t):
		return "numeric"
	}
	return ""
}

func numeric(t types.Type) bool {
	switch t.Kind {
	case types.Int8, types.Int16, types.Int32, types.Int64, types.Float32, types.Float64:
		return true
	}
	return false
}

// classResult is a result that is a class: an integer, a string or a
// boolean (a model without probabilities is evaluated on its classes).
func classResult(t types.Type) bool {
	switch t.Kind {
	case types.Bool, types.String, types.Int8, types.Int16, types.Int32, types.Int64:
		return true
	}
	return false
}

// classList writes the classes as an SQL list literal.
func classList(m *Model) (string, error) {
	parts := make([]string, len(m.Classes))
	for i, c := range m.Classes {
		switch v := c.(type) {
		case string:
			parts[i] = sqlString(v)
		case bool:
			parts[i] = strconv.FormatBool(v)
		case int64:
			parts[i] = strconv.FormatInt(v, 10)
		case int32:
			parts[i] = strconv.FormatInt(int64(v), 10)
		case int:
			parts[i] = strconv.Itoa(v)
		case float64:
			parts[i] = strconv.FormatFloat(v, 'g', -1, 64) + "::DOUBLE"
		case float32:
			parts[i] = strconv.FormatFloat(float64(v), 'g', -1, 32) + "::FLOAT"
		default:
			return "", fmt.Errorf("ML_EVALUATE(%s): class %d is a %T, which ML_EVALUATE cannot write in SQL", m.Name, i, c)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]", nil
}

func sqlString(s string) string { return quote(s, '\'') }

// classifierSQL is the metrics query of a classifier. __augur_s holds the
// rows: y (the label), yhat (the predicted class) and, with
// probabilities, pr (every class's) and yi (the label's 1-based index
// among the classes, NULL when it is not one).
func classifierSQL(c *tableCall, m *Model, label, cast, empty, cont, contMsg string) (string, error) {
	y := inAlias + "." + quote(label, '"')
	if cast != "" {
		y = "CAST(" + y + " AS " + cast + ")"
	}
	args := predictArgs(m, label)
	name := quote(m.Name, '\'')
	var rows, logLoss, rocAUC, extra string
	if m.Proba != "" {
		classes, err := classList(m)
		if err != nil {
			return "", &parser.Error{Pos: c.fn.Pos, Msg: err.Error()}
		}
		clip := "greatest(least(%s, 1 - " + eps + "), " + eps + ")"
		rows = fmt.Sprintf(`__augur_p AS (SELECT %s AS y, %s(%s, %s) AS p FROM %s AS %s),
 __augur_s AS (SELECT y, %s[p."class" + 1] AS yhat, p.probabilities AS pr, list_position(%s, y) AS yi
   FROM __augur_p WHERE y IS NOT NULL AND p IS NOT NULL)`, y, m.Proba, name, args, c.input, inAlias, classes, classes)
		logLoss = fmt.Sprintf(`CASE WHEN bool_or(yi IS NULL) THEN NULL ELSE -avg(ln(%s / list_sum(list_transform(pr, x -> %s)))) END`,
			fmt.Sprintf(clip, "pr[yi]"), fmt.Sprintf(clip, "x"))
		rocAUC = "NULL::DOUBLE"
		if len(m.Classes) == 2 {
			extra = `,
 __augur_r AS (SELECT yi = 2 AS pos, rank() OVER (ORDER BY pr[2])::DOUBLE + (count(*) OVER (PARTITION BY pr[2]) - 1)::DOUBLE / 2 AS rk FROM __augur_s),
 __augur_u AS (SELECT count(*) FILTER (WHERE pos)::DOUBLE AS np, count(*) FILTER (WHERE NOT pos)::DOUBLE AS nn,
   sum(rk) FILTER (WHERE pos) AS sr, bool_or(pos IS NULL) AS unknown FROM __augur_r)`
			rocAUC = "(SELECT CASE WHEN unknown OR np = 0 OR nn = 0 THEN NULL ELSE (sr - np * (np + 1) / 2) / (np * nn) END FROM __augur_u)"
		}
	} else {
		rows = fmt.Sprintf(`__augur_s AS (SELECT * FROM (SELECT %s AS y, %s(%s, %s) AS yhat FROM %s AS %s) WHERE y IS NOT NULL AND yhat IS NOT NULL)`,
			y, m.Predict, name, args, c.input, inAlias)
		logLoss, rocAUC = "NULL::DOUBLE", "NULL::DOUBLE"
	}
	return fmt.Sprintf(`(WITH %s,
 __augur_l AS (SELECT sum(tp) AS tp, sum(pp) AS pp, sum(ap) AS ap FROM (
   SELECT y AS l, (y = yhat)::INTEGER AS tp, 0 AS pp, 1 AS ap FROM __augur_s
   UNION ALL SELECT yhat, 0, 1, 0 FROM __augur_s) GROUP BY l),
 __augur_pl AS (SELECT CASE WHEN pp = 0 THEN 0.0 ELSE tp::DOUBLE / pp END AS pl,
   CASE WHEN ap = 0 THEN 0.0 ELSE tp::DOUBLE / ap END AS rl FROM __augur_l),
 __augur_c AS (SELECT avg(pl) AS pr, avg(rl) AS re,
   avg(CASE WHEN pl + rl = 0 THEN 0.0 ELSE 2 * pl * rl / (pl + rl) END) AS f1 FROM __augur_pl),
 __augur_a AS (SELECT count(*) AS n, avg((y = yhat)::DOUBLE) AS accuracy, %s AS log_loss, bool_or(%s) AS cont FROM __augur_s)%s
SELECT CASE WHEN a.n = 0 THEN error(%s) WHEN a.cont THEN error(%s) ELSE a.accuracy END AS accuracy,
 c.pr::DOUBLE AS "precision", c.re::DOUBLE AS recall, c.f1::DOUBLE AS f1, a.log_loss::DOUBLE AS log_loss, %s::DOUBLE AS roc_auc
FROM __augur_a AS a, __augur_c AS c)`, rows, logLoss, cont, extra, empty, contMsg, rocAUC), nil
}

// regressorSQL is the metrics query of a regressor, on its unrounded
// predictions where the model has them (Model.Precise).
func regressorSQL(c *tableCall, m *Model, label, empty, notFinite string) string {
	y := inAlias + "." + quote(label, '"')
	predict := m.Predict
	if m.Precise != "" {
		predict = m.Precise
	}
	return fmt.Sprintf(`(WITH __augur_s AS (SELECT * FROM (SELECT %s::DOUBLE AS y, %s(%s, %s)::DOUBLE AS yhat FROM %s AS %s)
   WHERE y IS NOT NULL AND yhat IS NOT NULL),
 __augur_a AS (SELECT count(*) AS n, avg(abs(y - yhat)) AS mae, avg((y - yhat) * (y - yhat)) AS mse,
   sum((y - yhat) * (y - yhat)) AS num, avg(y) AS ybar, bool_or(NOT isfinite(y) OR NOT isfinite(yhat)) AS bad FROM __augur_s),
 __augur_d AS (SELECT sum((s.y - a.ybar) * (s.y - a.ybar)) AS den FROM __augur_s AS s, __augur_a AS a)
SELECT CASE WHEN a.n = 0 THEN error(%s) WHEN a.bad THEN error(%s) ELSE a.mae END AS mae, a.mse, sqrt(a.mse) AS rmse,
 CASE WHEN a.n < 2 THEN NULL WHEN d.den = 0 THEN CASE WHEN a.num = 0 THEN 1.0 ELSE 0.0 END ELSE 1 - a.num / d.den END::DOUBLE AS r2
FROM __augur_a AS a, __augur_d AS d)`, y, predict, quote(m.Name, '\''), predictArgs(m, label), c.input, inAlias, empty, notFinite)
}
