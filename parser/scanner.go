package parser

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a Token.
type Kind int

// Token kinds.
const (
	Illegal         Kind = iota // an unterminated literal or comment, or an unexpected character; see Token.Err
	EOF                         // end of input
	PlainIdent                  // plain identifier or keyword: select, ml_predict, a$b (not "Ident": that name is the AST type)
	QuotedIdent                 // "double-quoted identifier"
	BackquotedIdent             // `back-quoted identifier`
	String                      // 'string', E'escape string' (X'..' lexes as PlainIdent then String)
	DollarString                // $$...$$ or $tag$...$tag$
	Number                      // 12, 1.5, .5, 1., 1e-3
	Param                       // $1, $name, ?, ?1
	Punct                       // ( ) , ; . [ ] { } : :: and operators
)

var kindNames = [...]string{
	Illegal: "Illegal", EOF: "EOF", PlainIdent: "PlainIdent", QuotedIdent: "QuotedIdent",
	BackquotedIdent: "BackquotedIdent", String: "String", DollarString: "DollarString",
	Number: "Number", Param: "Param", Punct: "Punct",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Token is one lexical token. Text is the exact source text (for EOF the
// empty string). Pos is where it starts and End the absolute byte offset
// just after it. Err is set for Illegal tokens only: "unterminated string
// literal", "unexpected character '\\'", ...
type Token struct {
	Kind Kind
	Text string
	Pos  Pos
	End  int
	Err  string
}

// Tokens lexes src, whose first byte is at position start. Whitespace and
// comments (-- to end of line, nested /* */) are skipped. The result ends
// with an EOF token, or with an Illegal token when a string, quoted
// identifier, dollar-quoted string or comment is unterminated (lexing
// stops there). An unexpected character gives an Illegal token too, but
// lexing goes on after it. Strings follow DuckDB: a backslash is an
// ordinary character except in E'...' strings.
func Tokens(src string, start Pos) []Token {
	s := newScanner(src, start)
	var toks []Token
	for {
		t := s.next()
		toks = append(toks, t)
		if t.Kind == EOF || s.stopped {
			return toks
		}
	}
}

// scanner produces tokens on demand, so Parse can decide from the first
// few words whether a statement is a model statement and switch to
// Rikai's string rules (rikai) before any string is lexed.
type scanner struct {
	src string
	off int // relative offset of the next byte to read
	cur cursor
	end int // absolute offset of len(src), for EOF.End

	// rikai makes a backslash escape the next character inside '...' and
	// "..." (Rikai's lexer), so 'it\'s' is one string.
	rikai bool
	// stopped is set after an unterminated literal or comment: nothing
	// after it can be lexed reliably.
	stopped bool
}

func newScanner(src string, start Pos) *scanner {
	return &scanner{src: src, cur: newCursor(src, start), end: start.Offset + len(src)}
}

func (s *scanner) token(k Kind, from int) Token {
	return Token{Kind: k, Text: s.src[from:s.off], Pos: s.cur.at(from), End: s.cur.base.Offset + s.off}
}

// illegal returns an Illegal token for src[from:s.off]. Unterminated
// constructs set stop, because the rest of the input is inside them.
func (s *scanner) illegal(from int, msg string, stop bool) Token {
	t := s.token(Illegal, from)
	t.Err = msg
	s.stopped = s.stopped || stop
	return t
}

func (s *scanner) next() Token {
	if s.stopped {
		s.off = len(s.src)
		return s.token(EOF, s.off)
	}
	if t, ok := s.skipSpace(); !ok {
		return t
	}
	from := s.off
	if from >= len(s.src) {
		return s.token(EOF, from)
	}
	c := s.src[from]
	switch {
	case (c == 'E' || c == 'e') && s.peek(1) == '\'':
		s.off++ // the E prefix belongs to the string token
		return s.quoted(from, '\'', true, String, "unterminated string literal")
	case isIdentStart(c):
		s.off++
		for s.off < len(s.src) && isIdentCont(s.src[s.off]) {
			s.off++
		}
		return s.token(PlainIdent, from)
	case isDigit(c) || c == '.' && isDigit(s.peek(1)):
		return s.number(from)
	case c == '\'':
		return s.quoted(from, '\'', s.rikai, String, "unterminated string literal")
	case c == '"':
		return s.quoted(from, '"', s.rikai, QuotedIdent, "unterminated quoted identifier")
	case c == '`':
		return s.quoted(from, '`', false, BackquotedIdent, "unterminated back-quoted identifier")
	case c == '$':
		return s.dollar(from)
	case c == '?':
		s.off++
		s.digits()
		return s.token(Param, from)
	}
	if op := matchOp(s.src[from:]); op != "" {
		s.off += len(op)
		return s.token(Punct, from)
	}
	r, n := utf8.DecodeRuneInString(s.src[from:])
	s.off += n
	return s.illegal(from, fmt.Sprintf("unexpected character %q", r), false)
}

func (s *scanner) peek(i int) byte {
	if s.off+i < len(s.src) {
		return s.src[s.off+i]
	}
	return 0
}

// skipSpace skips whitespace and comments. It returns ok == false and an
// Illegal token for an unterminated block comment.
func (s *scanner) skipSpace() (Token, bool) {
	for s.off < len(s.src) {
		switch c := s.src[s.off]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.off++
		case c == '-' && s.peek(1) == '-':
			if i := strings.IndexByte(s.src[s.off:], '\n'); i >= 0 {
				s.off += i + 1
			} else {
				s.off = len(s.src)
			}
		case c == '/' && s.peek(1) == '*':
			if t, ok := s.blockComment(); !ok {
				return t, false
			}
		default:
			return Token{}, true
		}
	}
	return Token{}, true
}

// blockComment skips a /* */ comment; like PostgreSQL and DuckDB, these
// nest. It returns ok == false and an Illegal token when the comment
// never ends.
func (s *scanner) blockComment() (Token, bool) {
	from := s.off
	depth := 0
	for s.off < len(s.src) {
		switch {
		case s.src[s.off] == '/' && s.peek(1) == '*':
			depth++
			s.off += 2
		case s.src[s.off] == '*' && s.peek(1) == '/':
			depth--
			s.off += 2
			if depth == 0 {
				return Token{}, true
			}
		default:
			s.off++
		}
	}
	return s.illegal(from, "unterminated /* comment", true), false
}

// quoted scans a literal delimited by q in which a doubled q stands for
// one q and, when backslash is set, a backslash escapes the next byte.
func (s *scanner) quoted(from int, q byte, backslash bool, k Kind, unterminated string) Token {
	s.off++ // opening quote
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case backslash && c == '\\':
			s.off += 2
		case c == q && s.peek(1) == q:
			s.off += 2
		case c == q:
			s.off++
			return s.token(k, from)
		default:
			s.off++
		}
	}
	s.off = len(s.src)
	return s.illegal(from, unterminated, true)
}

// number scans digits [. digits] [e [+-] digits] or . digits [exponent].
func (s *scanner) number(from int) Token {
	s.digits()
	if s.peek(0) == '.' {
		s.off++
		s.digits()
	}
	if c := s.peek(0); c == 'e' || c == 'E' {
		switch {
		case isDigit(s.peek(1)):
			s.off++
			s.digits()
		case (s.peek(1) == '+' || s.peek(1) == '-') && isDigit(s.peek(2)):
			s.off += 2
			s.digits()
		}
	}
	return s.token(Number, from)
}

func (s *scanner) digits() {
	for s.off < len(s.src) && isDigit(s.src[s.off]) {
		s.off++
	}
}

// dollar scans $1 and $name parameters and $$...$$ / $tag$...$tag$
// strings (PostgreSQL's rules, which DuckDB shares).
func (s *scanner) dollar(from int) Token {
	s.off++
	if isDigit(s.peek(0)) {
		s.digits()
		return s.token(Param, from)
	}
	tagEnd := s.off
	if tagEnd < len(s.src) && isIdentStart(s.src[tagEnd]) {
		for tagEnd < len(s.src) && (isIdentStart(s.src[tagEnd]) || isDigit(s.src[tagEnd])) {
			tagEnd++
		}
	}
	if tagEnd >= len(s.src) || s.src[tagEnd] != '$' {
		if tagEnd > s.off { // $name: a named parameter
			s.off = tagEnd
			return s.token(Param, from)
		}
		return s.token(Punct, from) // a lone '$'
	}
	delim := s.src[from : tagEnd+1]
	body := tagEnd + 1
	i := strings.Index(s.src[body:], delim)
	if i < 0 {
		s.off = len(s.src)
		return s.illegal(from, "unterminated dollar-quoted string", true)
	}
	s.off = body + i + len(delim)
	return s.token(DollarString, from)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart accepts ASCII letters, '_' and every non-ASCII byte, as
// DuckDB's scanner does (so identifiers may contain any UTF-8 letter).
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// ops lists the operators, longest first so that matchOp finds the
// longest match. The lexer does not need to know every DuckDB operator:
// an unknown sequence of these characters just becomes several tokens.
var ops = []string{
	"!~~*",
	"->>", "!~~", "~~*", "!~*", "<->", "<=>",
	"::", "->", "<>", "!=", "<=", ">=", "==", "||", "<<", ">>", "**", "//",
	"~~", "!~", "~*", "&&", "@>", "<@", ":=", "=>", "^@",
	"(", ")", ",", ";", ".", "[", "]", "{", "}", ":", "=", "<", ">", "+", "-",
	"*", "/", "%", "|", "&", "^", "~", "!", "@", "#",
}

func matchOp(s string) string {
	for _, op := range ops {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}
