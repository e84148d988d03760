package parser

import (
	"reflect"
	"strings"
	"testing"
)

var origin = Pos{Offset: 0, Line: 1, Col: 1}

func at(off, line, col int) Pos { return Pos{Offset: off, Line: line, Col: col} }

func TestParseCreateModel(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want *CreateModel
	}{
		{"minimal", "CREATE MODEL m",
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(13, 1, 14)}}},
		{"lower case and trailing semicolons", "create model Foo_1;;",
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "Foo_1", Pos: at(13, 1, 14)}}},
		{"or replace", "Create Or Replace Model m USING '/tmp/m.pt'",
			&CreateModel{At: at(0, 1, 1), OrReplace: true, Name: Ident{Name: "m", Pos: at(24, 1, 25)},
				Using: &StringLit{Value: "/tmp/m.pt", Pos: at(32, 1, 33)}}},
		{"if not exists", "CREATE MODEL if not exists m",
			&CreateModel{At: at(0, 1, 1), IfNotExists: true, Name: Ident{Name: "m", Pos: at(27, 1, 28)}}},
		{"double-quoted name", `CREATE MODEL "MyModel"`,
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "MyModel", Pos: at(13, 1, 14), Quoted: true}}},
		{"back-quoted name", "CREATE MODEL `my_model`",
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "my_model", Pos: at(13, 1, 14), Quoted: true}}},
		{"nonreserved word as name", "CREATE MODEL models",
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "models", Pos: at(13, 1, 14)}}},
		{"all clauses", "CREATE MODEL m FLAVOR pytorch MODEL_TYPE rikai.contrib.ssd OPTIONS (a=1) RETURNS int USING 'u'",
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(13, 1, 14)},
				Flavor:    &Ident{Name: "pytorch", Pos: at(22, 1, 23)},
				ModelType: &Ident{Name: "rikai.contrib.ssd", Pos: at(41, 1, 42)},
				Options:   []Option{{Key: "a", Value: "1", KeyPos: at(68, 1, 69), ValuePos: at(70, 1, 71)}},
				Returns:   &DataType{Kind: PlainType, Name: "int", Pos: at(81, 1, 82)},
				Using:     &StringLit{Value: "u", Pos: at(91, 1, 92)}}},
		{"quoted flavor and model type parts", "CREATE MODEL m FLAVOR \"Py\" MODEL_TYPE `a`.\"b\".c",
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(13, 1, 14)},
				Flavor:    &Ident{Name: "Py", Pos: at(22, 1, 23), Quoted: true},
				ModelType: &Ident{Name: "a.b.c", Pos: at(38, 1, 39), Quoted: true}}},
		{"comments everywhere", "/* lead */ CREATE -- c\n MODEL /* x /* nested */ */ m\n\tUSING -- u\n 'x' -- end",
			&CreateModel{At: at(11, 1, 12), Name: Ident{Name: "m", Pos: at(51, 2, 29)},
				Using: &StringLit{Value: "x", Pos: at(66, 4, 2)}}},
		{"double-quoted USING", `CREATE MODEL m USING "s3://b/k"`,
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(13, 1, 14)},
				Using: &StringLit{Value: "s3://b/k", Pos: at(21, 1, 22)}}},
		{"USING escapes", `CREATE MODEL m USING 'it\'s ''q'' \u00e9'`,
			&CreateModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(13, 1, 14)},
				Using: &StringLit{Value: "it's 'q' é", Pos: at(21, 1, 22)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.src, origin)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.src, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got  %#v\n want %#v", tt.src, got, tt.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		src  string
		want [][2]string // key, value
	}{
		{"rikai.foo.bar=1.23, foo='bar', num=-1.23, batch=10, flag=True",
			[][2]string{{"rikai.foo.bar", "1.23"}, {"foo", "bar"}, {"num", "-1.23"}, {"batch", "10"}, {"flag", "true"}}},
		{"a == FALSE, b = false, c = TRUE", [][2]string{{"a", "false"}, {"b", "false"}, {"c", "true"}}},
		{"a = .5, b = 1., c = 1e-3, d = -2E5, e = 0", [][2]string{{"a", ".5"}, {"b", "1."}, {"c", "1e-3"}, {"d", "-2E5"}, {"e", "0"}}},
		{`s = "double \"quoted\""`, [][2]string{{"s", `double "quoted"`}}},
		{`s = 'a\nb\tc\rd\be\0f\\g\'h\"i\zj'`, [][2]string{{"s", "a\nb\tc\rd\be\x00f\\g'h\"izj"}}},
		{`s = 'it''s', t = "say ""hi"""`, [][2]string{{"s", "it's"}, {"t", `say "hi"`}}},
		{`s = '\u0041\u00e9\ud83d\ude00\u12'`, [][2]string{{"s", "Aé😀u12"}}},
		{`s = ''`, [][2]string{{"s", ""}}},
		{"dup = 1, dup = 2", [][2]string{{"dup", "1"}, {"dup", "2"}}},
		{"`q k`.\"x\" = 1", [][2]string{{"q k.x", "1"}}},
		{"using = 1, options = 2", [][2]string{{"using", "1"}, {"options", "2"}}},
		{"/*c*/ a /*c*/ = /*c*/ 'v' /*c*/", [][2]string{{"a", "v"}}},
		{"a = - 1", [][2]string{{"a", "-1"}}},
	}
	for _, tt := range tests {
		src := "CREATE MODEL m OPTIONS (" + tt.src + ")"
		st, err := Parse(src, origin)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		var got [][2]string
		for _, o := range st.(*CreateModel).Options {
			got = append(got, [2]string{o.Key, o.Value})
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) options = %q, want %q", src, got, tt.want)
		}
	}
}

func TestParseOptionPositions(t *testing.T) {
	st, err := Parse("CREATE MODEL m OPTIONS (a.b = 1,\n  c=-2)", origin)
	if err != nil {
		t.Fatal(err)
	}
	want := []Option{
		{Key: "a.b", Value: "1", KeyPos: at(24, 1, 25), ValuePos: at(30, 1, 31)},
		{Key: "c", Value: "-2", KeyPos: at(35, 2, 3), ValuePos: at(37, 2, 5)},
	}
	if got := st.(*CreateModel).Options; !reflect.DeepEqual(got, want) {
		t.Errorf("options = %+v, want %+v", got, want)
	}
}

func TestParseReturns(t *testing.T) {
	tests := []struct{ src, want string }{
		{"int", "int"},
		{"STRING", "STRING"},
		{`"my type"`, "my type"},
		{"array<float>", "ARRAY<float>"},
		{"ARRAY<ARRAY<int>>", "ARRAY<ARRAY<int>>"},
		{"ARRAY<ARRAY<ARRAY<int>>>", "ARRAY<ARRAY<ARRAY<int>>>"},
		{"STRUCT<foo:int, bar:ARRAY<STRING>>", "STRUCT<foo:int, bar:ARRAY<STRING>>"},
		{"struct<foo:int,bar:array<Box2d>>", "STRUCT<foo:int, bar:ARRAY<Box2d>>"},
		{"STRUCT<a:STRUCT<b:ARRAY<STRUCT<c:int>>>>", "STRUCT<a:STRUCT<b:ARRAY<STRUCT<c:int>>>>"},
		{"ARRAY < STRUCT < box : box2d , label : string > >", "ARRAY<STRUCT<box:box2d, label:string>>"},
	}
	for _, tt := range tests {
		src := "CREATE MODEL m RETURNS " + tt.src + " USING 'x'"
		st, err := Parse(src, origin)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		cm := st.(*CreateModel)
		if got := cm.Returns.String(); got != tt.want {
			t.Errorf("Parse(%q) returns %s, want %s", src, got, tt.want)
		}
		if cm.Using == nil || cm.Using.Value != "x" {
			t.Errorf("Parse(%q): USING lost after RETURNS", src)
		}
	}
}

func TestParseReturnsTree(t *testing.T) {
	st, err := Parse("CREATE MODEL m RETURNS STRUCT<a:int, b:ARRAY<x>>", origin)
	if err != nil {
		t.Fatal(err)
	}
	want := &DataType{Kind: StructType, Pos: at(23, 1, 24), Fields: []StructField{
		{Name: "a", Pos: at(30, 1, 31), Type: &DataType{Kind: PlainType, Name: "int", Pos: at(32, 1, 33)}},
		{Name: "b", Pos: at(37, 1, 38), Type: &DataType{Kind: ArrayType, Pos: at(39, 1, 40),
			Elem: &DataType{Kind: PlainType, Name: "x", Pos: at(45, 1, 46)}}},
	}}
	if got := st.(*CreateModel).Returns; !reflect.DeepEqual(got, want) {
		t.Errorf("returns = %#v, want %#v", got, want)
	}
}

func TestParseOtherModelStatements(t *testing.T) {
	tests := []struct {
		src  string
		want Statement
	}{
		{"SHOW MODELS", &ShowModels{At: at(0, 1, 1)}},
		{"show models ;", &ShowModels{At: at(0, 1, 1)}},
		{"  Show /* c */ Models -- x", &ShowModels{At: at(2, 1, 3)}},
		{"DESCRIBE MODEL m", &DescribeModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(15, 1, 16)}}},
		{"desc model `M1`;", &DescribeModel{At: at(0, 1, 1), Name: Ident{Name: "M1", Pos: at(11, 1, 12), Quoted: true}}},
		{"DROP MODEL m", &DropModel{At: at(0, 1, 1), Name: Ident{Name: "m", Pos: at(11, 1, 12)}}},
		{"drop model if exists \"m\"", &DropModel{At: at(0, 1, 1), IfExists: true, Name: Ident{Name: "m", Pos: at(21, 1, 22), Quoted: true}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.src, origin)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.src, got, tt.want)
		}
		if got.Pos() != tt.want.Pos() {
			t.Errorf("Parse(%q).Pos() = %v", tt.src, got.Pos())
		}
	}
}

func TestParsePassThrough(t *testing.T) {
	for _, src := range []string{
		"SELECT 1",
		"select * from model",
		"CREATE TABLE model (a int)",
		"CREATE TABLE models AS SELECT 'it\\'s' AS x",
		"CREATE OR REPLACE TABLE t (a int)",
		"CREATE OR REPLACE VIEW v AS SELECT 1",
		"CREATE OR REPLACE MACRO f(x) AS x",
		"CREATE OR model",
		"CREATE",
		"",
		"-- only a comment",
		"DESCRIBE tbl",
		"DESCRIBE SELECT 1",
		"DESCRIBE model",
		"DESC model",
		"describe model ;",
		"DESCRIBE model.tbl",
		"DESCRIBE models",
		"SHOW TABLES",
		"SHOW models.tbl",
		"SHOW",
		"DROP TABLE model",
		"DROP VIEW v",
		`"CREATE" MODEL m`,
		"INSERT INTO model VALUES ('a\\')",
		"EXPLAIN CREATE MODEL m",
	} {
		st, err := Parse(src, origin)
		if st != nil || err != nil {
			t.Errorf("Parse(%q) = %#v, %v; want nil, nil (DuckDB's)", src, st, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 257)
	tests := []struct{ src, want string }{
		// names
		{"CREATE MODEL", "line 1, column 13: expected model name, found end of statement"},
		{"CREATE MODEL ;", "line 1, column 14: expected model name, found ';'"},
		{"CREATE MODEL USING 'x'", "line 1, column 14: expected model name, found 'USING'"},
		{"CREATE MODEL 123_abc", "line 1, column 14: expected model name, found '123'"},
		{"CREATE MODEL _abc", "line 1, column 14: model name '_abc' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)"},
		{`CREATE MODEL "ab@c"`, "line 1, column 14: model name 'ab@c' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)"},
		{`CREATE MODEL "a""b"`, `line 1, column 14: model name 'a"b' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)`},
		{"CREATE MODEL a.b", "line 1, column 14: model name 'a.b' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)"},
		{"CREATE MODEL a.", "line 1, column 16: expected a name after '.', found end of statement"},
		{"CREATE MODEL é1", "line 1, column 14: model name 'é1' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)"},
		{"CREATE MODEL " + long, "line 1, column 14: model name '" + long + "' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)"},
		{"CREATE MODEL ``", "line 1, column 14: model name '' is not valid: it must start with a letter and contain only letters, digits and _ (at most 256 characters)"},
		{"DROP MODEL", "line 1, column 11: expected model name, found end of statement"},
		{"DROP MODEL;", "line 1, column 11: expected model name, found ';'"},
		{"DROP MODEL IF m", "line 1, column 15: expected EXISTS after DROP MODEL IF, found 'm'"},
		{"DROP MODEL if exists", "line 1, column 21: expected model name, found end of statement"},
		{"DROP MODEL 1x", "line 1, column 12: expected model name, found '1'"},
		{"DROP MODEL m n", "line 1, column 14: expected end of statement, found 'n'"},
		{"DESCRIBE MODEL 'm'", "line 1, column 16: expected model name, found ''m''"},
		{"DESC MODEL m extra", "line 1, column 14: expected end of statement, found 'extra'"},
		{"DESC MODEL 9", "line 1, column 12: expected model name, found '9'"},
		// OR REPLACE / IF NOT EXISTS
		{"CREATE OR REPLACE MODEL IF NOT EXISTS m", "line 1, column 25: CREATE OR REPLACE MODEL IF NOT EXISTS is not allowed: use one or the other"},
		{"CREATE MODEL IF EXISTS m", "line 1, column 17: expected NOT after IF, found 'EXISTS'"},
		{"CREATE MODEL IF NOT m", "line 1, column 21: expected EXISTS after IF NOT, found 'm'"},
		// clause order
		{"CREATE MODEL m MODEL_TYPE t FLAVOR f", "line 1, column 29: FLAVOR must come before MODEL_TYPE"},
		{"CREATE MODEL m USING 'u' FLAVOR f", "line 1, column 26: FLAVOR must come before USING"},
		{"CREATE MODEL m OPTIONS (a=1) RETURNS int OPTIONS (b=2)", "line 1, column 42: duplicate OPTIONS clause"},
		{"CREATE MODEL m FLAVOR a FLAVOR b", "line 1, column 25: duplicate FLAVOR clause"},
		{"CREATE MODEL m RETURNS int MODEL_TYPE x", "line 1, column 28: MODEL_TYPE must come before RETURNS"},
		{"CREATE MODEL m PREPROCESSOR 'x'", "line 1, column 16: expected FLAVOR, MODEL_TYPE, OPTIONS, RETURNS, USING or end of statement, found 'PREPROCESSOR'"},
		{"CREATE MODEL m RETURNS int junk", "line 1, column 28: expected USING or end of statement, found 'junk'"},
		{"CREATE MODEL m USING 'u' 'v'", "line 1, column 26: expected end of statement, found ''v''"},
		{"CREATE MODEL m USING 'u'; SELECT 1", "line 1, column 27: expected end of statement, found 'SELECT'"},
		{"CREATE MODEL m FLAVOR", "line 1, column 22: expected flavor name after FLAVOR, found end of statement"},
		{"CREATE MODEL m FLAVOR 'pytorch'", "line 1, column 23: expected flavor name after FLAVOR, found ''pytorch''"},
		{"CREATE MODEL m FLAVOR a.b", "line 1, column 24: expected MODEL_TYPE, OPTIONS, RETURNS, USING or end of statement, found '.'"},
		{"CREATE MODEL m MODEL_TYPE USING 'x'", "line 1, column 27: expected model type after MODEL_TYPE, found 'USING'"},
		{"CREATE MODEL m USING", "line 1, column 21: expected a string (the model URI) after USING, found end of statement"},
		{"CREATE MODEL m USING x", "line 1, column 22: expected a string (the model URI) after USING, found 'x'"},
		// OPTIONS
		{"CREATE MODEL m OPTIONS ()", "line 1, column 25: OPTIONS needs at least one key = value"},
		{"CREATE MODEL m OPTIONS a=1", "line 1, column 24: expected '(' after OPTIONS, found 'a'"},
		{"CREATE MODEL m OPTIONS (a 1)", "line 1, column 27: expected '=' after option key, found '1'"},
		{"CREATE MODEL m OPTIONS (a=)", "line 1, column 27: expected option value (a string, a number, TRUE or FALSE), found ')'"},
		{"CREATE MODEL m OPTIONS (a=b)", "line 1, column 27: expected option value (a string, a number, TRUE or FALSE), found 'b'"},
		{"CREATE MODEL m OPTIONS (a=-b)", "line 1, column 28: expected a number after '-', found 'b'"},
		{"CREATE MODEL m OPTIONS (a=+1)", "line 1, column 27: expected option value (a string, a number, TRUE or FALSE), found '+'"},
		{"CREATE MODEL m OPTIONS (a=1,)", "line 1, column 29: expected option key, found ')'"},
		{"CREATE MODEL m OPTIONS (a=1 USING 'x'", "line 1, column 29: expected ',' or ')' after option value, found 'USING'"},
		{"CREATE MODEL m OPTIONS (a=1", "line 1, column 28: expected ',' or ')' after option value, found end of statement"},
		{"CREATE MODEL m OPTIONS (a=1.2.3)", "line 1, column 30: expected ',' or ')' after option value, found '.3'"},
		{"CREATE MODEL m OPTIONS (a=1) (b=2)", "line 1, column 30: expected RETURNS, USING or end of statement, found '('"},
		// RETURNS
		{"CREATE MODEL m RETURNS", "line 1, column 23: expected a type, found end of statement"},
		{"CREATE MODEL m RETURNS ARRAY", "line 1, column 29: expected '<' after ARRAY, found end of statement"},
		{"CREATE MODEL m RETURNS ARRAY<int", "line 1, column 33: expected '>' to close ARRAY<, found end of statement"},
		{"CREATE MODEL m RETURNS ARRAY<>", "line 1, column 30: expected a type, found '>'"},
		{"CREATE MODEL m RETURNS STRUCT<>", "line 1, column 31: expected a field name, found '>'"},
		{"CREATE MODEL m RETURNS STRUCT<a int>", "line 1, column 33: expected ':' after field name, found 'int'"},
		{"CREATE MODEL m RETURNS STRUCT<a:int b:int>", "line 1, column 37: expected ',' or '>' in STRUCT<, found 'b'"},
		{"CREATE MODEL m RETURNS ARRAY<int>>", "line 1, column 34: expected USING or end of statement, found '>'"},
		{"CREATE MODEL m RETURNS DECIMAL(10, 2)", "line 1, column 31: expected USING or end of statement, found '('"},
		// lexical
		{"CREATE MODEL m USING 'abc", "line 1, column 22: unterminated string literal"},
		{`CREATE MODEL m USING 'abc\'`, "line 1, column 22: unterminated string literal"},
		{`CREATE MODEL m USING "abc`, "line 1, column 22: unterminated quoted identifier"},
		{"CREATE MODEL m /* open", "line 1, column 16: unterminated /* comment"},
		{"CREATE MODEL m USING \\", `line 1, column 22: unexpected character '\\'`},
		{"CREATE MODEL m USING 'a' -- fine\n \\", `line 2, column 2: unexpected character '\\'`},
		// SHOW
		{"SHOW MODELS LIKE 'x'", "line 1, column 13: unexpected 'LIKE' after SHOW MODELS"},
		{"SHOW MODELS; x", "line 1, column 14: unexpected 'x' after SHOW MODELS"},
		{"SHOW MODELS 'abc", "line 1, column 13: unterminated string literal"},
		// multi-line positions
		{"CREATE MODEL m\n  FLAVOR f\n  FLAVOR g", "line 3, column 3: duplicate FLAVOR clause"},
		{"CREATE MODEL m OPTIONS (\n\t'é' = 1)", "line 2, column 2: expected option key, found ''é''"},
		{"CREATE MODEL m OPTIONS (k = 'é', b 1)", "line 1, column 36: expected '=' after option key, found '1'"},
	}
	for _, tt := range tests {
		st, err := Parse(tt.src, origin)
		if err == nil {
			t.Errorf("Parse(%q) = %#v, want error %q", tt.src, st, tt.want)
			continue
		}
		if st != nil {
			t.Errorf("Parse(%q) returned a statement with its error", tt.src)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("Parse(%q) error is %T, want *Error", tt.src, err)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q)\n error %q\n want  %q", tt.src, err, tt.want)
		}
	}
}

// A statement's position in its script makes error positions absolute.
func TestParseAbsolutePositions(t *testing.T) {
	start := Pos{Offset: 100, Line: 7, Col: 5}
	_, err := Parse("CREATE MODEL m FLAVOR\n  f USING x", start)
	want := &Error{Pos: Pos{Offset: 132, Line: 8, Col: 11}, Msg: "expected a string (the model URI) after USING, found 'x'"}
	if !reflect.DeepEqual(err, want) {
		t.Errorf("error = %#v, want %#v", err, want)
	}
	st, err := Parse("DROP MODEL m", start)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.(*DropModel).Name.Pos; got != (Pos{Offset: 111, Line: 7, Col: 16}) {
		t.Errorf("name pos = %v", got)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Pos: Pos{Line: 3, Col: 7}, Msg: "boom"}
	if got := e.Error(); got != "line 3, column 7: boom" {
		t.Errorf("Error() = %q", got)
	}
}
