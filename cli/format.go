package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Format is an output format of the command line.
type Format string

// The output formats.
const (
	FormatTable    Format = "table"
	FormatCSV      Format = "csv"
	FormatJSON     Format = "json"
	FormatJSONL    Format = "jsonl"
	FormatMarkdown Format = "markdown"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{FormatTable, FormatCSV, FormatJSON, FormatJSONL, FormatMarkdown}

// ParseFormat checks a --format value (case-insensitive; "md" is markdown).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if f == "md" {
		f = FormatMarkdown
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
	return "", fmt.Errorf("unknown format %q (expected one of: %s)", s, strings.Join(names, ", "))
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

// Printer writes results, one after another, in one format.
type Printer struct {
	w       *bufio.Writer
	format  Format
	printed int // results written so far
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, format Format) *Printer {
	return &Printer{w: bufio.NewWriter(w), format: format}
}

// Format returns the printer's format.
func (p *Printer) Format() Format { return p.format }

// SetFormat changes the format for the next results.
func (p *Printer) SetFormat(f Format) { p.format = f }

// Print writes one result and flushes it. On an error from rows, what was
// already written stays written.
func (p *Printer) Print(cols []Column, rows RowSource) error {
	types := make([]*sqlType, len(cols))
	for i, c := range cols {
		types[i] = parseType(c.Type)
	}
	if p.printed > 0 && (p.format == FormatTable || p.format == FormatMarkdown) {
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
	default:
		err = p.table(cols, types, rows)
	}
	if ferr := p.w.Flush(); err == nil {
		err = ferr
	}
	return err
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
	p.w.WriteString(strings.Join(fields, ",") + "\n")
	vals := make([]any, len(cols))
	for {
		ok, err := rows.Next(vals)
		if err != nil || !ok {
			return err
		}
		for i, v := range vals {
			fields[i] = csvField(textValue(v, types[i]), v == nil)
		}
		p.w.WriteString(strings.Join(fields, ",") + "\n")
	}
}

// ---- table and markdown: both read the whole result first ----

type cell struct {
	text string
	null bool
}

// collect reads all rows as text, and decides which columns hold numbers.
func collect(cols []Column, types []*sqlType, rows RowSource) ([][]cell, []bool, error) {
	numeric := make([]bool, len(cols))
	known := make([]bool, len(cols))
	for i, t := range types {
		if t != nil {
			numeric[i], known[i] = t.isNumeric(), true
		}
	}
	var out [][]cell
	vals := make([]any, len(cols))
	for {
		ok, err := rows.Next(vals)
		if err != nil {
			return out, numeric, err
		}
		if !ok {
			return out, numeric, nil
		}
		row := make([]cell, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = cell{text: "NULL", null: true}
				continue
			}
			if !known[i] {
				numeric[i], known[i] = isNumberValue(v), true
			}
			row[i] = cell{text: textValue(v, types[i])}
		}
		out = append(out, row)
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

// table writes a boxed table like DuckDB's shell: column names and types
// centred in the header, numbers right-aligned, NULL as NULL.
func (p *Printer) table(cols []Column, types []*sqlType, rows RowSource) error {
	data, numeric, err := collect(cols, types, rows)
	if len(cols) == 0 || err != nil {
		return err
	}
	showTypes := false
	typeNames := make([]string, len(cols))
	for i, c := range cols {
		typeNames[i] = strings.ToLower(c.Type)
		if c.Type != "" {
			showTypes = true
		}
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = max(displayWidth(c.Name), displayWidth(typeNames[i]))
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
	data, numeric, err := collect(cols, types, rows)
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
