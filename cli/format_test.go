package cli

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

func render(t *testing.T, f Format, cols []Column, rows Rows) string {
	t.Helper()
	var b bytes.Buffer
	if err := NewPrinter(&b, f).Print(cols, rows.Source()); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFormattersOnGoValues(t *testing.T) {
	var m duckdb.OrderedMap
	m.Set("k2", int32(1))
	m.Set("k1", nil)
	u := []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7}
	h, _ := new(big.Int).SetString("-170141183460469231731687303715884105728", 10)
	cols := []Column{
		{"dec", "DECIMAL(10,2)"}, {"h", "HUGEINT"}, {"f", "FLOAT"}, {"nan", "DOUBLE"},
		{"dt", "DATE"}, {"ts", "TIMESTAMP"}, {"tz", "TIMESTAMP WITH TIME ZONE"}, {"tm", "TIME"},
		{"iv", "INTERVAL"}, {"u", "UUID"}, {"m", "MAP(VARCHAR, INTEGER)"},
		{"st", `STRUCT("b" UUID[], "a b" STRUCT("z" DATE, "y" BOOLEAN))`},
		{"un", `UNION("n" INTEGER, "s" VARCHAR)`}, {"big", "DOUBLE"},
	}
	row := []any{
		duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(-5)}, h, float32(0.1), math.Inf(-1),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 13, 14, 15, 500000000, time.UTC),
		time.Date(2024, 2, 29, 13, 14, 15, 0, time.UTC), time.Date(1, 1, 1, 23, 59, 58, 1000, time.UTC),
		duckdb.Interval{Months: 14, Days: 1, Micros: -3_600_000_001}, u, m,
		map[string]any{"a b": map[string]any{"y": true, "z": time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)}, "b": []any{u, nil}},
		duckdb.Union{Tag: "s", Value: "x"}, 1e21,
	}
	wantJSON := `[{"dec":-0.05,"h":-170141183460469231731687303715884105728,"f":0.1,"nan":"-Infinity",` +
		`"dt":"2024-02-29","ts":"2024-02-29T13:14:15.5","tz":"2024-02-29T13:14:15Z","tm":"23:59:58.000001",` +
		`"iv":"1 year 2 months 1 day -01:00:00.000001","u":"12345678-9abc-def0-0001-020304050607","m":{"k2":1,"k1":null},` +
		`"st":{"b":["12345678-9abc-def0-0001-020304050607",null],"a b":{"z":"2000-01-02","y":true}},"un":"x","big":1e+21}]` + "\n"
	if got := render(t, FormatJSON, cols, Rows{row}); got != wantJSON {
		t.Errorf("json:\n got %s\nwant %s", got, wantJSON)
	}
	wantCSV := "dec,h,f,nan,dt,ts,tz,tm,iv,u,m,st,un,big\n" +
		`-0.05,-170141183460469231731687303715884105728,0.1,-inf,2024-02-29,2024-02-29 13:14:15.5,2024-02-29 13:14:15+00,23:59:58.000001,` +
		`1 year 2 months 1 day -01:00:00.000001,12345678-9abc-def0-0001-020304050607,"{""k2"":1,""k1"":null}",` +
		`"{""b"":[""12345678-9abc-def0-0001-020304050607"",null],""a b"":{""z"":""2000-01-02"",""y"":true}}",x,1e+21` + "\n"
	if got := render(t, FormatCSV, cols, Rows{row}); got != wantCSV {
		t.Errorf("csv:\n got %s\nwant %s", got, wantCSV)
	}
}

func TestFormattersWithoutTypes(t *testing.T) {
	// A driver that reports no type names still gets sensible output: STRUCT
	// keys sorted, []byte as base64, numbers right-aligned by value.
	cols := []Column{{Name: "s"}, {Name: "b"}, {Name: "n"}}
	rows := Rows{{map[string]any{"z": 1, "a": 2}, []byte("hi"), int64(7)}, {nil, nil, nil}}
	if got, want := render(t, FormatJSONL, cols, rows), `{"s":{"a":2,"z":1},"b":"aGk=","n":7}`+"\n"+`{"s":null,"b":null,"n":null}`+"\n"; got != want {
		t.Errorf("jsonl: got %q want %q", got, want)
	}
	want := "" +
		"┌───────────────┬──────┬──────┐\n" +
		"│       s       │  b   │  n   │\n" +
		"├───────────────┼──────┼──────┤\n" +
		"│ {\"a\":2,\"z\":1} │ hi   │    7 │\n" +
		"│ NULL          │ NULL │ NULL │\n" +
		"└───────────────┴──────┴──────┘\n"
	if got := render(t, FormatTable, cols, rows); got != want {
		t.Errorf("table:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONStringsAndEscapes(t *testing.T) {
	cols := []Column{{"we\"ird\n", "VARCHAR"}}
	rows := Rows{{"tab\there <&> \x01 é \u2028"}}
	want := `[{"we\"ird\n":"tab\there <&> \u0001 é \u2028"}]` + "\n"
	if got := render(t, FormatJSON, cols, rows); got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestCSVQuoting(t *testing.T) {
	cols := []Column{{"a,b", "VARCHAR"}, {"c", "VARCHAR"}}
	rows := Rows{{"", nil}, {" padded", "line\nbreak"}, {`say "hi"`, "plain"}}
	want := "\"a,b\",c\n\"\",\n\" padded\",\"line\nbreak\"\n\"say \"\"hi\"\"\",plain\n"
	if got := render(t, FormatCSV, cols, rows); got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestMarkdown(t *testing.T) {
	cols := []Column{{"name", "VARCHAR"}, {"n", "BIGINT"}}
	rows := Rows{{"a|b", int64(10)}, {`back\slash \| two`, nil}, {"x\ny", int64(-3)}}
	want := "" +
		"| name                | n    |\n" +
		"| ------------------- | ---: |\n" +
		"| a\\|b                |   10 |\n" +
		"| back\\slash \\\\\\| two | NULL |\n" +
		"| x<br>y              |   -3 |\n"
	if got := render(t, FormatMarkdown, cols, rows); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTableLayout(t *testing.T) {
	cols := []Column{{"id", "INTEGER"}, {"text", "VARCHAR"}}
	rows := Rows{{int32(1), "two\nlines"}, {int32(100), "日本"}}
	want := "" +
		"┌─────────┬─────────┐\n" +
		"│   id    │  text   │\n" +
		"│ integer │ varchar │\n" +
		"├─────────┼─────────┤\n" +
		"│       1 │ two     │\n" +
		"│         │ lines   │\n" +
		"│     100 │ 日本    │\n" +
		"└─────────┴─────────┘\n"
	if got := render(t, FormatTable, cols, rows); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestSeveralResultsAreSeparated(t *testing.T) {
	var b bytes.Buffer
	p := NewPrinter(&b, FormatMarkdown)
	cols := []Column{{"a", "INTEGER"}}
	for i := 0; i < 2; i++ {
		if err := p.Print(cols, Rows{{int32(i)}}.Source()); err != nil {
			t.Fatal(err)
		}
	}
	want := "| a   |\n| --: |\n|   0 |\n\n| a   |\n| --: |\n|   1 |\n"
	if b.String() != want {
		t.Errorf("got %q want %q", b.String(), want)
	}
}

type failingRows struct{ n int }

func (f *failingRows) Next(dst []any) (bool, error) {
	if f.n == 0 {
		f.n++
		dst[0] = int32(1)
		return true, nil
	}
	return false, errors.New("boom")
}

func TestJSONClosesArrayOnError(t *testing.T) {
	var b bytes.Buffer
	err := NewPrinter(&b, FormatJSON).Print([]Column{{"a", "INTEGER"}}, &failingRows{})
	if err == nil || b.String() != "[{\"a\":1}]\n" {
		t.Errorf("err %v, output %q", err, b.String())
	}
	b.Reset()
	if err := NewPrinter(&b, FormatTable).Print([]Column{{"a", "INTEGER"}}, &failingRows{}); err == nil || b.String() != "" {
		t.Errorf("table: err %v, output %q (a table is not printed half)", err, b.String())
	}
}

func TestParseType(t *testing.T) {
	got := parseType(`STRUCT("a b" INTEGER, """q" MAP(VARCHAR, DOUBLE[]), plain TIMESTAMP WITH TIME ZONE)[][3]`)
	want := &sqlType{Name: "ARRAY", Elem: &sqlType{Name: "LIST", Elem: &sqlType{Name: "STRUCT", Fields: []sqlField{
		{"a b", &sqlType{Name: "INTEGER"}},
		{`"q`, &sqlType{Name: "MAP", Key: &sqlType{Name: "VARCHAR"}, Value: &sqlType{Name: "LIST", Elem: &sqlType{Name: "DOUBLE"}}}},
		{"plain", &sqlType{Name: "TIMESTAMP WITH TIME ZONE"}},
	}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if got := parseType("DECIMAL(18,3)"); got.Name != "DECIMAL" || !got.isNumeric() {
		t.Errorf("decimal: %+v", got)
	}
	if got := parseType("ENUM('a', 'b)')"); got.Name != "ENUM" {
		t.Errorf("enum: %+v", got)
	}
	if got := parseType("STRUCT(a"); got.Name != "STRUCT(A" || got.Fields != nil {
		t.Errorf("malformed: %+v", got)
	}
	if parseType("") != nil {
		t.Error("empty type should be nil")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"json": FormatJSON, "JSONL": FormatJSONL, "md": FormatMarkdown, " csv ": FormatCSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "table, csv, json, jsonl, markdown") {
		t.Errorf("xml: %v", err)
	}
}

func TestFloatText(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {100000, 64, "100000"}, {0.000001, 64, "0.000001"}, {1e-7, 64, "1e-7"},
		{1e21, 64, "1e+21"}, {-2.5, 64, "-2.5"}, {float64(float32(0.1)), 32, "0.1"},
	} {
		if got := floatText(c.f, c.bits); got != c.want {
			t.Errorf("%v: got %s want %s", c.f, got, c.want)
		}
	}
}

func TestIntervalAndDecimalText(t *testing.T) {
	for iv, want := range map[duckdb.Interval]string{
		{}:                        "00:00:00",
		{Months: 1}:               "1 month",
		{Months: 25, Days: 2}:     "2 years 1 month 2 days",
		{Micros: 90_061_500_000}:  "25:01:01.5",
		{Days: -1, Micros: -1e6}:  "-1 day -00:00:01",
		{Months: -13, Micros: 10}: "-1 year -1 month 00:00:00.00001",
	} {
		if got := intervalText(iv); got != want {
			t.Errorf("%+v: got %q want %q", iv, got, want)
		}
	}
	for _, c := range []struct {
		v     int64
		scale uint8
		want  string
	}{{150, 2, "1.50"}, {-5, 3, "-0.005"}, {0, 2, "0.00"}, {42, 0, "42"}} {
		if got := decimalText(duckdb.Decimal{Scale: c.scale, Value: big.NewInt(c.v)}); got != c.want {
			t.Errorf("%d/%d: got %s want %s", c.v, c.scale, got, c.want)
		}
	}
}
