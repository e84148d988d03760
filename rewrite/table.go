package rewrite

import (
	"fmt"
	"strings"

	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/types"
)

// The table forms, as BigQuery ML writes them, stand in a FROM clause:
//
//	ML_PREDICT(MODEL m, TABLE t)          ML_PREDICT(MODEL m, (SELECT ...))
//	ML_EVALUATE(MODEL m, TABLE t, 'y')    ML_EVALUATE(MODEL m, (SELECT ...), 'y')
//
// Each becomes a subquery that DuckDB runs: ML_PREDICT's selects the
// input's columns followed by the prediction (a STRUCT result unpacked
// into its fields); ML_EVALUATE's computes the metrics in one row (see
// evaluate.go).

// Env is what the rewriter asks the engine. Resolve serves the
// ML_PREDICT(m, args) calls; Model and Columns the table forms, which are
// refused without them.
type Env struct {
	Resolve Resolver
	// Model describes a model; pos is the position of the call.
	Model func(name string, pos parser.Pos) (*Model, error)
	// Columns returns the columns of the result of a query (SQL text),
	// for ML_EVALUATE's label column.
	Columns func(query string) ([]Column, error)
	// Precise names the function that returns a regressor's predictions
	// unrounded where Model's Predict rounds them to FLOAT, or ""; only
	// ML_EVALUATE asks (it may load the model again). Nil: never.
	Precise func(name string) (string, error)
}

// Model is what the table forms need to know about a model.
type Model struct {
	Name    string     // the name as written
	Predict string     // the function that runs it (as Resolve returns it)
	Result  types.Type // what Predict returns
	// Named is true when the model knows its features' names (Features):
	// it then takes the input's row as a STRUCT, by name; otherwise every
	// input column (but ML_EVALUATE's label), in order.
	Named    bool
	Features []string
	// Proba is the function that returns, for a classifier with class
	// probabilities, STRUCT("class" INTEGER, probabilities DOUBLE[]): the
	// index of the predicted class in Classes and every class's
	// probability; "" for other models.
	Proba   string
	Classes []any      // the class values in the model's order
	Class   types.Type // their type
	// Precise is the function that returns a regressor's predictions
	// in double precision where Predict rounds them (FLOAT), for
	// ML_EVALUATE (Env.Precise); "" where Predict's are the model's own.
	Precise string
}

// Column is a column of a query's result, its type as DuckDB spells it.
type Column struct{ Name, Type string }

// inAlias names the input relation (and its row) inside the rewritten
// subqueries; nothing a user writes is likely to collide with it.
const inAlias = "__augur_in"

// tableCall is a parsed table form.
type tableCall struct {
	fn       parser.Token // ML_PREDICT or ML_EVALUATE
	model    string
	input    string // SQL that is a relation: a table name or (subquery)
	inputPos parser.Pos
	label    string // ML_EVALUATE's label column
	labelPos parser.Pos
}

// tableForm rewrites the table form whose name is toks[i], if it is one;
// end is the index of its closing bracket.
func (r *rewriter) tableForm(i int) (end int, ok bool, err error) {
	t := r.toks[i]
	if t.Kind != parser.PlainIdent || i+1 >= len(r.toks) || !isPunct(r.toks[i+1], "(") || (i > 0 && isPunct(r.toks[i-1], ".")) {
		return 0, false, nil
	}
	evaluate := strings.EqualFold(t.Text, "ml_evaluate")
	if !evaluate && !strings.EqualFold(t.Text, "ml_predict") {
		return 0, false, nil
	}
	open := i + 1
	closing := r.match[open]
	if closing < 0 {
		return 0, false, &parser.Error{Pos: r.toks[open].Pos, Msg: strings.ToUpper(t.Text) + ": missing ')'"}
	}
	if !isKw(r.toks[open+1], "MODEL") || isPunct(r.toks[open+2], ",") || isPunct(r.toks[open+2], ")") {
		if evaluate {
			return 0, false, &parser.Error{Pos: t.Pos, Msg: evaluateUsage}
		}
		return 0, false, nil // ML_PREDICT(m, args): the scalar form
	}
	if r.inSelect[i] {
		return 0, false, &parser.Error{Pos: t.Pos, Msg: fmt.Sprintf("%s(MODEL ...) returns a table: use it in a FROM clause (SELECT * FROM %s(MODEL ...))", strings.ToUpper(t.Text), strings.ToUpper(t.Text))}
	}
	c, err := r.parseTableCall(i, open, closing, evaluate)
	if err != nil {
		return 0, false, err
	}
	if r.env.Model == nil {
		return 0, false, &parser.Error{Pos: t.Pos, Msg: strings.ToUpper(t.Text) + "(MODEL ...) is not available here"}
	}
	m, err := r.env.Model(c.model, t.Pos)
	if err != nil {
		if _, ok := err.(*parser.Error); ok {
			return 0, false, err
		}
		return 0, false, &parser.Error{Pos: t.Pos, Msg: err.Error(), Err: err}
	}
	var text string
	if evaluate {
		text, err = r.evaluate(c, m)
	} else {
		text = predictTable(c, m)
	}
	if err != nil {
		return 0, false, err
	}
	r.edits = append(r.edits, edit{t.Pos.Offset, r.toks[closing].End, text})
	return closing, true, nil
}

const (
	predictUsage  = "ML_PREDICT(MODEL m, TABLE t) or ML_PREDICT(MODEL m, (SELECT ...))"
	evaluateUsage = "ML_EVALUATE takes (MODEL m, TABLE t, 'label_column') or (MODEL m, (SELECT ...), 'label_column')"
)

// parseTableCall reads MODEL m, the input and, for ML_EVALUATE, the label.
func (r *rewriter) parseTableCall(i, open, closing int, evaluate bool) (*tableCall, error) {
	usage := predictUsage
	if evaluate {
		usage = evaluateUsage
	}
	bad := func(t parser.Token, what string) error {
		return &parser.Error{Pos: t.Pos, Msg: fmt.Sprintf("%s: %s; %s", strings.ToUpper(r.toks[i].Text), what, usage)}
	}
	c := &tableCall{fn: r.toks[i]}
	name, ok := modelName(r.toks[open+2])
	if !ok {
		return nil, bad(r.toks[open+2], "expected the model's name after MODEL")
	}
	c.model = name
	k := open + 3
	if !isPunct(r.toks[k], ",") {
		return nil, bad(r.toks[k], "expected ',' and the input after the model")
	}
	k++
	c.inputPos = r.toks[k].Pos
	switch {
	case isKw(r.toks[k], "TABLE"):
		j := k + 1
		for ; j < closing && !isPunct(r.toks[j], ","); j++ {
			want := (j-k)%2 == 1 // a name, then '.', then a name ...
			isName := r.toks[j].Kind == parser.PlainIdent || r.toks[j].Kind == parser.QuotedIdent
			if want != isName || (!want && !isPunct(r.toks[j], ".")) {
				return nil, bad(r.toks[j], "expected a table name after TABLE")
			}
		}
		if j == k+1 || (j-k)%2 != 0 {
			return nil, bad(r.toks[j], "expected a table name after TABLE")
		}
		c.input = r.text(k+1, j-1)
		k = j
	case isPunct(r.toks[k], "("):
		end := r.match[k]
		sub := r.toks[k+1]
		inner, _, err := RewriteEnv(r.text(k+1, end-1), sub.Pos, r.env)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(inner) == "" {
			return nil, bad(r.toks[k], "the subquery is empty")
		}
		c.input = "(" + inner + ")"
		k = end + 1
	default:
		return nil, bad(r.toks[k], "expected TABLE name or a (subquery) as the input")
	}
	if evaluate {
		if !isPunct(r.toks[k], ",") {
			return nil, bad(r.toks[k], "expected ',' and the label column after the input")
		}
		k++
		label, ok := modelName(r.toks[k])
		if !ok {
			return nil, bad(r.toks[k], "expected the label column's name")
		}
		c.label, c.labelPos = label, r.toks[k].Pos
		k++
	}
	if k != closing {
		return nil, bad(r.toks[k], "unexpected "+describeToken(r.toks[k]))
	}
	return c, nil
}

func describeToken(t parser.Token) string {
	if t.Kind == parser.EOF {
		return "end of the statement"
	}
	return fmt.Sprintf("%q", t.Text)
}

// text is the source text from toks[from] to toks[to], inclusive ("" when
// to < from).
func (r *rewriter) text(from, to int) string {
	if to < from {
		return ""
	}
	return r.sql[r.toks[from].Pos.Offset-r.base : r.toks[to].End-r.base]
}

// predictArgs is how the input reaches the model: its row, by name, or
// its columns in order (but except, the label column).
func predictArgs(m *Model, except string) string {
	switch {
	case m.Named && except == "":
		return inAlias
	case m.Named:
		return "struct_pack(*COLUMNS(* EXCLUDE (" + quote(except, '"') + ")))"
	case except == "":
		return "*COLUMNS(*)"
	}
	return "*COLUMNS(* EXCLUDE (" + quote(except, '"') + "))"
}

// predictTable is the subquery of ML_PREDICT(MODEL m, input): the input's
// columns, then the prediction's fields (a STRUCT) or the prediction as
// one column named after the model (as ML_PREDICT(m, ...) in a SELECT
// list is). A field named like an input column gets DuckDB's suffix
// (label_1).
func predictTable(c *tableCall, m *Model) string {
	call := fmt.Sprintf("%s(%s, %s)", m.Predict, quote(m.Name, '\''), predictArgs(m, ""))
	pred := call + " AS " + quote(m.Name, '"')
	if m.Result.Kind == types.Struct {
		pred = "unnest(" + call + ")"
	}
	return fmt.Sprintf("(SELECT %s.*, %s FROM %s AS %s)", inAlias, pred, c.input, inAlias)
}
