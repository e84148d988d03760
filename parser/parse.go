package parser

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse inspects one statement (as produced by Split; start is its Pos).
// It returns (nil, nil) when the statement is not a model statement, so
// the engine passes it to DuckDB unchanged. A statement whose leading
// words make it a model statement is parsed completely, and anything
// malformed in it is an *Error with its exact position:
//
//	CREATE [OR REPLACE] MODEL ...       always a model statement
//	DESC[RIBE] MODEL name               when a token other than '.' or ';' follows MODEL
//	                                    (DESCRIBE model, DESCRIBE model.t: a table named model)
//	SHOW MODELS                         (SHOW MODELS.x is a table again)
//	SHOW MODEL STATS                    (SHOW model alone is DuckDB's: a table named model)
//	DROP MODEL [IF EXISTS] name
//
// Trailing ';'s are allowed. Keywords are case-insensitive. Strings in
// model statements follow Rikai: single- or double-quoted, a doubled quote
// or a backslash escape (\n \t \r \b \0 \' \" \\ \uXXXX; any other \x is
// x) inside.
func Parse(text string, start Pos) (Statement, error) {
	p := &parser{s: newScanner(text, start)}
	p.next()
	switch {
	case p.isKw("CREATE"):
		return p.create()
	case p.isKw("DESC"), p.isKw("DESCRIBE"):
		return p.describe()
	case p.isKw("SHOW"):
		return p.show()
	case p.isKw("DROP"):
		return p.drop()
	case p.isKw("SET"), p.isKw("RESET"):
		return p.set()
	}
	return nil, nil
}

// set parses SET [SESSION] name {= | TO} 'value' and RESET name for
// augur's own settings; anything else is DuckDB's (nil, nil).
func (p *parser) set() (Statement, error) {
	st := &SetOption{At: p.tok.Pos, Reset: p.isKw("RESET")}
	p.next()
	if p.isKw("SESSION") {
		p.next()
	}
	if p.tok.Kind != PlainIdent {
		return nil, nil
	}
	name := strings.ToLower(p.tok.Text)
	if _, ours := Settings[name]; !ours {
		return nil, nil
	}
	st.Name = name
	p.next()
	if !st.Reset {
		if !p.isPunct("=") && !p.isKw("TO") {
			return nil, p.expected("= or TO")
		}
		p.next()
		lit, ok := p.stringLit()
		if !ok {
			return nil, p.expected("a quoted value")
		}
		st.Value = lit.Value
		p.next()
	}
	for p.isPunct(";") {
		p.next()
	}
	if p.tok.Kind != EOF {
		return nil, p.errorf(p.tok.Pos, "unexpected %s after SET %s", describe(p.tok), name)
	}
	return st, nil
}

// result returns st, or only err when there is one (never a half-parsed
// statement beside an error).
func result(st Statement, err error) (Statement, error) {
	if err != nil {
		return nil, err
	}
	return st, nil
}

type parser struct {
	s   *scanner
	tok Token
}

func (p *parser) next() { p.tok = p.s.next() }

// isKw reports whether the current token is the plain keyword kw (in
// any case). Quoted identifiers are never keywords.
func (p *parser) isKw(kw string) bool {
	return p.tok.Kind == PlainIdent && strings.EqualFold(p.tok.Text, kw)
}

func (p *parser) isPunct(s string) bool { return p.tok.Kind == Punct && p.tok.Text == s }

// atEnd reports whether only ';'s remain.
func (p *parser) atEnd() bool { return p.tok.Kind == EOF || p.isPunct(";") }

// rikaiMode switches the scanner to Rikai's string rules. The current
// token has been lexed already, so call it while the current token is the
// keyword that makes the statement ours, before any string is read.
func (p *parser) rikaiMode() { p.s.rikai = true }

func (p *parser) errorf(pos Pos, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// expected reports that what was expected at the current token. An
// Illegal token reports its own problem (an unterminated string...).
func (p *parser) expected(what string) error {
	if p.tok.Kind == Illegal {
		return &Error{Pos: p.tok.Pos, Msg: p.tok.Err}
	}
	return p.errorf(p.tok.Pos, "expected %s, found %s", what, describe(p.tok))
}

// describe names a token for "found ..." in error messages.
func describe(t Token) string {
	if t.Kind == EOF {
		return "end of statement"
	}
	s := t.Text
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:37]) + "..."
	}
	return "'" + s + "'"
}

// end accepts optional ';'s and then the end of the statement.
func (p *parser) end() error {
	for p.isPunct(";") {
		p.next()
	}
	if p.tok.Kind != EOF {
		return p.expected("end of statement")
	}
	return nil
}

// expectKw consumes the keyword kw or reports what came instead.
func (p *parser) expectKw(kw, after string) error {
	if !p.isKw(kw) {
		return p.expected(kw + " after " + after)
	}
	p.next()
	return nil
}

// clauses are CREATE MODEL's clauses in the order they must appear.
var clauses = []string{"FLAVOR", "MODEL_TYPE", "OPTIONS", "RETURNS", "USING"}

func clauseIndex(t Token) int {
	if t.Kind != PlainIdent {
		return -1
	}
	for i, c := range clauses {
		if strings.EqualFold(t.Text, c) {
			return i
		}
	}
	return -1
}

func (p *parser) create() (Statement, error) {
	st := &CreateModel{At: p.tok.Pos}
	p.next()
	if p.isKw("OR") {
		p.next()
		if !p.isKw("REPLACE") {
			return nil, nil // CREATE OR <garbage>: DuckDB reports it
		}
		p.next()
		st.OrReplace = true
	}
	if !p.isKw("MODEL") {
		return nil, nil // CREATE TABLE, CREATE OR REPLACE VIEW, ...
	}
	p.rikaiMode()
	p.next()
	if p.isKw("IF") {
		ifPos := p.tok.Pos
		p.next()
		if err := p.expectKw("NOT", "IF"); err != nil {
			return nil, err
		}
		if err := p.expectKw("EXISTS", "IF NOT"); err != nil {
			return nil, err
		}
		if st.OrReplace {
			return nil, p.errorf(ifPos, "CREATE OR REPLACE MODEL IF NOT EXISTS is not allowed: use one or the other")
		}
		st.IfNotExists = true
	}
	var err error
	if st.Name, err = p.modelName(); err != nil {
		return nil, err
	}
	return result(st, p.createClauses(st))
}

// createClauses parses the optional clauses, which must come in the
// order of clauses, each at most once.
func (p *parser) createClauses(st *CreateModel) error {
	seen := make([]bool, len(clauses))
	last := -1
	for !p.atEnd() {
		i := clauseIndex(p.tok)
		if i < 0 {
			return p.expected(expectedClauses(last))
		}
		if seen[i] {
			return p.errorf(p.tok.Pos, "duplicate %s clause", clauses[i])
		}
		if i < last {
			for j := i + 1; j < len(clauses); j++ {
				if seen[j] {
					return p.errorf(p.tok.Pos, "%s must come before %s", clauses[i], clauses[j])
				}
			}
		}
		seen[i], last = true, i
		p.next()
		if err := p.clause(st, i); err != nil {
			return err
		}
	}
	return p.end()
}

func (p *parser) clause(st *CreateModel, i int) error {
	switch clauses[i] {
	case "FLAVOR":
		id, err := p.ident("flavor name after FLAVOR", true)
		st.Flavor = &id
		return err
	case "MODEL_TYPE":
		id, err := p.qualifiedName("model type after MODEL_TYPE", true)
		st.ModelType = &id
		return err
	case "OPTIONS":
		var err error
		st.Options, err = p.options()
		return err
	case "RETURNS":
		var err error
		st.Returns, err = p.dataType()
		return err
	default: // USING
		s, ok := p.stringLit()
		if !ok {
			return p.expected("a string (the model URI) after USING")
		}
		st.Using = &s
		p.next()
		return nil
	}
}

// expectedClauses lists what may follow when clause last was the last
// one given: "FLAVOR, MODEL_TYPE, OPTIONS, RETURNS, USING or end of
// statement".
func expectedClauses(last int) string {
	rest := clauses[last+1:]
	if len(rest) == 0 {
		return "end of statement"
	}
	return strings.Join(rest, ", ") + " or end of statement"
}

func (p *parser) describe() (Statement, error) {
	st := &DescribeModel{At: p.tok.Pos}
	p.next()
	if !p.isKw("MODEL") {
		return nil, nil // DESCRIBE tbl, DESCRIBE SELECT ...
	}
	p.rikaiMode()
	p.next()
	if p.atEnd() || p.isPunct(".") {
		return nil, nil // DESCRIBE model / DESCRIBE model.x: a table named model
	}
	var err error
	if st.Name, err = p.modelName(); err != nil {
		return nil, err
	}
	return result(st, p.end())
}

func (p *parser) show() (Statement, error) {
	st := &ShowModels{At: p.tok.Pos}
	p.next()
	if p.isKw("MODEL") {
		return p.showModelStats(st.At)
	}
	if !p.isKw("MODELS") {
		return nil, nil // SHOW TABLES, SHOW tbl, ...
	}
	p.rikaiMode()
	p.next()
	if p.isPunct(".") {
		return nil, nil // SHOW models.x: a table in schema models
	}
	for p.isPunct(";") {
		p.next()
	}
	if p.tok.Kind != EOF {
		if p.tok.Kind == Illegal {
			return nil, p.expected("")
		}
		return nil, p.errorf(p.tok.Pos, "unexpected %s after SHOW MODELS", describe(p.tok))
	}
	return st, nil
}

// showModelStats parses SHOW MODEL STATS, the current token being MODEL.
// SHOW model alone (or SHOW model.x) describes a table named model, so
// the statement is ours only when STATS follows.
func (p *parser) showModelStats(at Pos) (Statement, error) {
	p.next()
	if !p.isKw("STATS") {
		return nil, nil
	}
	p.rikaiMode()
	p.next()
	if p.isPunct(".") {
		return nil, nil
	}
	for p.isPunct(";") {
		p.next()
	}
	if p.tok.Kind != EOF {
		if p.tok.Kind == Illegal {
			return nil, p.expected("")
		}
		return nil, p.errorf(p.tok.Pos, "unexpected %s after SHOW MODEL STATS", describe(p.tok))
	}
	return &ShowModelStats{At: at}, nil
}

func (p *parser) drop() (Statement, error) {
	st := &DropModel{At: p.tok.Pos}
	p.next()
	if !p.isKw("MODEL") {
		return nil, nil // DROP TABLE ...
	}
	p.rikaiMode()
	p.next()
	if p.isKw("IF") {
		p.next()
		if err := p.expectKw("EXISTS", "DROP MODEL IF"); err != nil {
			return nil, err
		}
		st.IfExists = true
	}
	var err error
	if st.Name, err = p.modelName(); err != nil {
		return nil, err
	}
	return result(st, p.end())
}

// modelName parses a model name and checks it against Rikai's rule
// ^[a-zA-Z][a-zA-Z0-9_]{0,255}$. A dotted name is parsed whole so that
// the error shows all of it.
func (p *parser) modelName() (Ident, error) {
	id, err := p.qualifiedName("model name", true)
	if err != nil {
		return id, err
	}
	if !validModelName(id.Name) {
		return id, p.errorf(id.Pos, "model name '%s' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)", id.Name)
	}
	return id, nil
}

func validModelName(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !isDigit(c) && c != '_') {
			return false
		}
	}
	return true
}

// ident parses one identifier: plain, "double-quoted" or `back-quoted`.
// With reserved, the clause keywords are not accepted as plain names, so
// that CREATE MODEL USING 'x' says the name is missing.
func (p *parser) ident(what string, reserved bool) (Ident, error) {
	t := p.tok
	var id Ident
	switch t.Kind {
	case PlainIdent:
		if reserved && clauseIndex(t) >= 0 {
			return id, p.expected(what)
		}
		id = Ident{Name: t.Text, Pos: t.Pos}
	case QuotedIdent, BackquotedIdent:
		q := t.Text[:1]
		id = Ident{Name: strings.ReplaceAll(t.Text[1:len(t.Text)-1], q+q, q), Pos: t.Pos, Quoted: true}
	default:
		return id, p.expected(what)
	}
	p.next()
	return id, nil
}

// qualifiedName parses ident ('.' ident)* and joins the parts with ".".
func (p *parser) qualifiedName(what string, reserved bool) (Ident, error) {
	id, err := p.ident(what, reserved)
	if err != nil {
		return id, err
	}
	for p.isPunct(".") {
		p.next()
		part, err := p.ident("a name after '.'", false)
		if err != nil {
			return id, err
		}
		id.Name += "." + part.Name
		id.Quoted = id.Quoted || part.Quoted
	}
	return id, nil
}

// options parses ( key = value [, key = value]* ).
func (p *parser) options() ([]Option, error) {
	if !p.isPunct("(") {
		return nil, p.expected("'(' after OPTIONS")
	}
	p.next()
	if p.isPunct(")") {
		return nil, p.errorf(p.tok.Pos, "OPTIONS needs at least one key = value")
	}
	var opts []Option
	for {
		key, err := p.qualifiedName("option key", false)
		if err != nil {
			return nil, err
		}
		if !p.isPunct("=") && !p.isPunct("==") {
			return nil, p.expected("'=' after option key")
		}
		p.next()
		opt := Option{Key: key.Name, KeyPos: key.Pos, ValuePos: p.tok.Pos}
		if opt.Value, err = p.optionValue(); err != nil {
			return nil, err
		}
		opts = append(opts, opt)
		switch {
		case p.isPunct(","):
			p.next()
		case p.isPunct(")"):
			p.next()
			return opts, nil
		default:
			return nil, p.expected("',' or ')' after option value")
		}
	}
}

// optionValue parses a string, a number (with an optional leading '-';
// exponents such as 1e-3 are accepted too, which Rikai does not) or
// TRUE/FALSE, and returns it as a string.
func (p *parser) optionValue() (string, error) {
	const what = "option value (a string, a number, TRUE or FALSE)"
	if s, ok := p.stringLit(); ok {
		p.next()
		return s.Value, nil
	}
	switch {
	case p.tok.Kind == Number:
		v := p.tok.Text
		p.next()
		return v, nil
	case p.isPunct("-"):
		p.next()
		if p.tok.Kind != Number {
			return "", p.expected("a number after '-'")
		}
		v := "-" + p.tok.Text
		p.next()
		return v, nil
	case p.isKw("TRUE"), p.isKw("FALSE"):
		v := strings.ToLower(p.tok.Text)
		p.next()
		return v, nil
	}
	return "", p.expected(what)
}

// stringLit decodes the current token when it is a '...' or "..."
// string (in model statements "..." is a string where a value is
// expected). It does not advance.
func (p *parser) stringLit() (StringLit, bool) {
	t := p.tok
	if t.Kind == String && t.Text[0] == '\'' || t.Kind == QuotedIdent {
		return StringLit{Value: unescapeRikai(t.Text), Pos: t.Pos}, true
	}
	return StringLit{}, false
}

// unescapeRikai decodes a quoted string lexed in Rikai mode: the outer
// quotes are removed, a doubled quote is one quote, and backslash escapes
// are decoded as Spark's unescapeSQLString does for the common ones:
// \n \t \r \b \0 \' \" \\ \uXXXX (surrogate pairs combined); any other
// \x is x.
func unescapeRikai(raw string) string {
	q := raw[0]
	body := raw[1 : len(raw)-1]
	if strings.IndexByte(body, '\\') < 0 && strings.IndexByte(body, q) < 0 {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == q && i+1 < len(body) && body[i+1] == q:
			b.WriteByte(q)
			i++
		case c == '\\' && i+1 < len(body):
			i++
			if body[i] == 'u' {
				if r, n := hexRune(body[i+1:]); n > 0 {
					b.WriteRune(r)
					i += n
					continue
				}
			}
			b.WriteString(simpleEscape(body[i]))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func simpleEscape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case 'b':
		return "\b"
	case '0':
		return "\x00"
	}
	return string(c)
}

// hexRune decodes the XXXX of \uXXXX at the start of s (and a following
// \uXXXX low surrogate). It returns the bytes of s consumed, 0 if s does
// not start with four hex digits.
func hexRune(s string) (rune, int) {
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if r2, ok := hex4(s[6:]); ok {
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				return pair, 10
			}
		}
	}
	return r, 4
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// dataType parses a RETURNS type: Rikai's STRUCT<name:type, ...> and
// ARRAY<type>, the LIST<type> of Spark and Arrow, DuckDB's STRUCT(name
// type, ...) and type[] (as SHOW MODELS prints types), or a plain type
// name. STRUCT, ARRAY and LIST are keywords in any case.
func (p *parser) dataType() (*DataType, error) {
	t, err := p.baseType()
	if err != nil {
		return nil, err
	}
	for p.isPunct("[") { // DuckDB's type[] (any depth)
		pos := p.tok.Pos
		p.next()
		if !p.isPunct("]") {
			return nil, p.expected("']' after '[' in a type")
		}
		p.next()
		t = &DataType{Kind: ArrayType, Elem: t, Pos: pos}
	}
	return t, nil
}

func (p *parser) baseType() (*DataType, error) {
	t := p.tok
	if p.isKw("STRUCT") || p.isKw("ARRAY") || p.isKw("LIST") {
		kw := strings.ToUpper(t.Text)
		p.next()
		if kw == "STRUCT" && p.isPunct("(") {
			p.next()
			return p.structType(t.Pos, ')')
		}
		if !p.takeOp('<') {
			return nil, p.expected("'<' after " + kw)
		}
		if kw != "STRUCT" {
			return p.arrayType(t.Pos, kw)
		}
		return p.structType(t.Pos, '>')
	}
	id, err := p.ident("a type", false)
	if err != nil {
		return nil, err
	}
	return &DataType{Kind: PlainType, Name: id.Name, Pos: id.Pos}, nil
}

func (p *parser) arrayType(pos Pos, kw string) (*DataType, error) {
	elem, err := p.dataType()
	if err != nil {
		return nil, err
	}
	if !p.takeOp('>') {
		return nil, p.expected("'>' to close " + kw + "<")
	}
	return &DataType{Kind: ArrayType, Elem: elem, Pos: pos}, nil
}

// structType parses the fields of STRUCT<name:type, ...> (close is '>')
// or STRUCT(name type, ...) (close is ')'; the ':' is optional there).
func (p *parser) structType(pos Pos, close byte) (*DataType, error) {
	st := &DataType{Kind: StructType, Pos: pos}
	open := "STRUCT<"
	if close == ')' {
		open = "STRUCT("
	}
	for {
		name, err := p.ident("a field name", false)
		if err != nil {
			return nil, err
		}
		if p.isPunct(":") {
			p.next()
		} else if close == '>' {
			return nil, p.expected("':' after field name")
		}
		ft, err := p.dataType()
		if err != nil {
			return nil, err
		}
		st.Fields = append(st.Fields, StructField{Name: name.Name, Type: ft, Pos: name.Pos})
		if p.isPunct(",") {
			p.next()
			continue
		}
		if close == ')' {
			if !p.isPunct(")") {
				return nil, p.expected("',' or ')' in " + open)
			}
			p.next()
			return st, nil
		}
		if !p.takeOp('>') {
			return nil, p.expected("',' or '>' in " + open)
		}
		return st, nil
	}
}

// takeOp consumes the single character c from the current operator
// token. The lexer reads ">>" in ARRAY<ARRAY<int>> (or "<>", ">=") as
// one operator; here it is split and the rest stays the current token.
func (p *parser) takeOp(c byte) bool {
	t := p.tok
	if t.Kind != Punct || t.Text[0] != c {
		return false
	}
	if len(t.Text) == 1 {
		p.next()
		return true
	}
	p.tok.Text = t.Text[1:]
	p.tok.Pos.Offset++
	p.tok.Pos.Col++ // operators are ASCII and on one line
	return true
}
