package cli

import "github.com/augurdb/augur/parser"

// stmt is one statement of a script and where it starts (1-based line and
// column, in the whole input).
type stmt struct {
	Text      string
	Line, Col int
}

// splitSQL cuts src into statements; line is the line number of src's first
// line in the whole input. Statements before a lexical error (an
// unterminated string or comment) are returned with the error.
func splitSQL(src string, line int) ([]stmt, error) {
	ss, err := parser.Split(src)
	out := make([]stmt, len(ss))
	for i, s := range ss {
		out[i] = stmt{Text: s.Text, Line: s.Pos.Line + line - 1, Col: s.Pos.Col}
	}
	return out, err
}

// complete reports whether src ends with a ';' that terminates a statement.
func complete(src string) bool { return parser.Complete(src) }
