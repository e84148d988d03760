package parser

import "strings"

// Stmt is one statement of a script. Text runs from the first byte of
// its first token to the last byte of its last token: leading and
// trailing whitespace and comments and the terminating ';' are not part
// of it, comments between its tokens are. Pos is where Text starts.
type Stmt struct {
	Text string
	Pos  Pos
}

// Split cuts a script into statements at top-level ';' (outside strings,
// quoted identifiers, comments and dollar quotes). Statements that are
// empty or only comments are dropped. Model statements are lexed with
// Rikai's string rules (a backslash escapes a quote), exactly as Parse
// will lex them, so 'it\'s; ok' in CREATE MODEL is one string.
//
// An unterminated string, quoted identifier or comment is an *Error at
// its start; the statements before it are returned with the error.
func Split(src string) ([]Stmt, error) {
	var out []Stmt
	err := splitScan(src, func(first, last Token) {
		off := first.Pos.Offset
		out = append(out, Stmt{Text: src[off:last.End], Pos: first.Pos})
	}, nil)
	return out, err
}

// Complete reports whether src ends, ignoring trailing whitespace and
// comments, with a ';' that terminates a statement outside any string,
// quoted identifier, dollar quote or comment: the interactive shell runs
// what it has read once Complete is true.
func Complete(src string) bool {
	var lastSemi bool
	err := splitScan(src, nil, func(t Token) { lastSemi = t.Kind == Punct && t.Text == ";" })
	return err == nil && lastSemi
}

// splitScan lexes src, calls stmt with the first and last token of each
// non-empty statement and each (optional) for every token but EOF.
func splitScan(src string, stmt func(first, last Token), each func(Token)) error {
	s := newScanner(src, Pos{Offset: 0, Line: 1, Col: 1})
	var first, last Token
	var lead leadWords
	n := 0 // tokens in the current statement
	for {
		t := s.next()
		if t.Kind == EOF {
			break
		}
		if t.Kind == Illegal && s.stopped {
			return &Error{Pos: t.Pos, Msg: t.Err}
		}
		if each != nil {
			each(t)
		}
		if t.Kind == Punct && t.Text == ";" {
			if n > 0 && stmt != nil {
				stmt(first, last)
			}
			n = 0
			lead = leadWords{}
			s.rikai = false
			continue
		}
		if n == 0 {
			first = t
		}
		last = t
		n++
		if lead.add(t) {
			s.rikai = true
		}
	}
	if n > 0 && stmt != nil {
		stmt(first, last)
	}
	return nil
}

// leadWords collects the first words of a statement to recognise a model
// statement before any string in it is lexed.
type leadWords struct {
	words [4]string
	n     int
}

// add records t and reports whether the words so far begin a model
// statement (CREATE [OR REPLACE] MODEL, DESC[RIBE] MODEL, DROP MODEL,
// SHOW MODELS).
func (l *leadWords) add(t Token) bool {
	if l.n >= len(l.words) {
		return false
	}
	w := ""
	if t.Kind == PlainIdent {
		w = strings.ToUpper(t.Text)
	}
	l.words[l.n] = w
	l.n++
	return isModelLead(l.words[:l.n])
}

func isModelLead(w []string) bool {
	switch len(w) {
	case 2:
		switch w[0] {
		case "CREATE", "DESC", "DESCRIBE", "DROP":
			return w[1] == "MODEL"
		case "SHOW":
			return w[1] == "MODELS"
		}
	case 4:
		return w[0] == "CREATE" && w[1] == "OR" && w[2] == "REPLACE" && w[3] == "MODEL"
	}
	return false
}
