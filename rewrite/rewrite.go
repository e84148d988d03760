// Package rewrite turns ML_PREDICT(model, args...) calls in SQL into
// calls of the SQL functions that run the models, so DuckDB can execute
// the query. Everything else in the text is kept byte for byte.
package rewrite

import (
	"fmt"
	"strings"

	"github.com/augurdb/augur/parser"
)

// Resolver maps a model reference to the SQL function that runs it. model
// is the name as written (quotes removed); pos is the position of the
// ML_PREDICT call. The returned fn is an SQL function name that is
// already safe to paste, e.g. "__augur_predict_3f2a".
type Resolver func(model string, pos parser.Pos) (fn string, err error)

// Rewrite returns sql with every ML_PREDICT(model, args...) call replaced
// by fn('model', args...), where fn comes from resolve and 'model' is the
// model name as an SQL string literal. start is the position of sql[0] in
// its script; errors are *parser.Error with absolute positions.
//
// The function name matches case-insensitively as a plain identifier
// followed by '(' (not after '.', so x.ml_predict(...) is left alone).
// The model is a plain, "double-quoted" or `back-quoted` identifier or a
// 'string literal'. Calls nested in the arguments are rewritten too.
//
// An ML_PREDICT call that is a whole item of a SELECT list and has no
// alias gets AS "<model>" after its ')', so the column is named after the
// model as Rikai names it.
//
// changed is false, and out is sql itself, when there is no call.
func Rewrite(sql string, start parser.Pos, resolve Resolver) (out string, changed bool, err error) {
	return RewriteEnv(sql, start, Env{Resolve: resolve})
}

// RewriteEnv is Rewrite with what the table forms need as well (see
// table.go): ML_PREDICT(MODEL m, TABLE t | (subquery)) and
// ML_EVALUATE(MODEL m, TABLE t | (subquery), 'label'). Without
// env.Model, they are refused.
func RewriteEnv(sql string, start parser.Pos, env Env) (out string, changed bool, err error) {
	// Most SQL never mentions ML_PREDICT: skip the lexer for it.
	if !containsFold(sql, "ml_predict") && !containsFold(sql, "ml_evaluate") {
		return sql, false, nil
	}
	toks := parser.Tokens(sql, start)
	if last := toks[len(toks)-1]; last.Kind == parser.Illegal {
		return "", false, &parser.Error{Pos: last.Pos, Msg: last.Err}
	}
	r := &rewriter{sql: sql, base: start.Offset, env: env, toks: toks, match: matchBrackets(toks), inSelect: selectListTokens(toks), named: map[int]bool{}}
	r.items = r.selectItems()
	for i := 0; i < len(toks); i++ {
		if end, ok, err := r.tableForm(i); ok || err != nil {
			if err != nil {
				return "", false, err
			}
			i = end // the call's own rewrite covers its arguments
			continue
		}
		if r.isCall(i) {
			if err := r.call(i, env.Resolve); err != nil {
				return "", false, err
			}
		}
	}
	if len(r.edits) == 0 {
		return sql, false, nil
	}
	return apply(sql, start.Offset, r.edits), true, nil
}

type rewriter struct {
	sql      string // the text rewritten
	base     int    // the offset of sql[0] in its script
	env      Env
	toks     []parser.Token
	match    []int  // index of the matching bracket, -1 if none
	inSelect []bool // token is directly in a SELECT list (same bracket depth)
	edits    []edit
	items    []item       // the items of every SELECT list
	named    map[int]bool // items (by index) that got an alias already
}

// item is one select-list item, toks[first..last].
type item struct{ first, last int }

// edit replaces the absolute byte range [from, to) with text.
type edit struct {
	from, to int
	text     string
}

func (r *rewriter) isCall(i int) bool {
	t := r.toks[i]
	if t.Kind != parser.PlainIdent || !strings.EqualFold(t.Text, "ml_predict") {
		return false
	}
	if i > 0 && isPunct(r.toks[i-1], ".") {
		return false
	}
	return i+1 < len(r.toks) && isPunct(r.toks[i+1], "(")
}

// call rewrites the call whose name is toks[i].
func (r *rewriter) call(i int, resolve Resolver) error {
	name, open := r.toks[i], i+1
	closing := r.match[open]
	if closing < 0 {
		return &parser.Error{Pos: r.toks[open].Pos, Msg: "ML_PREDICT: missing ')'"}
	}
	if n := r.countArgs(open, closing); n < 2 {
		call := "ML_PREDICT"
		if m, ok := modelName(r.toks[open+1]); ok && n == 1 && r.toks[open+2].Pos.Offset == r.toks[closing].Pos.Offset {
			call = fmt.Sprintf("ML_PREDICT(%s)", m) // name the model when the call does
		}
		return &parser.Error{Pos: name.Pos, Msg: fmt.Sprintf("%s needs at least 2 arguments (the model and its input), got %d", call, n)}
	}
	arg := r.toks[open+1]
	model, ok := modelName(arg)
	if !ok || !isPunct(r.toks[open+2], ",") {
		return &parser.Error{Pos: arg.Pos, Msg: "ML_PREDICT: the first argument must name a model (an identifier or a string literal)"}
	}
	if j := r.optionsArg(open, closing); j >= 0 {
		return &parser.Error{Pos: r.toks[j].Pos, Msg: fmt.Sprintf(
			"ML_PREDICT(%s): OPTIONS belong to the model, not to a call: set them with CREATE OR REPLACE MODEL %s OPTIONS (...) USING '...', then call ML_PREDICT(%s, ...) without them",
			model, model, model)}
	}
	fn, err := resolve(model, name.Pos)
	if err != nil {
		if _, ok := err.(*parser.Error); ok {
			return err
		}
		return &parser.Error{Pos: name.Pos, Msg: err.Error(), Err: err}
	}
	r.edits = append(r.edits,
		edit{name.Pos.Offset, name.End, fn},
		edit{arg.Pos.Offset, arg.End, quote(model, '\'')})
	if closing+2 < len(r.toks) && isPunct(r.toks[closing+1], ".") && r.toks[closing+2].Text == "*" {
		// ML_PREDICT(m, x).*: DuckDB expands a struct returned by a
		// function with unnest, and refuses f(x).* as a syntax error.
		r.edits = append(r.edits,
			edit{name.Pos.Offset, name.Pos.Offset, "unnest("},
			edit{r.toks[closing+1].Pos.Offset, r.toks[closing+2].End, ")"})
	}
	if r.wholeSelectItem(i, closing) {
		end := r.toks[closing].End
		r.edits = append(r.edits, edit{end, end, " AS " + quote(model, '"')})
		for n, it := range r.items {
			if it.first == i {
				r.named[n] = true // calls nested in this one add no alias
			}
		}
		return nil
	}
	r.nameItem(i)
	return nil
}

// nameItem gives the unaliased select item around a call that is not the
// whole item a readable column name: the field name for
// ML_PREDICT(m, x).label (as DuckDB names field access), else the item
// as written, instead of DuckDB's spelling of the rewritten call.
func (r *rewriter) nameItem(i int) {
	for n, it := range r.items {
		if i < it.first || i > it.last || r.named[n] || r.hasAlias(it) {
			continue
		}
		r.named[n] = true
		if r.toks[it.last].Text == "*" {
			// ML_PREDICT(m, x).* expands to the struct's fields, which
			// name themselves; DuckDB refuses an alias there.
			return
		}
		name := r.itemText(it)
		if fields := r.fieldAccess(it); fields != "" {
			name = fields
		}
		end := r.toks[it.last].End
		r.edits = append(r.edits, edit{end, end, " AS " + quote(name, '"')})
		return
	}
}

// fieldAccess returns f when the item is ML_PREDICT(...).a...f.
func (r *rewriter) fieldAccess(it item) string {
	open := it.first + 1
	if !r.isCall(it.first) || r.match[open] < 0 {
		return ""
	}
	j := r.match[open] + 1
	if j > it.last {
		return ""
	}
	for ; j+1 <= it.last; j += 2 {
		if !isPunct(r.toks[j], ".") || r.toks[j+1].Kind != parser.PlainIdent {
			return ""
		}
	}
	if j != it.last+1 {
		return ""
	}
	return r.toks[it.last].Text
}

// hasAlias reports whether an item ends in an alias, explicit (AS name)
// or implicit (an expression followed by a name). When unsure it says
// yes: a missing column name is better than a doubled alias.
func (r *rewriter) hasAlias(it item) bool {
	if it.last == it.first {
		return false
	}
	last, prev := r.toks[it.last], r.toks[it.last-1]
	if last.Kind != parser.PlainIdent && last.Kind != parser.QuotedIdent && last.Kind != parser.String {
		return false
	}
	if isPunct(prev, ".") || isPunct(prev, "::") {
		return false
	}
	// DuckDB reserves these, so they end an expression, never name it:
	// x IS NULL, CASE ... END, x = TRUE; and a word after an operator
	// keyword is its operand (x IS NOT y, a AND b)
	if isKw(last, "NULL", "TRUE", "FALSE", "END") || isKw(prev, operatorKeywords...) {
		return false
	}
	return true
}

// operatorKeywords take an operand after them, so the word that follows
// one is part of the expression, not an implicit alias.
var operatorKeywords = []string{"IS", "NOT", "AND", "OR", "LIKE", "ILIKE", "GLOB", "SIMILAR", "IN",
	"BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "COLLATE", "AT", "ZONE", "ESCAPE"}

// itemText is the item's source text with runs of white space collapsed.
func (r *rewriter) itemText(it item) string {
	var b strings.Builder
	for j := it.first; j <= it.last; j++ {
		t := r.toks[j]
		if j > it.first && t.Pos.Offset > r.toks[j-1].End {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

// selectItems splits every SELECT list into its items.
func (r *rewriter) selectItems() []item {
	var items []item
	for i := 1; i < len(r.toks); i++ {
		prev := r.toks[i-1]
		starts := r.inSelect[i] && (isKw(prev, "SELECT", "DISTINCT", "ALL") || (isPunct(prev, ",") && r.inSelect[i-1]))
		if !starts || isKw(r.toks[i], "ON", "DISTINCT", "ALL") {
			continue
		}
		j := i
		for {
			if r.match[j] > j { // a bracketed part: jump to its end
				j = r.match[j]
			}
			k := j + 1
			if k >= len(r.toks) {
				break
			}
			next := r.toks[k]
			if next.Kind == parser.EOF || isPunct(next, ",") || isPunct(next, ";") {
				break
			}
			if r.match[k] > k { // an opening bracket continues the item
				j = k
				continue
			}
			if !r.inSelect[k] { // a clause keyword, or the enclosing ')'
				break
			}
			j = k
		}
		items = append(items, item{i, j})
		i = j
	}
	return items
}

// optionsArg is the token of an argument written OPTIONS (...), as in
// CREATE MODEL, or -1: DuckDB would call it a missing function.
func (r *rewriter) optionsArg(open, closing int) int {
	for j := open + 1; j+1 < closing; j++ {
		if r.match[j] > j {
			j = r.match[j]
			continue
		}
		if isKw(r.toks[j], "OPTIONS") && isPunct(r.toks[j+1], "(") && isPunct(r.toks[j-1], ",") {
			return j
		}
	}
	return -1
}

// countArgs counts the comma-separated arguments between the brackets at
// open and closing: 0 for (), otherwise top-level commas + 1.
func (r *rewriter) countArgs(open, closing int) int {
	if closing == open+1 {
		return 0
	}
	n := 1
	for j := open + 1; j < closing; j++ {
		if r.match[j] > j { // skip a nested bracket pair
			j = r.match[j]
			continue
		}
		if isPunct(r.toks[j], ",") {
			n++
		}
	}
	return n
}

// modelName returns the model named by a first argument.
func modelName(t parser.Token) (string, bool) {
	switch t.Kind {
	case parser.PlainIdent:
		return t.Text, true
	case parser.QuotedIdent, parser.BackquotedIdent, parser.String:
		q := t.Text[:1]
		if q != `"` && q != "`" && q != "'" { // E'...' and the like
			return "", false
		}
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], q+q, q), true
	}
	return "", false
}

// quote writes s between q quotes, doubling q inside.
func quote(s string, q byte) string {
	qs := string(q)
	return qs + strings.ReplaceAll(s, qs, qs+qs) + qs
}

// wholeSelectItem reports whether the call from toks[i] to toks[closing]
// is a whole, unaliased item of a SELECT list.
func (r *rewriter) wholeSelectItem(i, closing int) bool {
	if !r.inSelect[i] || i == 0 {
		return false
	}
	prev := r.toks[i-1]
	if !isPunct(prev, ",") && !isKw(prev, "SELECT", "DISTINCT", "ALL", "RETURNING") {
		return false
	}
	next := r.toks[closing+1] // the token list ends with EOF
	switch {
	case next.Kind == parser.EOF, isPunct(next, ","), isPunct(next, ")"), isPunct(next, ";"):
		return true
	}
	return isKw(next, itemEnders...)
}

// itemEnders are the keywords that may follow the last item of a SELECT
// list; they also end the list (at its own depth).
var itemEnders = []string{"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET",
	"QUALIFY", "WINDOW", "UNION", "EXCEPT", "INTERSECT", "INTO"}

// selectListTokens marks the tokens that stand directly (at the same
// bracket depth) in a SELECT list or RETURNING list. It keeps, per
// bracket depth, whether the current clause is such a list: SELECT and
// RETURNING open one, the clause keywords after a list close it, and a
// bracket starts a fresh depth that is in no list until its own SELECT.
func selectListTokens(toks []parser.Token) []bool {
	in := make([]bool, len(toks))
	stack := []bool{false}
	for i, t := range toks {
		top := len(stack) - 1
		switch {
		case isPunct(t, "(") || isPunct(t, "[") || isPunct(t, "{"):
			stack = append(stack, false)
			continue
		case isPunct(t, ")") || isPunct(t, "]") || isPunct(t, "}"):
			if top > 0 {
				stack = stack[:top]
			}
			continue
		case isPunct(t, ";"):
			stack[top] = false
		case isKw(t, "SELECT", "RETURNING"):
			stack[top] = true
			continue
		case isKw(t, itemEnders...) && !partOfExpression(toks, i):
			stack[top] = false
		}
		in[i] = stack[top]
	}
	return in
}

// partOfExpression recognises the clause keywords that can occur inside a
// select-list expression at the same depth: IS [NOT] DISTINCT FROM and
// WITHIN GROUP (...).
func partOfExpression(toks []parser.Token, i int) bool {
	t := toks[i]
	switch {
	case isKw(t, "FROM"):
		return i >= 2 && isKw(toks[i-1], "DISTINCT") && isKw(toks[i-2], "IS", "NOT")
	case isKw(t, "GROUP"):
		return i >= 1 && isKw(toks[i-1], "WITHIN")
	}
	return false
}

// matchBrackets pairs ( [ { with their closing brackets.
func matchBrackets(toks []parser.Token) []int {
	match := make([]int, len(toks))
	var open []int
	for i, t := range toks {
		match[i] = -1
		if t.Kind != parser.Punct {
			continue
		}
		switch t.Text {
		case "(", "[", "{":
			open = append(open, i)
		case ")", "]", "}":
			if n := len(open); n > 0 {
				match[open[n-1]], match[i] = i, open[n-1]
				open = open[:n-1]
			}
		}
	}
	return match
}

func isPunct(t parser.Token, s string) bool { return t.Kind == parser.Punct && t.Text == s }

func isKw(t parser.Token, kws ...string) bool {
	if t.Kind != parser.PlainIdent {
		return false
	}
	for _, kw := range kws {
		if strings.EqualFold(t.Text, kw) {
			return true
		}
	}
	return false
}

// apply performs the edits (absolute offsets; base is the offset of
// sql[0]). Edits never overlap; an insertion sorts before a replacement
// at the same offset.
func apply(sql string, base int, edits []edit) string {
	sortEdits(edits)
	var b strings.Builder
	b.Grow(len(sql) + 32*len(edits))
	at := 0
	for _, e := range edits {
		b.WriteString(sql[at : e.from-base])
		b.WriteString(e.text)
		at = e.to - base
	}
	b.WriteString(sql[at:])
	return b.String()
}

func sortEdits(edits []edit) {
	// Insertion sort: there are a handful of edits, mostly in order.
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && less(edits[j], edits[j-1]); j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
}

func less(a, b edit) bool {
	if a.from != b.from {
		return a.from < b.from
	}
	return a.to-a.from < b.to-b.from
}

// containsFold reports whether s contains the lower-case ASCII word w in
// any case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}
