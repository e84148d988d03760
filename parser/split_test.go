package parser

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Stmt
	}{
		{"empty", "", nil},
		{"only space and comments", " \n-- c\n/* d */ ;; ;", nil},
		{"one without semicolon", "SELECT 1", []Stmt{{"SELECT 1", at(0, 1, 1)}}},
		{"two", "SELECT 1; SELECT 2;", []Stmt{{"SELECT 1", at(0, 1, 1)}, {"SELECT 2", at(10, 1, 11)}}},
		{"leading and trailing comments trimmed, inner kept", "-- head\n  SELECT /* in; */ 1 -- tail;\n;",
			[]Stmt{{"SELECT /* in; */ 1", at(10, 2, 3)}}},
		{"strings", "SELECT 'a;b', 'it''s;'; SELECT \"x;y\"",
			[]Stmt{{"SELECT 'a;b', 'it''s;'", at(0, 1, 1)}, {`SELECT "x;y"`, at(24, 1, 25)}}},
		{"backslash is ordinary in DuckDB strings", `SELECT 'a\'; SELECT 2`,
			[]Stmt{{`SELECT 'a\'`, at(0, 1, 1)}, {"SELECT 2", at(13, 1, 14)}}},
		{"E strings honour backslash", `SELECT E'a\';b'; SELECT 2`,
			[]Stmt{{`SELECT E'a\';b'`, at(0, 1, 1)}, {"SELECT 2", at(17, 1, 18)}}},
		{"dollar quotes", "SELECT $$a;b$$; SELECT $tag$ $$; $tag$;SELECT $1",
			[]Stmt{{"SELECT $$a;b$$", at(0, 1, 1)}, {"SELECT $tag$ $$; $tag$", at(16, 1, 17)}, {"SELECT $1", at(39, 1, 40)}}},
		{"backquotes", "SELECT `a;b`; x", []Stmt{{"SELECT `a;b`", at(0, 1, 1)}, {"x", at(14, 1, 15)}}},
		{"nested comment", "SELECT /* a /* b; */ c; */ 1; x", []Stmt{{"SELECT /* a /* b; */ c; */ 1", at(0, 1, 1)}, {"x", at(30, 1, 31)}}},
		{"model statements use Rikai strings", `CREATE MODEL m USING 'a\'; b'; SELECT 'c\';`,
			[]Stmt{{`CREATE MODEL m USING 'a\'; b'`, at(0, 1, 1)}, {`SELECT 'c\'`, at(31, 1, 32)}}},
		{"or replace model too", `create or replace model m OPTIONS (x = "q\";") ; DESC MODEL "a\";"`,
			[]Stmt{{`create or replace model m OPTIONS (x = "q\";")`, at(0, 1, 1)}, {`DESC MODEL "a\";"`, at(49, 1, 50)}}},
		{"multi-line positions", "SELECT 1;\n\n  é; SELECT\n 2",
			[]Stmt{{"SELECT 1", at(0, 1, 1)}, {"é", at(13, 3, 3)}, {"SELECT\n 2", at(17, 3, 6)}}},
		{"unexpected characters are statement text", `SELECT \ ; x`, []Stmt{{`SELECT \`, at(0, 1, 1)}, {"x", at(11, 1, 12)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.src)
			if err != nil {
				t.Fatalf("Split(%q): %v", tt.src, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q)\n got  %q\n want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		src   string
		stmts int
		want  string
	}{
		{"SELECT 1; SELECT 'abc", 1, "line 1, column 18: unterminated string literal"},
		{"SELECT \"abc", 0, "line 1, column 8: unterminated quoted identifier"},
		{"SELECT `abc", 0, "line 1, column 8: unterminated back-quoted identifier"},
		{"SELECT 1;\n/* a /* b */", 1, "line 2, column 1: unterminated /* comment"},
		{"SELECT $x$ abc $y$", 0, "line 1, column 8: unterminated dollar-quoted string"},
		{`SELECT E'abc\'`, 0, "line 1, column 8: unterminated string literal"},
		{`CREATE MODEL m USING 'abc\'`, 0, "line 1, column 22: unterminated string literal"},
	}
	for _, tt := range tests {
		got, err := Split(tt.src)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Split(%q) error = %v, want %q", tt.src, err, tt.want)
		}
		if len(got) != tt.stmts {
			t.Errorf("Split(%q) returned %d statements with the error, want %d", tt.src, len(got), tt.stmts)
		}
	}
}

func TestComplete(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"", false},
		{"SELECT 1", false},
		{"SELECT 1;", true},
		{"SELECT 1;  \n", true},
		{"SELECT 1; -- done", true},
		{"SELECT 1; /* done */", true},
		{"SELECT 1; SELECT", false},
		{"SELECT ';", false},
		{"SELECT ';';", true},
		{"SELECT 1 /* ; */", false},
		{"SELECT 1; /* open", false},
		{"SELECT 1 -- ;", false},
		{"SELECT $$;", false},
		{"SELECT $$;$$;", true},
		{`CREATE MODEL m USING 'a\';`, false},
		{`CREATE MODEL m USING 'a\';';`, true},
		{`SELECT 'a\';`, true},
		{";", true},
	}
	for _, tt := range tests {
		if got := Complete(tt.src); got != tt.want {
			t.Errorf("Complete(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestTokens(t *testing.T) {
	src := "SELECT x::int, a->>'k', \"Q\"\"d\", `b`, E'\\n', $$d$$, $1, ?, 1.5e-3, .5, 1., a<>b, a != b, c || d -- c\n;"
	type tok struct {
		k    Kind
		text string
	}
	want := []tok{
		{PlainIdent, "SELECT"}, {PlainIdent, "x"}, {Punct, "::"}, {PlainIdent, "int"}, {Punct, ","},
		{PlainIdent, "a"}, {Punct, "->>"}, {String, "'k'"}, {Punct, ","},
		{QuotedIdent, `"Q""d"`}, {Punct, ","}, {BackquotedIdent, "`b`"}, {Punct, ","},
		{String, `E'\n'`}, {Punct, ","}, {DollarString, "$$d$$"}, {Punct, ","},
		{Param, "$1"}, {Punct, ","}, {Param, "?"}, {Punct, ","},
		{Number, "1.5e-3"}, {Punct, ","}, {Number, ".5"}, {Punct, ","}, {Number, "1."}, {Punct, ","},
		{PlainIdent, "a"}, {Punct, "<>"}, {PlainIdent, "b"}, {Punct, ","},
		{PlainIdent, "a"}, {Punct, "!="}, {PlainIdent, "b"}, {Punct, ","},
		{PlainIdent, "c"}, {Punct, "||"}, {PlainIdent, "d"}, {Punct, ";"}, {EOF, ""},
	}
	toks := Tokens(src, origin)
	var got []tok
	for _, t := range toks {
		got = append(got, tok{t.Kind, t.Text})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tokens(%q)\n got  %v\n want %v", src, got, want)
	}
	for _, tk := range toks {
		if tk.Kind != EOF && src[tk.Pos.Offset:tk.End] != tk.Text {
			t.Errorf("token %q: Pos/End cover %q", tk.Text, src[tk.Pos.Offset:tk.End])
		}
	}
}

func TestTokensUnterminated(t *testing.T) {
	toks := Tokens("a 'b", Pos{Offset: 10, Line: 2, Col: 4})
	if len(toks) != 2 {
		t.Fatalf("got %d tokens, want 2: %v", len(toks), toks)
	}
	il := toks[1]
	if il.Kind != Illegal || il.Text != "'b" || il.Err != "unterminated string literal" ||
		il.Pos != (Pos{Offset: 12, Line: 2, Col: 6}) || il.End != 14 {
		t.Errorf("got %+v", il)
	}
}

// FuzzSplit checks that Split never panics, that its pieces are slices of
// the input at their positions, in order, and that outside them there is
// only whitespace, comments and ';'.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2", "CREATE MODEL m USING 'a\\'; b'; x", "SELECT $a$;$a$; /* /* */ */ -- x\n;",
		"SELECT E'\\'';", "select `a``b`; \"c\"\"d\"", "é;;ü", "SELECT 'x", "/*", "$$", "a--b\n;c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := Split(src)
		prev := 0
		var rest strings.Builder
		for _, s := range stmts {
			off := s.Pos.Offset
			if off < prev || off+len(s.Text) > len(src) || src[off:off+len(s.Text)] != s.Text {
				t.Fatalf("statement %q at %d is not the input's text there", s.Text, off)
			}
			if s.Text == "" {
				t.Fatalf("empty statement")
			}
			c := newCursor(src, origin)
			if got := c.at(off); got != s.Pos {
				t.Fatalf("statement %q: Pos %v, want %v", s.Text, s.Pos, got)
			}
			rest.WriteString(src[prev:off])
			rest.WriteString(" ")
			prev = off + len(s.Text)
		}
		if err != nil {
			return // the part after the last statement holds the unterminated thing
		}
		rest.WriteString(src[prev:])
		// What lies between statements must lex to nothing but ';'.
		for _, tk := range Tokens(rest.String(), origin) {
			if tk.Kind != EOF && !(tk.Kind == Punct && tk.Text == ";") {
				t.Fatalf("Split(%q) left out %v %q", src, tk.Kind, tk.Text)
			}
		}
		_ = Complete(src)
	})
}

// FuzzParse checks that Parse never panics, that it never returns both a
// statement and an error, and that error positions lie within the text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CREATE MODEL m FLAVOR f MODEL_TYPE a.b OPTIONS (a.b=1, c='\\u00e9', d=-1.5, e=TRUE) RETURNS STRUCT<a:ARRAY<int>> USING 'x';",
		"DROP MODEL IF EXISTS m", "DESC MODEL m", "SHOW MODELS", "CREATE MODEL m RETURNS ARRAY<ARRAY<x>>",
		"CREATE OR REPLACE MODEL IF NOT EXISTS m", "SELECT 1", "CREATE MODEL m USING 'a\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		start := Pos{Offset: 5, Line: 2, Col: 3}
		st, err := Parse(src, start)
		if st != nil && err != nil {
			t.Fatalf("Parse(%q) returned a statement and an error", src)
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q): error %T", src, err)
			}
			if e.Pos.Offset < start.Offset || e.Pos.Offset > start.Offset+len(src) {
				t.Fatalf("Parse(%q): error position %v outside the text", src, e.Pos)
			}
		}
	})
}
