package cli

import (
	"strconv"
	"strings"
)

// The table of a terminal, as DuckDB's shell draws it (its "duckbox", in
// duckdb/src/common/box_renderer.cpp): a result longer than maxRows shows
// its first and last rows around three rows of dots, and a footer that
// counts the rows; a result wider than the terminal has its long values
// shortened with an ellipsis and, when that is not enough, columns
// elided in the middle behind a "…" column. Values are one line each:
// newlines and tabs are shown as \n and \t.

// Constants of DuckDB's box renderer.
const (
	fitMaxColWidth = 20  // a column is not shortened below this to make room
	fitEllipsis    = "…" // ends a shortened value; heads an elided column
	fitDot         = "·" // the rows of dots where rows are elided
)

type alignment int

const (
	alignLeft alignment = iota
	alignMiddle
	alignRight
)

// boxValue is one value of the table as it is drawn.
type boxValue struct {
	text  string
	align alignment
}

// boxRowKind tells values from rules.
type boxRowKind int

const (
	rowValues    boxRowKind = iota
	rowSeparator            // ├───┼───┤ under the header
	rowDivider              // where rows are elided: replaced by three rows of dots
)

type boxRow struct {
	kind boxRowKind
	vals []boxValue
}

// keptRows holds the rows a table shows: all of them up to maxRows+3
// (eliding fewer would not save lines), otherwise the first and the last
// maxRows/2 (the first half gets the odd one), in bounded memory.
type keptRows struct {
	maxRows int // 0 = keep all
	top     [][]cell
	ring    [][]cell // the last rows seen, from start on
	start   int
	total   int
}

func (k *keptRows) add(row []cell) {
	k.total++
	if k.maxRows <= 0 || k.total <= k.maxRows+3 {
		k.top = append(k.top, row)
		return
	}
	if k.ring == nil { // the first row too many: split what is kept
		topN := (k.maxRows + 1) / 2
		bottomN := k.maxRows - topN
		k.top = append(k.top, row)
		k.ring = append(make([][]cell, 0, bottomN), k.top[len(k.top)-bottomN:]...)
		k.top = k.top[:topN:topN]
		return
	}
	if len(k.ring) == 0 {
		return
	}
	k.ring[k.start] = row
	k.start = (k.start + 1) % len(k.ring)
}

// bottom returns the last rows, in order (none when nothing is elided).
func (k *keptRows) bottom() [][]cell {
	return append(append([][]cell(nil), k.ring[k.start:]...), k.ring[:k.start]...)
}

// fitText makes a value one printable line, with DuckDB's escapes.
func fitText(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1b:
			b.WriteString(`\e`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(escapeControls(string(r), ""))
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// boxFooter is the row count under a table (DuckDB's BoxRendererFooter).
type boxFooter struct {
	rows, shown, columns string
	length               int  // the width the row count needs
	must                 bool // rows are hidden, or there are none
	hiddenRows           bool
	hiddenColumns        bool
}

func newBoxFooter(total, shown, ncols int) boxFooter {
	f := boxFooter{rows: strconv.Itoa(total) + " rows", columns: strconv.Itoa(ncols) + " column"}
	if ncols > 1 {
		f.columns += "s"
	}
	f.hiddenRows = shown < total
	if f.hiddenRows {
		f.shown = strconv.Itoa(shown) + " shown"
	}
	f.must = f.hiddenRows || total == 0
	f.length = max(len(f.rows), len(f.shown)+2) + 4
	return f
}

// boxLayout is a table being fitted: its rows and column widths.
type boxLayout struct {
	rows   []boxRow
	widths []int
	total  int // the width of a line of the table
}

// fitted writes a table fitted to width (0: any width) showing at most
// maxRows rows (0: all), with DuckDB's footer.
func (p *Printer) fitted(cols []Column, types []*sqlType, rows RowSource, width, maxRows int) error {
	if len(cols) == 0 {
		_, err := eachCell(cols, types, rows, "", func([]cell) {})
		return err
	}
	kept, numeric, err := collectKept(cols, types, rows, p.nullText("NULL"), maxRows)
	if err != nil {
		return err
	}
	bottom := kept.bottom()
	footer := newBoxFooter(kept.total, len(kept.top)+len(bottom), len(cols))

	l := &boxLayout{}
	header := boxRow{}
	typeRow := boxRow{}
	showTypes := false
	for _, c := range cols {
		header.vals = append(header.vals, boxValue{fitText(c.Name), alignMiddle})
		typeRow.vals = append(typeRow.vals, boxValue{fitText(strings.ToLower(c.Type)), alignMiddle})
		showTypes = showTypes || c.Type != ""
	}
	l.rows = append(l.rows, header)
	if showTypes {
		l.rows = append(l.rows, typeRow)
	}
	addRows := func(data [][]cell, kind boxRowKind) {
		if len(data) == 0 {
			return
		}
		l.rows = append(l.rows, boxRow{kind: kind})
		for _, row := range data {
			r := boxRow{}
			for i, c := range row {
				a := alignLeft
				if numeric[i] {
					a = alignRight
				}
				r.vals = append(r.vals, boxValue{fitText(c.text), a})
			}
			l.rows = append(l.rows, r)
		}
	}
	addRows(kept.top, rowSeparator)
	addRows(bottom, rowDivider)

	minWidth := 0
	if footer.must {
		minWidth = footer.length
	}
	original := l.measure(minWidth)
	pruned := l.shrink(width, original)
	if len(pruned) > 0 {
		footer.hiddenColumns = true
		footer.columns += " (" + strconv.Itoa(len(cols)-len(pruned)) + " shown)"
		l.elide(pruned)
	}
	l.dividers()
	p.draw(l, footer, kept.total, len(cols))
	return nil
}

// collectKept reads the rows as text, keeping those a table of maxRows
// rows shows (collect for all of them).
func collectKept(cols []Column, types []*sqlType, rows RowSource, null string, maxRows int) (*keptRows, []bool, error) {
	k := &keptRows{maxRows: maxRows}
	numeric, err := eachCell(cols, types, rows, null, k.add)
	return k, numeric, err
}

// measure sets each column's width to its widest value and widens the
// first column up to minWidth; it returns the widths.
func (l *boxLayout) measure(minWidth int) []int {
	l.widths = make([]int, len(l.rows[0].vals))
	for _, r := range l.rows {
		for i, v := range r.vals {
			l.widths[i] = max(l.widths[i], displayWidth(v.text))
		}
	}
	l.total = 1
	for _, w := range l.widths {
		l.total += w + 3 // a space before, a space and a rule after
	}
	if l.total < minWidth {
		l.widths[0] += minWidth - l.total
		l.total = minWidth
	}
	return append([]int(nil), l.widths...)
}

// shrink fits the table into width as DuckDB does: first columns wider
// than fitMaxColWidth are shortened, in proportion to their excess; when
// that is not enough they become fitMaxColWidth wide and columns are
// elided from the middle outwards, then what room is left goes back to
// the shortened columns. It returns the elided columns.
func (l *boxLayout) shrink(width int, original []int) map[int]bool {
	if width <= 0 || l.total <= width {
		return nil
	}
	excess := make([]int, len(l.widths))
	totalExcess := 0
	for i, w := range l.widths {
		if w > fitMaxColWidth {
			excess[i] = w - fitMaxColWidth
			totalExcess += excess[i]
		}
	}
	need := l.total - width
	if totalExcess >= need {
		share := float64(need) / float64(totalExcess)
		cut := make([]int, len(excess))
		done := 0
		for i, e := range excess {
			cut[i] = int(share * float64(e))
			done += cut[i]
		}
		for i := 0; i < len(cut) && done < need; i++ { // what rounding left
			more := min(need-done, excess[i]-cut[i])
			cut[i] += more
			done += more
		}
		for i, c := range cut {
			l.widths[i] -= c
			l.total -= c
		}
		return nil
	}
	for i, e := range excess {
		l.widths[i] -= e
		l.total -= e
	}
	pruned := map[int]bool{}
	l.total += 3 + displayWidth(fitEllipsis) // the "…" column
	n := len(l.widths)
	for offset := 0; l.total > width && len(pruned) < n-1; {
		c := n/2 + offset
		if c >= 0 && c < n && !pruned[c] {
			l.total -= l.widths[c] + 3
			pruned[c] = true
		}
		if offset >= 0 {
			offset = -offset - 1
		} else {
			offset = -offset
		}
	}
	left := width - l.total
	for i := 0; i < n && left > 0; i++ {
		if pruned[i] || l.widths[i] >= original[i] {
			continue
		}
		more := min(left, original[i]-l.widths[i])
		l.widths[i] += more
		l.total += more
		left -= more
	}
	return pruned
}

// elide replaces the pruned columns by one "…" column.
func (l *boxLayout) elide(pruned map[int]bool) {
	keep := func(vals []boxValue, widths []int) ([]boxValue, []int) {
		var nv []boxValue
		var nw []int
		added := false
		for i := range widths {
			switch {
			case !pruned[i]:
				if vals != nil {
					nv = append(nv, vals[i])
				}
				nw = append(nw, widths[i])
			case !added:
				if vals != nil {
					nv = append(nv, boxValue{fitEllipsis, alignMiddle})
				}
				nw = append(nw, displayWidth(fitEllipsis))
				added = true
			}
		}
		return nv, nw
	}
	old := l.widths
	for i, r := range l.rows {
		if r.kind == rowValues {
			l.rows[i].vals, _ = keep(r.vals, old)
		}
	}
	_, l.widths = keep(nil, old)
}

// dividers replaces the divider with three rows of dots, each placed in
// the middle of the shorter of the values above and below it.
func (l *boxLayout) dividers() {
	for r, row := range l.rows {
		if row.kind != rowDivider {
			continue
		}
		prev, next := l.rows[r-1], l.rows[r+1]
		dots := boxRow{}
		for c, w := range l.widths {
			a := prev.vals[c].align
			text := fitDot
			if a != alignMiddle {
				top := min(w, displayWidth(prev.vals[c].text))
				bottom := min(w, displayWidth(next.vals[c].text))
				n := min(top, bottom)
				if top == 0 {
					n = bottom
				} else if bottom == 0 {
					n = top
				}
				switch {
				case n > 1:
					padding := n - 1
					left := padding / 2
					if a == alignRight {
						left = padding - padding/2
					}
					text = strings.Repeat(" ", left) + fitDot + strings.Repeat(" ", padding-left)
				case n == 0:
					a = alignMiddle
				}
			}
			dots.vals = append(dots.vals, boxValue{text, a})
		}
		rest := append([]boxRow{dots, dots, dots}, l.rows[r+1:]...)
		l.rows = append(l.rows[:r], rest...)
		return
	}
}

// truncate shortens s to fit a column of width w, ending it with "…"
// (DuckDB keeps at least one space free before the rule).
func truncate(s string, w int) (string, int) {
	used := displayWidth(fitEllipsis)
	for i, r := range s {
		rw := runeWidth(r)
		if used+rw >= w {
			return s[:i] + fitEllipsis, used
		}
		used += rw
	}
	return s + fitEllipsis, used
}

// cellText writes one value padded to its column.
func (p *Printer) cellText(v boxValue, w int) {
	text, tw := v.text, displayWidth(v.text)
	if tw > w {
		text, tw = truncate(text, w)
	}
	padding := w - tw + 2
	left := 1
	switch v.align {
	case alignMiddle:
		left = padding / 2
	case alignRight:
		left = padding - 1
	}
	p.w.WriteString("│" + strings.Repeat(" ", left) + text + strings.Repeat(" ", padding-left))
}

// rule writes a horizontal line: ends l and r, cross at the columns.
func (p *Printer) rule(widths []int, l, cross, r string) {
	p.w.WriteString(l)
	for i, w := range widths {
		if i > 0 {
			p.w.WriteString(cross)
		}
		p.w.WriteString(strings.Repeat("─", w+2))
	}
	p.w.WriteString(r + "\n")
}

// draw writes the table and its footer.
func (p *Printer) draw(l *boxLayout, f boxFooter, total, ncols int) {
	p.rule(l.widths, "┌", "┬", "┐")
	for _, row := range l.rows {
		if row.kind == rowSeparator {
			p.rule(l.widths, "├", "┼", "┤")
			continue
		}
		for c, v := range row.vals {
			p.cellText(v, l.widths[c])
		}
		p.w.WriteString("│\n")
	}
	p.footer(l, f, total, ncols)
}

// footer writes DuckDB's footer: the row count (and the column count,
// for ten rows or more, or when columns are elided), and how many rows
// are shown; or just the bottom rule for a short result.
func (p *Printer) footer(l *boxLayout, f boxFooter, total, ncols int) {
	both := l.total >= len(f.rows)+len(f.columns)+6 && (f.hiddenColumns && total > 0 || total >= 10 && ncols > 1)
	rowsOnly := l.total >= f.length && (total == 0 || total >= 10)
	if !both && !rowsOnly {
		p.rule(l.widths, "└", "┴", "┘")
		return
	}
	p.rule(l.widths, "├", "┴", "┤")
	padding := l.total - len(f.rows) - 4
	if both {
		padding -= len(f.columns)
	}
	extra := ""
	if f.hiddenRows && padding >= len(f.shown)+3 {
		extra = " (" + f.shown + ")"
		padding -= len(extra)
		f.shown = ""
	}
	p.w.WriteString("│ ")
	if both {
		p.w.WriteString(f.rows + extra + strings.Repeat(" ", padding) + f.columns)
	} else {
		p.w.WriteString(strings.Repeat(" ", padding/2) + f.rows + extra + strings.Repeat(" ", padding-padding/2))
	}
	p.w.WriteString(" │\n")
	if f.shown != "" {
		a := alignMiddle
		if both {
			a = alignLeft
		}
		p.cellText(boxValue{"(" + f.shown + ")", a}, l.total-4)
		p.w.WriteString("│\n")
	}
	p.w.WriteString("└" + strings.Repeat("─", l.total-2) + "┘\n")
}
