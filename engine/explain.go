package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/augurdb/augur/parser"
)

// EXPLAIN and EXPLAIN ANALYZE of a query that calls ML_PREDICT: DuckDB
// plans the rewritten SQL, so its plans name the internal predict
// functions (__augur_predict_xxxx('model', ...)); here they are mapped
// back to ML_PREDICT(model, ...), and EXPLAIN ANALYZE gets one more row
// (explain_key 'ml_predict') with each model's rows, batches and time
// split in that query.

// explainKind reports whether a statement is an EXPLAIN, and whether it
// runs the query (EXPLAIN ANALYZE, EXPLAIN (ANALYZE, ...)).
func explainKind(text string) (explain, analyze bool) {
	if !containsWordFold(text, "explain") {
		return false, false
	}
	toks := parser.Tokens(text, parser.Pos{})
	if len(toks) < 2 || !isWord(toks[0], "EXPLAIN") {
		return false, false
	}
	switch t := toks[1]; {
	case isWord(t, "ANALYZE"), isWord(t, "ANALYSE"):
		return true, true
	case t.Kind == parser.Punct && t.Text == "(":
		for _, t := range toks[2:] {
			if t.Kind == parser.Punct && t.Text == ")" {
				break
			}
			if isWord(t, "ANALYZE") || isWord(t, "ANALYSE") {
				return true, true
			}
		}
	}
	return true, false
}

func isWord(t parser.Token, w string) bool {
	return t.Kind == parser.PlainIdent && strings.EqualFold(t.Text, w)
}

func containsWordFold(s, w string) bool {
	return strings.Contains(strings.ToLower(s), w)
}

// queryRewritten runs sql, the rewriting of the statement text: an
// EXPLAIN's plans name the models, the rest goes through as it is.
func (c *Conn) queryRewritten(ctx context.Context, text, sql string, args []driver.NamedValue) (driver.Rows, error) {
	explain, analyze := explainKind(text)
	if !explain {
		return c.query(ctx, sql, args)
	}
	var qs *QueryStats
	if analyze {
		ctx, qs = TrackQuery(ctx)
	}
	r, err := c.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	pr, err := readPlan(r, func(s string) string { return readablePlan(s, text, sql) })
	if err != nil {
		return nil, err
	}
	if len(pr.cols) == 2 {
		if qs != nil {
			pr.rows = append(pr.rows, []driver.Value{"ml_predict", predictSummary(qs.Models())})
		} else if names := calledModels(sql); len(names) > 0 {
			pr.rows = append(pr.rows, []driver.Value{"ml_predict", c.modelsSummary(names)})
		}
	}
	return pr, nil
}

// calledModels lists the models sql's predict calls name, in order of
// first call: a plain EXPLAIN names them even where DuckDB's plan shows
// only an alias (SELECT ML_PREDICT(m, ...) AS p).
func calledModels(sql string) []string {
	var names []string
	for i := 0; ; {
		j := strings.Index(sql[i:], predictPrefix)
		if j < 0 {
			return names
		}
		end, name, ok := matchCall(sql, i+j, false)
		if !ok {
			i += j + len(predictPrefix)
			continue
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		i = end
	}
}

// modelsSummary is a plain EXPLAIN's ml_predict row: the models the
// statement predicts with, and how each is registered.
func (c *Conn) modelsSummary(names []string) string {
	var b strings.Builder
	b.WriteString("ML_PREDICT models\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %s", n)
		if ent, ok := c.e.cat.Get(strings.Trim(n, `"`)); ok {
			fmt.Fprintf(&b, ": flavor %s, model type %s", orNone(ent.Flavor), orNone(ent.ModelType))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// planRows is an EXPLAIN result, read whole (a plan is small) so that
// its text can be mapped.
type planRows struct {
	cols  []string
	types []string // DuckDB's type names
	rows  [][]driver.Value
	next  int
}

// readPlan reads r to its end, mapping its text values with m.
func readPlan(r driver.Rows, m func(string) string) (*planRows, error) {
	defer r.Close()
	pr := &planRows{cols: r.Columns()}
	pr.types = make([]string, len(pr.cols))
	if t, ok := r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		for i := range pr.cols {
			pr.types[i] = t.ColumnTypeDatabaseTypeName(i)
		}
	}
	for {
		row := make([]driver.Value, len(pr.cols))
		if err := r.Next(row); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		for i, v := range row {
			if s, ok := v.(string); ok {
				row[i] = m(s)
			}
		}
		pr.rows = append(pr.rows, row)
	}
	return pr, nil
}

func (p *planRows) Columns() []string { return p.cols }
func (p *planRows) Close() error      { return nil }
func (p *planRows) Next(dest []driver.Value) error {
	if p.next >= len(p.rows) {
		return io.EOF
	}
	copy(dest, p.rows[p.next])
	p.next++
	return nil
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (p *planRows) ColumnTypeDatabaseTypeName(i int) string { return p.types[i] }

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (p *planRows) ColumnTypeScanType(i int) reflect.Type {
	if p.types[i] == "VARCHAR" {
		return reflect.TypeFor[string]()
	}
	return reflect.TypeFor[any]()
}

// predictSummary is the text of EXPLAIN ANALYZE's ml_predict row: per
// model, what this query (and only it) predicted and where the time went.
func predictSummary(models []ModelStats) string {
	var b strings.Builder
	b.WriteString("ML_PREDICT (this query)\n")
	if len(models) == 0 {
		b.WriteString("  no rows reached a model\n")
	}
	for _, m := range models {
		fmt.Fprintf(&b, "  %s: %d rows, %d batches, %d calls, %s in batches", m.Model, m.Rows, m.Batches, m.Calls, fmtMs(m.Total))
		if m.Pre+m.Run+m.Post > 0 {
			fmt.Fprintf(&b, " (pre-processing %s, runtime %s, post-processing %s)", fmtMs(m.Pre), fmtMs(m.Run), fmtMs(m.Post))
		} else {
			b.WriteString(" (the flavor does not split its time)")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func fmtMs(d time.Duration) string { return fmt.Sprintf("%.3f ms", ms(d)) }

// readablePlan maps a plan's text back to the statement as written: the
// rewritten statement (EXPLAIN ANALYZE prints it) becomes the original,
// and every call of a predict function ML_PREDICT(model, ...), also where
// DuckDB's boxes wrapped it over several lines.
func readablePlan(plan, text, sql string) string {
	if sql != text && sql != "" {
		plan = strings.ReplaceAll(plan, sql, text)
	}
	if !strings.Contains(plan, "__") {
		return plan
	}
	return unwrapBoxes(mapCalls(plan))
}

// mapCalls replaces the predict calls written on one line.
func mapCalls(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, predictPrefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end, name, ok := matchCall(s, i, false)
		if !ok {
			b.WriteString(s[:i+len(predictPrefix)])
			s = s[i+len(predictPrefix):]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString("ML_PREDICT(" + name)
		s = s[end:]
	}
}

// matchCall matches predictPrefix, the hash, '(' and the model's string
// literal at s[i:]; with wrapped, a '\n' (a line break of DuckDB's box)
// may come between any two of its characters. It returns the end of the
// literal and the model's name.
func matchCall(s string, i int, wrapped bool) (end int, name string, ok bool) {
	j := i
	// next returns the next character, skipping line breaks.
	next := func() (byte, bool) {
		for wrapped && j < len(s) && s[j] == '\n' {
			j++
		}
		if j >= len(s) {
			return 0, false
		}
		j++
		return s[j-1], true
	}
	for k := 0; k < len(predictPrefix); k++ {
		if c, ok := next(); !ok || c != predictPrefix[k] {
			return 0, "", false
		}
	}
	hash := 0
	for {
		c, ok := next()
		if !ok {
			return 0, "", false
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' {
			hash++
			continue
		}
		if c != '(' || hash == 0 {
			return 0, "", false
		}
		break
	}
	if c, ok := next(); !ok || c != '\'' {
		return 0, "", false
	}
	var n strings.Builder
	for {
		c, ok := next()
		if !ok {
			return 0, "", false
		}
		if c == '\'' {
			save := j
			if c2, ok := next(); ok && c2 == '\'' {
				n.WriteByte('\'')
				continue
			}
			j = save
			return j, modelIdent(n.String()), true
		}
		n.WriteByte(c)
	}
}

// modelIdent writes a model name as ML_PREDICT takes it: as it is when
// it is a plain identifier (CREATE MODEL allows no other), else quoted.
func modelIdent(name string) string {
	plain := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
		}
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// DuckDB draws a plan as boxes node_render_width (29) characters wide,
// side by side, with their text centred and long expressions split over
// several lines (TextTreeRenderer: SplitStringBuffer,
// AdjustTextForRendering). A predict function's name alone is wider than
// a box, so its calls are always split; unwrapBoxes joins the lines of
// each call, replaces it and splits the result as DuckDB would.
const (
	boxWidth = 29
	boxInner = boxWidth - 2
)

func unwrapBoxes(plan string) string {
	if !strings.Contains(plan, "│") {
		return plan
	}
	lines := strings.Split(plan, "\n")
	rs := make([][]rune, len(lines))
	cols := 0
	for i, l := range lines {
		rs[i] = []rune(l)
		cols = max(cols, len(rs[i])/boxWidth)
	}
	emptied := make([]bool, len(rs))
	changed := false
	for col := range cols {
		for i := 0; i < len(rs); {
			if !bodyCell(rs[i], col) {
				i++
				continue
			}
			j := i
			for j < len(rs) && bodyCell(rs[j], col) {
				j++
			}
			if fixBox(rs[i:j], emptied[i:j], col) {
				changed = true
			}
			i = j
		}
	}
	if !changed {
		return plan
	}
	out := make([]string, 0, len(rs))
	for i, r := range rs {
		if emptied[i] && blankLine(r) {
			continue // a line the shorter text no longer needs
		}
		out = append(out, string(r))
	}
	return strings.Join(out, "\n")
}

// bodyCell reports whether cell col of a line is the inside of a box.
func bodyCell(r []rune, col int) bool {
	a, b := col*boxWidth, col*boxWidth+boxWidth-1
	return b < len(r) && r[a] == '│' && r[b] == '│'
}

// blankLine reports whether a line is only empty box insides and spaces.
func blankLine(r []rune) bool {
	if len(r)%boxWidth != 0 {
		return false
	}
	for col := 0; col*boxWidth < len(r); col++ {
		cell := string(r[col*boxWidth : (col+1)*boxWidth])
		if strings.TrimSpace(cell) != "" && !(bodyCell(r, col) && strings.TrimSpace(cell[len("│"):len(cell)-len("│")]) == "") {
			return false
		}
	}
	return true
}

// fixBox maps the predict calls of one box column, cell col of lines;
// lines it no longer needs are blanked and marked in emptied.
func fixBox(lines [][]rune, emptied []bool, col int) bool {
	a := col*boxWidth + 1
	type para struct {
		text  string
		lines []int // the box lines it was drawn on
		fixed bool
	}
	t := make([]string, len(lines))
	for k, l := range lines {
		t[k] = strings.Trim(string(l[a:a+boxInner]), " ")
	}
	// First the expressions DuckDB split over several lines, rejoined
	// where the split is the one DuckDB makes (wrapped); those with a
	// call are mapped whole. Then, should a call remain split (two
	// expressions mistaken for one line each), its own lines are joined.
	var ps []para
	changed := false
	for k := 0; k < len(t); k++ {
		g := para{text: t[k], lines: []int{k}}
		for k+1 < len(t) && text(t[k]) && text(t[k+1]) {
			sep, ok := wrapped(t[k], string(lines[k][a:a+boxInner]), t[k+1], string(lines[k+1][a:a+boxInner]))
			if !ok {
				break
			}
			g.text += sep + t[k+1]
			g.lines = append(g.lines, k+1)
			k++
		}
		if !strings.Contains(g.text, predictPrefix) {
			for _, n := range g.lines {
				ps = append(ps, para{text: t[n], lines: []int{n}})
			}
			continue
		}
		if m := mapCalls(g.text); m != g.text {
			g.text, g.fixed, changed = m, true, true
		}
		ps = append(ps, g)
	}
	for p := 0; p < len(ps); p++ {
		// join this line with the following ones, marking the breaks
		var joined strings.Builder
		starts := make([]int, 0, len(ps)-p)
		for q := p; q < len(ps); q++ {
			starts = append(starts, joined.Len())
			joined.WriteString(ps[q].text)
			joined.WriteByte('\n')
		}
		s := joined.String()
		found := false
		for i := 0; i < len(ps[p].text) && !found; i++ {
			if s[i] != '_' {
				continue
			}
			end, name, ok := matchCall(s, i, true)
			if !ok {
				continue
			}
			last := p // the line the call ends on
			for last+1-p < len(starts) && starts[last+1-p] < end {
				last++
			}
			merged := para{
				text:  ps[p].text[:i] + "ML_PREDICT(" + name + s[end:starts[last-p]+len(ps[last].text)],
				fixed: true,
			}
			for q := p; q <= last; q++ {
				merged.lines = append(merged.lines, ps[q].lines...)
			}
			ps = append(ps[:p], append([]para{merged}, ps[last+1:]...)...)
			found = true
		}
		if found {
			changed = true
			p-- // the merged line may hold another call
		}
	}
	if !changed {
		return false
	}
	for _, p := range ps {
		if !p.fixed {
			continue
		}
		pieces := splitPlanText(p.text, boxInner)
		if len(pieces) > len(p.lines) {
			pieces = []string{p.text} // cannot happen: the text only got shorter
		}
		for n, k := range p.lines {
			text := ""
			if n < len(pieces) {
				text = pieces[n]
			} else {
				emptied[k] = true
			}
			cell := []rune(centre(text, boxInner))
			if len(cell) != boxInner {
				return changed // wider than a box: leave the rest
			}
			copy(lines[k][a:a+boxInner], cell)
		}
	}
	return changed
}

// text reports whether a box line can be part of an expression: not
// empty, not the rule under the operator's name.
func text(line string) bool { return line != "" && !strings.Contains(line, "─") }

// wrapped reports whether line b can continue line a in a box (raw:
// the lines as drawn): whether DuckDB splits a+sep+b after a, and draws
// the pieces as they are. sep is a space the centring hid (at the end of
// a's piece or the start of b's).
func wrapped(a, rawA, b, rawB string) (sep string, ok bool) {
	fits := func(sep string) bool {
		p := splitPlanText(a+sep+b, boxInner)
		if len(p) != 2 || (p[0] != a && p[0] != a+" ") {
			return false
		}
		return centre(p[0], boxInner) == rawA && (centre(p[1], boxInner) == rawB || centre(p[1]+" ", boxInner) == rawB)
	}
	plain, spaced := fits(""), fits(" ")
	switch {
	case plain && spaced:
		// a full line is most often an identifier split at the width
		if len([]rune(a)) >= boxInner || canSplit([]rune(b)[0]) {
			return "", true
		}
		return " ", true
	case plain:
		return "", true
	case spaced:
		return " ", true
	}
	return "", false
}

// centre pads s to width as DuckDB's AdjustTextForRendering does: the
// odd space on the left.
func centre(s string, width int) string {
	n := len([]rune(s))
	if n >= width {
		return s
	}
	half := (width - n) / 2
	left := half + (width-n)%2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", half)
}

// splitPlanText splits s into lines of at most width characters as
// DuckDB's SplitStringBuffer does: before the last character that is
// neither a letter, a digit nor '_' (the one that overflows excluded),
// unless that leaves a line of 8 characters or fewer, in which case at
// the width.
func splitPlanText(s string, width int) []string {
	r := []rune(s)
	var out []string
	start, used, split := 0, 0, 0
	for pos, c := range r {
		if used+1 > width {
			if split <= start+8 {
				split = pos
			}
			out = append(out, string(r[start:split]))
			used = pos - split
			start = split
		}
		if canSplit(c) {
			split = pos
		}
		used++
	}
	if start < len(r) {
		out = append(out, string(r[start:]))
	}
	return out
}

func canSplit(c rune) bool {
	return c < 128 && (c < '0' || (c > '9' && c < 'A') || (c > 'Z' && c < 'a')) && c != '_'
}
