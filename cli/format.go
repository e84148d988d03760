package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
)

// Format is an output format of the command line (DuckDB's shell calls it
// a mode).
type Format string

// The output formats.
const (
	FormatTable    Format = "table"    // DuckDB's duckbox: a box with names and types, fitted to a terminal
	FormatCSV      Format = "csv"      // RFC 4180
	FormatJSON     Format = "json"     // one JSON array of row objects
	FormatJSONL    Format = "jsonl"    // one JSON object a line
	FormatMarkdown Format = "markdown" // a GitHub table
	FormatBox      Format = "box"      // a box with the names only, never fitted (SQLite's and DuckDB's box)
	FormatLine     Format = "line"     // one "name = value" line per value, a blank line between rows
	FormatList     Format = "list"     // values separated by '|'
	FormatTSV      Format = "tsv"      // values separated by tabs (DuckDB's tabs)
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{FormatTable, FormatCSV, FormatJSON, FormatJSONL, FormatMarkdown, FormatBox, FormatLine, FormatList, FormatTSV}

// formatAliases are the other names ParseFormat accepts: DuckDB's names
// for the same formats.
var formatAliases = map[string]Format{
	"duckbox": FormatTable, "md": FormatMarkdown, "jsonlines": FormatJSONL, "ndjson": FormatJSONL, "tabs": FormatTSV,
}

// ParseFormat checks a --format or .mode value (case-insensitive; DuckDB's
// names duckbox, jsonlines and tabs, and md, are accepted too).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if a, ok := formatAliases[string(f)]; ok {
		f = a
	}
	for _, g := range Formats {
		if f == g {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, g := range Formats {
		names[i] = string(g)
	}
	return "", fmt.Errorf("unknown format %q (expected one of: %s)", untrusted.Clean(s), strings.Join(names, ", "))
}

// Column describes one column of a result.
type Column struct {
	Name string // as the result names it
	Type string // DuckDB type name (ColumnType.DatabaseTypeName); may be ""
}

// RowSource yields the rows of one result. Next fills dst (one value per
// column, as duckdb-go returns them; nil is NULL) and reports whether there
// was a row.
type RowSource interface {
	Next(dst []any) (bool, error)
}

// Rows is a RowSource over rows held in memory.
type Rows [][]any

type sliceRows struct {
	rows Rows
	i    int
}

func (s *sliceRows) Next(dst []any) (bool, error) {
	if s.i >= len(s.rows) {
		return false, nil
	}
	copy(dst, s.rows[s.i])
	s.i++
	return true, nil
}

// Source returns a RowSource over the rows.
func (r Rows) Source() RowSource { return &sliceRows{rows: r} }

// DefaultMaxRows is how many rows a table shows on a terminal before it
// elides the middle ones (DuckDB's .maxrows).
const DefaultMaxRows = 40

// Printer writes results, one after another, in one format.
type Printer struct {
	w       *bufio.Writer
	format  Format
	printed int // results written so far

	// terminal returns the width of the terminal the output goes to, 0
	// when it is not one (nil: never a terminal).
	terminal   func() int
	screen     io.Writer  // where results go without .output
	screenTerm func() int // terminal for screen
	headers    bool
	nullValue  string
	nullSet    bool // .nullvalue was given
	maxRows    int
	maxRowsSet bool // .maxrows was given: it applies to scripts too
	maxWidth   int  // .maxwidth; 0 = the terminal's width
}

// NewPrinter returns a Printer writing to w, which is not a terminal (see
// SetScreen): results are written in full.
func NewPrinter(w io.Writer, format Format) *Printer {
	return &Printer{w: bufio.NewWriter(w), screen: w, format: format, headers: true, maxRows: DefaultMaxRows}
}

// Format returns the printer's format.
func (p *Printer) Format() Format { return p.format }

// SetFormat changes the format for the next results.
func (p *Printer) SetFormat(f Format) { p.format = f }

// SetScreen flushes what was written and makes w the screen, where
// results go (now, and after an .output file). terminal returns the width
// of the terminal w is, 0 when it is not one; nil means never a terminal.
// On a terminal, tables show at most .maxrows rows (40) and are fitted to
// the width, as DuckDB's shell does; elsewhere they are written in full.
func (p *Printer) SetScreen(w io.Writer, terminal func() int) error {
	p.screen, p.screenTerm = w, terminal
	return p.ToScreen()
}

// Redirect flushes what was written and sends the next results to w (a
// file, not a terminal), until ToScreen.
func (p *Printer) Redirect(w io.Writer) error {
	err := p.w.Flush()
	p.w.Reset(w)
	p.terminal, p.printed = nil, 0
	return err
}

// ToScreen flushes what was written and sends the next results to the
// screen again.
func (p *Printer) ToScreen() error {
	err := p.Redirect(p.screen)
	p.terminal = p.screenTerm
	return err
}

// Writer is where results go, for the commands that print text (.tables,
// .schema). Flush it after writing.
func (p *Printer) Writer() *bufio.Writer { return p.w }

// SetHeaders turns the header line of csv, tsv and list on or off
// (DuckDB's .headers; the other formats always name their columns).
func (p *Printer) SetHeaders(on bool) { p.headers = on }

// SetNullValue sets the text of NULL in every format but JSON (DuckDB's
// .nullvalue). By default it is NULL in tables, line and markdown, and
// empty in csv, tsv and list.
func (p *Printer) SetNullValue(s string) { p.nullValue, p.nullSet = s, true }

// nullText is what a NULL prints as, given the format's own default.
func (p *Printer) nullText(def string) string {
	if p.nullSet {
		return p.nullValue
	}
	return def
}

// SetMaxRows sets how many rows a table shows before it elides the
// middle ones (DuckDB's .maxrows); 0 shows all. Once set, it applies to
// output that is not a terminal too.
func (p *Printer) SetMaxRows(n int) { p.maxRows, p.maxRowsSet = max(n, 0), true }

// SetMaxWidth sets the width tables are fitted to (DuckDB's .maxwidth); 0
// is the terminal's width. A width other than 0 applies to output that is
// not a terminal too.
func (p *Printer) SetMaxWidth(n int) { p.maxWidth = max(n, 0) }

// fit is how much of a table the output shows: width 0 is any width,
// maxRows 0 all rows.
func (p *Printer) fit() (width, maxRows int) {
	term := 0
	if p.terminal != nil {
		term = p.terminal()
	}
	if term > 0 {
		width, maxRows = term, p.maxRows
	}
	if p.maxWidth > 0 {
		width = p.maxWidth
	}
	if p.maxRowsSet {
		maxRows = p.maxRows
	}
	return width, maxRows
}

// Print writes one result and flushes it. On an error from rows, what was
// already written stays written.
func (p *Printer) Print(cols []Column, rows RowSource) error {
	types := make([]*sqlType, len(cols))
	for i, c := range cols {
		types[i] = parseType(c.Type)
	}
	if isExplain(cols) && p.format.human() {
		err := p.explain(rows)
		if ferr := p.w.Flush(); err == nil {
			err = ferr
		}
		return err
	}
	if p.printed > 0 && p.format.blocks() {
		p.w.WriteByte('\n') // tables need a blank line between them
	}
	p.printed++
	var err error
	switch p.format {
	case FormatCSV:
		err = p.csv(cols, types, rows)
	case FormatJSON:
		err = p.json(cols, types, rows, false)
	case FormatJSONL:
		err = p.json(cols, types, rows, true)
	case FormatMarkdown:
		err = p.markdown(cols, types, rows)
	case FormatLine:
		err = p.line(cols, types, rows)
	case FormatList:
		err = p.separated(cols, types, rows, "|")
	case FormatTSV:
		err = p.separated(cols, types, rows, "\t")
	case FormatBox:
		err = p.table(cols, types, rows, false)
	default:
		if width, maxRows := p.fit(); width > 0 || maxRows > 0 {
			err = p.fitted(cols, types, rows, width, maxRows)
		} else {
			err = p.table(cols, types, rows, true)
		}
	}
	if ferr := p.w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// human reports whether the format is for reading rather than for
// programs: EXPLAIN's plans print as text in these.
func (f Format) human() bool {
	return f == FormatTable || f == FormatBox || f == FormatLine || f == FormatList
}

// blocks reports whether results in the format are separated by a blank
// line.
func (f Format) blocks() bool {
	return f == FormatTable || f == FormatBox || f == FormatMarkdown || f == FormatLine
}

// Flush writes out anything buffered.
func (p *Printer) Flush() error { return p.w.Flush() }

// ---- json and jsonl ----

func (p *Printer) json(cols []Column, types []*sqlType, rows RowSource, lines bool) error {
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		keys[i] = append(appendJSONString(nil, c.Name), ':')
	}
	vals := make([]any, len(cols))
	var buf []byte
	n := 0
	for {
		ok, err := rows.Next(vals)
		if err != nil {
			if n > 0 && !lines {
				p.w.WriteString("]\n")
			}
			return err
		}
		if !ok {
			break
		}
		buf = buf[:0]
		switch {
		case lines:
		case n == 0:
			buf = append(buf, '[')
		default:
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, '{')
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, keys[i]...)
			buf = appendJSON(buf, v, types[i])
		}
		buf = append(buf, '}')
		if lines {
			buf = append(buf, '\n')
		}
		p.w.Write(buf)
		n++
	}
	if !lines {
		if n == 0 {
			p.w.WriteString("[]\n")
		} else {
			p.w.WriteString("]\n")
		}
	}
	return nil
}

// ---- csv ----

// csvField quotes a field when RFC 4180 requires it. The empty string is
// written as "" so that it differs from NULL, which is an empty field.
func csvField(s string, null bool) string {
	if null {
		return ""
	}
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, ",\"\r\n") || s[0] == ' ' || s[len(s)-1] == ' ' {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func (p *Printer) csv(cols []Column, types []*sqlType, rows RowSource) error {
	fields := make([]string, len(cols))
	for i, c := range cols {
		fields[i] = csvField(c.Name, false)
	}
	if p.headers {
		p.w.WriteString(strings.Join(fields, ",") + "\n")
	}
	vals := make([]any, len(cols))
	null := p.nullText("")
	for {
		ok, err := rows.Next(vals)
		if err != nil || !ok {
			return err
		}
		for i, v := range vals {
			if v == nil {
				fields[i] = csvField(null, null == "")
				continue
			}
			fields[i] = csvField(textValue(v, types[i]), false)
		}
		p.w.WriteString(strings.Join(fields, ",") + "\n")
	}
}

// ---- table and markdown: both read the whole result first ----

type cell struct {
	text string
	null bool
}

// collect reads all rows as text (NULL as null), and decides which
// columns hold numbers.
func collect(cols []Column, types []*sqlType, rows RowSource, null string) ([][]cell, []bool, error) {
	var out [][]cell
	numeric, err := eachCell(cols, types, rows, null, func(row []cell) { out = append(out, row) })
	return out, numeric, err
}

// eachCell reads the rows as text (NULL as null) and hands each to keep;
// it decides which columns hold numbers, by type or else by the first
// value that is not NULL.
func eachCell(cols []Column, types []*sqlType, rows RowSource, null string, keep func([]cell)) ([]bool, error) {
	numeric := make([]bool, len(cols))
	known := make([]bool, len(cols))
	for i, t := range types {
		if t != nil {
			numeric[i], known[i] = t.isNumeric(), true
		}
	}
	vals := make([]any, len(cols))
	for {
		ok, err := rows.Next(vals)
		if err != nil || !ok {
			return numeric, err
		}
		row := make([]cell, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = cell{text: null, null: true}
				continue
			}
			if !known[i] {
				numeric[i], known[i] = isNumberValue(v), true
			}
			row[i] = cell{text: textValue(v, types[i])}
		}
		keep(row)
	}
}

// displayWidth is the number of terminal columns s takes: East Asian wide
// characters count two, combining marks none.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case r >= 0x300 && r <= 0x36f, r == 0x200b, r >= 0xfe00 && r <= 0xfe0f:
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

func pad(s string, width int, right bool) string {
	n := width - displayWidth(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

func center(s string, width int) string {
	n := width - displayWidth(s)
	if n <= 0 {
		return s
	}
	return strings.Repeat(" ", n/2) + s + strings.Repeat(" ", n-n/2)
}

// tableText makes a cell printable in a box: tabs become spaces, other
// control characters are escaped; newlines stay (a cell may span lines).
func tableText(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case r == '\n':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// table writes a boxed table like DuckDB's shell, in full: column names
// (and types, with withTypes) centred in the header, numbers
// right-aligned, NULL as NULL. Values with newlines take several lines.
func (p *Printer) table(cols []Column, types []*sqlType, rows RowSource, withTypes bool) error {
	data, numeric, err := collect(cols, types, rows, p.nullText("NULL"))
	if len(cols) == 0 || err != nil {
		return err
	}
	showTypes := false
	typeNames := make([]string, len(cols))
	for i, c := range cols {
		typeNames[i] = strings.ToLower(c.Type)
		if c.Type != "" && withTypes {
			showTypes = true
		}
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = displayWidth(c.Name)
		if showTypes {
			width[i] = max(width[i], displayWidth(typeNames[i]))
		}
	}
	lines := make([][][]string, len(data)) // row, column, line
	for r, row := range data {
		lines[r] = make([][]string, len(cols))
		for i, c := range row {
			ls := strings.Split(strings.TrimRight(tableText(c.text), "\n"), "\n")
			lines[r][i] = ls
			for _, l := range ls {
				width[i] = max(width[i], displayWidth(l))
			}
		}
	}
	rule := func(l, m, r string) {
		p.w.WriteString(l)
		for i, w := range width {
			if i > 0 {
				p.w.WriteString(m)
			}
			p.w.WriteString(strings.Repeat("─", w+2))
		}
		p.w.WriteString(r + "\n")
	}
	line := func(cells []string, align func(i int, s string) string) {
		p.w.WriteString("│")
		for i, s := range cells {
			if i > 0 {
				p.w.WriteString("│")
			}
			p.w.WriteString(" " + align(i, s) + " ")
		}
		p.w.WriteString("│\n")
	}
	centred := func(i int, s string) string { return center(s, width[i]) }
	rule("┌", "┬", "┐")
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = tableText(strings.ReplaceAll(c.Name, "\n", " "))
	}
	line(names, centred)
	if showTypes {
		line(typeNames, centred)
	}
	if len(lines) > 0 {
		rule("├", "┼", "┤")
	}
	cells := make([]string, len(cols))
	for r, row := range lines {
		height := 1
		for _, ls := range row {
			height = max(height, len(ls))
		}
		for h := 0; h < height; h++ {
			for i, ls := range row {
				cells[i] = ""
				if h < len(ls) {
					cells[i] = ls[h]
				}
			}
			line(cells, func(i int, s string) string {
				return pad(s, width[i], numeric[i] && !data[r][i].null)
			})
		}
	}
	rule("└", "┴", "┘")
	return nil
}

// markdownText escapes a cell for a GitHub markdown table.
func markdownText(s string) string {
	if strings.ContainsAny(s, `\|`) {
		// A backslash before ASCII punctuation would escape it: double it.
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '|':
				b.WriteString(`\|`)
			case c == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0:
				b.WriteString(`\\`)
			default:
				b.WriteByte(c)
			}
		}
		s = b.String()
	}
	s = strings.ReplaceAll(s, "\r\n", "<br>")
	s = strings.ReplaceAll(s, "\n", "<br>")
	return strings.ReplaceAll(s, "\r", "<br>")
}

// markdown writes a GitHub-flavoured markdown table, columns padded to line
// up, numbers right-aligned.
func (p *Printer) markdown(cols []Column, types []*sqlType, rows RowSource) error {
	data, numeric, err := collect(cols, types, rows, p.nullText("NULL"))
	if len(cols) == 0 || err != nil {
		return err
	}
	width := make([]int, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = markdownText(c.Name)
		width[i] = max(3, displayWidth(names[i]))
	}
	for _, row := range data {
		for i := range row {
			row[i].text = markdownText(row[i].text)
			width[i] = max(width[i], displayWidth(row[i].text))
		}
	}
	write := func(cells []string, right func(i int) bool) {
		p.w.WriteString("|")
		for i, s := range cells {
			p.w.WriteString(" " + pad(s, width[i], right(i)) + " |")
		}
		p.w.WriteString("\n")
	}
	write(names, func(int) bool { return false })
	p.w.WriteString("|")
	for i, w := range width {
		if numeric[i] {
			p.w.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		} else {
			p.w.WriteString(" " + strings.Repeat("-", w) + " |")
		}
	}
	p.w.WriteString("\n")
	cells := make([]string, len(cols))
	for _, row := range data {
		for i, c := range row {
			cells[i] = c.text
		}
		write(cells, func(i int) bool { return numeric[i] })
	}
	return nil
}

// ---- line, list and tsv ----

// escapeControls makes a value printable on a terminal: control characters
// are escaped as \xNN (escaping ESC stops a value from driving the
// terminal); keep lists those left as they are.
func escapeControls(s, keep string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 || r == 0x7f) && !strings.ContainsRune(keep, r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case strings.ContainsRune(keep, r):
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// line writes each value on its own line as "name = value", the names
// right-aligned, with a blank line between rows (SQLite's and DuckDB's
// line mode). Values keep their newlines.
func (p *Printer) line(cols []Column, types []*sqlType, rows RowSource) error {
	names := make([]string, len(cols))
	width := 0
	for i, c := range cols {
		names[i] = escapeControls(c.Name, "")
		width = max(width, displayWidth(names[i]))
	}
	null := p.nullText("NULL")
	vals := make([]any, len(cols))
	for n := 0; ; n++ {
		ok, err := rows.Next(vals)
		if err != nil || !ok {
			return err
		}
		if n > 0 {
			p.w.WriteByte('\n')
		}
		for i, v := range vals {
			text := null
			if v != nil {
				text = escapeControls(textValue(v, types[i]), "\n")
			}
			p.w.WriteString(pad(names[i], width, true) + " = " + text + "\n")
		}
	}
}

// separated writes values separated by sep, a header line first (when
// .headers is on), NULL as empty (SQLite's and DuckDB's list and tabs
// modes). Tabs and newlines in values are escaped as \t and \n, so that
// each row is one line.
func (p *Printer) separated(cols []Column, types []*sqlType, rows RowSource, sep string) error {
	fields := make([]string, len(cols))
	if p.headers {
		for i, c := range cols {
			fields[i] = escapeControls(c.Name, "")
		}
		p.w.WriteString(strings.Join(fields, sep) + "\n")
	}
	null := p.nullText("")
	vals := make([]any, len(cols))
	for {
		ok, err := rows.Next(vals)
		if err != nil || !ok {
			return err
		}
		for i, v := range vals {
			fields[i] = null
			if v != nil {
				fields[i] = escapeControls(textValue(v, types[i]), "")
			}
		}
		p.w.WriteString(strings.Join(fields, sep) + "\n")
	}
}

// ---- EXPLAIN ----

// isExplain reports whether a result is DuckDB's EXPLAIN output.
func isExplain(cols []Column) bool {
	return len(cols) == 2 && cols[0].Name == "explain_key" && cols[1].Name == "explain_value"
}

// planTitles are the banners DuckDB's shell prints above each plan of
// EXPLAIN (an EXPLAIN ANALYZE plan has its own).
var planTitles = map[string]string{
	"logical_plan":  "Unoptimized Logical Plan ",
	"logical_opt":   " Optimized Logical Plan  ",
	"physical_plan": "      Physical Plan      ",
}

// explain prints EXPLAIN's plans as text, as DuckDB's shell does: each
// plan under a banner naming it, instead of in a table's cell.
func (p *Printer) explain(rows RowSource) error {
	vals := make([]any, 2)
	for {
		ok, err := rows.Next(vals)
		if err != nil || !ok {
			return err
		}
		key, _ := vals[0].(string)
		plan, _ := vals[1].(string)
		if title, ok := planTitles[key]; ok {
			p.w.WriteString("\n┌─────────────────────────────┐\n│┌───────────────────────────┐│\n" +
				"││ " + title + " ││\n│└───────────────────────────┘│\n└─────────────────────────────┘\n")
		}
		p.w.WriteString(escapeControls(plan, "\n"))
		if !strings.HasSuffix(plan, "\n") {
			p.w.WriteByte('\n')
		}
	}
}
