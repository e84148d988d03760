package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The goldens here follow DuckDB's box renderer (its shell's duckbox,
// src/common/box_renderer.cpp) for the same results at the same width:
// 40 rows shown of a longer result, the first half and the last half
// around three rows of dots; a footer counting the rows for ten or more,
// and the columns for ten rows or more (or when some are elided); long
// values shortened to fit with "…"; columns elided from the middle.

// fitRender prints rows as on a terminal of the given width, showing at
// most maxRows rows.
func fitRender(t *testing.T, f Format, cols []Column, rows Rows, width, maxRows int) string {
	t.Helper()
	var b bytes.Buffer
	p := NewPrinter(&b, f)
	p.SetScreen(&b, func() int { return width })
	p.SetMaxRows(maxRows)
	if err := p.Print(cols, rows.Source()); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func rangeRows(n int) Rows {
	rows := make(Rows, n)
	for i := range rows {
		rows[i] = []any{int64(i)}
	}
	return rows
}

// TestFitLongResult: SELECT * FROM range(100) in DuckDB's shell.
func TestFitLongResult(t *testing.T) {
	var want strings.Builder
	want.WriteString("┌────────────┐\n│   range    │\n│   bigint   │\n├────────────┤\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&want, "│ %10d │\n", i)
	}
	want.WriteString(strings.Repeat("│          · │\n", 3))
	for i := 80; i < 100; i++ {
		fmt.Fprintf(&want, "│ %10d │\n", i)
	}
	want.WriteString("├────────────┤\n│  100 rows  │\n│ (40 shown) │\n└────────────┘\n")
	got := fitRender(t, FormatTable, []Column{{"range", "BIGINT"}}, rangeRows(100), 80, 40)
	if got != want.String() {
		t.Errorf("got:\n%s\nwant:\n%s", got, want.String())
	}
	// 43 rows are shown: eliding would not save lines; and the footer
	// is not drawn, the column being narrower than "43 rows"
	if got := fitRender(t, FormatTable, []Column{{"range", "BIGINT"}}, rangeRows(43), 80, 40); strings.Contains(got, "·") || !strings.HasSuffix(got, "│     42 │\n└────────┘\n") {
		t.Errorf("43 rows:\n%s", got)
	}
	// .maxrows 0 shows everything
	if got := fitRender(t, FormatTable, []Column{{"range", "BIGINT"}}, rangeRows(100), 80, 0); strings.Count(got, "\n") != 4+100+1 || strings.Contains(got, "·") {
		t.Errorf(".maxrows 0:\n%s", got)
	}
}

func TestFitEmptyAndShortResults(t *testing.T) {
	want := "" +
		"┌─────────┐\n" +
		"│    a    │\n" +
		"│ integer │\n" +
		"├─────────┤\n" +
		"│ 0 rows  │\n" +
		"└─────────┘\n"
	if got := fitRender(t, FormatTable, []Column{{"a", "INTEGER"}}, nil, 80, 40); got != want {
		t.Errorf("no rows: got:\n%s\nwant:\n%s", got, want)
	}
	var rows Rows
	for i := 0; i < 12; i++ {
		rows = append(rows, []any{int32(i), fmt.Sprint("v", i)})
	}
	got := fitRender(t, FormatTable, []Column{{"id", "INTEGER"}, {"name", "VARCHAR"}}, rows, 80, 40)
	if !strings.HasSuffix(got, "│      11 │ v11     │\n├─────────┴─────────┤\n│      12 rows      │\n└───────────────────┘\n") {
		t.Errorf("12 rows:\n%s", got)
	}
	// under ten rows, nothing but the box (as augur prints it in full)
	small := Rows{{int32(1), "two\tparts"}}
	cols := []Column{{"id", "INTEGER"}, {"name", "VARCHAR"}}
	want = "" +
		"┌─────────┬────────────┐\n" +
		"│   id    │    name    │\n" +
		"│ integer │  varchar   │\n" +
		"├─────────┼────────────┤\n" +
		"│       1 │ two\\tparts │\n" +
		"└─────────┴────────────┘\n"
	if got := fitRender(t, FormatTable, cols, small, 80, 40); got != want {
		t.Errorf("one row: got:\n%s\nwant:\n%s", got, want)
	}
}

// TestFitWideResult: twelve columns of 19 or 20 characters at 80 columns
// keep the first two and the last, with the "…" column between.
func TestFitWideResult(t *testing.T) {
	var cols []Column
	var rows Rows
	for c := 0; c < 12; c++ {
		cols = append(cols, Column{fmt.Sprintf("column_%02d", c), "VARCHAR"})
	}
	for i := 0; i < 3; i++ {
		var row []any
		for c := 0; c < 12; c++ {
			row = append(row, fmt.Sprintf("value %d of column %d", i, c))
		}
		rows = append(rows, row)
	}
	want := "" +
		"┌─────────────────────┬─────────────────────┬───┬──────────────────────┐\n" +
		"│      column_00      │      column_01      │ … │      column_11       │\n" +
		"│       varchar       │       varchar       │ … │       varchar        │\n" +
		"├─────────────────────┼─────────────────────┼───┼──────────────────────┤\n" +
		"│ value 0 of column 0 │ value 0 of column 1 │ … │ value 0 of column 11 │\n" +
		"│ value 1 of column 0 │ value 1 of column 1 │ … │ value 1 of column 11 │\n" +
		"│ value 2 of column 0 │ value 2 of column 1 │ … │ value 2 of column 11 │\n" +
		"├─────────────────────┴─────────────────────┴───┴──────────────────────┤\n" +
		"│ 3 rows                                          12 columns (3 shown) │\n" +
		"└──────────────────────────────────────────────────────────────────────┘\n"
	got := fitRender(t, FormatTable, cols, rows, 80, 40)
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if w := displayWidth(l); w > 80 {
			t.Errorf("line of %d columns: %s", w, l)
		}
	}
}

// TestFitLongValue: a long value is shortened with "…", one column's
// excess is what the width takes away.
func TestFitLongValue(t *testing.T) {
	cols := []Column{{"id", "INTEGER"}, {"text", "VARCHAR"}}
	rows := Rows{{int32(1), "a rather long value that does not fit into the width of this terminal at all, no"}, {int32(2), "short\nline"}}
	want := "" +
		"┌─────────┬────────────────────────────────────────────────┐\n" +
		"│   id    │                      text                      │\n" +
		"│ integer │                    varchar                     │\n" +
		"├─────────┼────────────────────────────────────────────────┤\n" +
		"│       1 │ a rather long value that does not fit into t…  │\n" +
		"│       2 │ short\\nline                                    │\n" +
		"└─────────┴────────────────────────────────────────────────┘\n"
	if got := fitRender(t, FormatTable, cols, rows, 60, 40); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestNotATerminalPrintsInFull: without a terminal (scripts, pipes,
// files) every row and column is printed, with no footer.
func TestNotATerminalPrintsInFull(t *testing.T) {
	got := render(t, FormatTable, []Column{{"range", "BIGINT"}}, rangeRows(100))
	if strings.Contains(got, "rows") || strings.Count(got, "\n") != 4+100+1 || !strings.Contains(got, "│     50 │") {
		t.Errorf("got:\n%s", got)
	}
	// .maxwidth and .maxrows, once given, apply to a file too
	var b bytes.Buffer
	p := NewPrinter(&b, FormatTable)
	p.SetMaxRows(4)
	if err := p.Print([]Column{{"range", "BIGINT"}}, rangeRows(100).Source()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "(4 shown)") {
		t.Errorf(".maxrows 4 in a script:\n%s", b.String())
	}
}

func TestKeptRows(t *testing.T) {
	for _, c := range []struct{ n, max, top, bottom int }{
		{0, 40, 0, 0}, {43, 40, 43, 0}, {44, 40, 20, 20}, {1000, 40, 20, 20},
		{10, 5, 3, 2}, {10, 1, 1, 0}, {100, 0, 100, 0},
	} {
		k := &keptRows{maxRows: c.max}
		for i := 0; i < c.n; i++ {
			k.add([]cell{{text: fmt.Sprint(i)}})
		}
		b := k.bottom()
		if k.total != c.n || len(k.top) != c.top || len(b) != c.bottom {
			t.Errorf("%d rows, max %d: top %d bottom %d total %d", c.n, c.max, len(k.top), len(b), k.total)
			continue
		}
		for i, r := range b { // the last rows, in order
			if want := fmt.Sprint(c.n - c.bottom + i); r[0].text != want {
				t.Errorf("%d rows, max %d: bottom[%d] = %s, want %s", c.n, c.max, i, r[0].text, want)
			}
		}
	}
}

// TestExplainPrintsThePlan: EXPLAIN's plan is printed as text under
// DuckDB's banner, not in a cell; csv and json keep the data.
func TestExplainPrintsThePlan(t *testing.T) {
	cols := []Column{{"explain_key", "VARCHAR"}, {"explain_value", "VARCHAR"}}
	plan := "┌───┐\n│ X │\n└───┘\n"
	rows := Rows{{"physical_plan", plan}}
	want := "\n┌─────────────────────────────┐\n│┌───────────────────────────┐│\n││       Physical Plan       ││\n" +
		"│└───────────────────────────┘│\n└─────────────────────────────┘\n" + plan
	for _, f := range []Format{FormatTable, FormatBox, FormatLine, FormatList} {
		if got := render(t, f, cols, rows); got != want {
			t.Errorf("%s: got:\n%s\nwant:\n%s", f, got, want)
		}
	}
	if got := render(t, FormatTable, cols, Rows{{"analyzed_plan", "tree\x1b[2J"}}); got != "tree\\x1B[2J\n" {
		t.Errorf("EXPLAIN ANALYZE: %q", got)
	}
	if got := render(t, FormatCSV, cols, rows); !strings.HasPrefix(got, "explain_key,explain_value\nphysical_plan,") {
		t.Errorf("csv: %q", got)
	}
}
