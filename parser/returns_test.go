package parser

import (
	"strings"
	"testing"
)

// TestParseDuckDBTypes: RETURNS takes types as DuckDB (and so SHOW
// MODELS) spells them, DuckDB's type[] and LIST<type>, next to Rikai's
// grammar; they read as the same tree as Rikai's spelling.
func TestParseDuckDBTypes(t *testing.T) {
	for src, want := range map[string]string{
		"DOUBLE[]":        "ARRAY<DOUBLE>",
		"double[][]":      "ARRAY<ARRAY<double>>",
		"list<double>":    "ARRAY<double>",
		"LIST<LIST<int>>": "ARRAY<ARRAY<int>>",
		`STRUCT(label_id INTEGER, score FLOAT, box STRUCT(xmin FLOAT, "ymin" FLOAT))[]`:        "ARRAY<STRUCT<label_id:INTEGER, score:FLOAT, box:STRUCT<xmin:FLOAT, ymin:FLOAT>>>",
		`STRUCT("label" VARCHAR, probabilities STRUCT("label" VARCHAR, probability DOUBLE)[])`: "STRUCT<label:VARCHAR, probabilities:ARRAY<STRUCT<label:VARCHAR, probability:DOUBLE>>>",
		"struct(a:int)":                         "STRUCT<a:int>",
		"array<struct<box:box2d, score:float>>": "ARRAY<STRUCT<box:box2d, score:float>>",
		"boolean":                               "boolean",
	} {
		st, err := Parse("CREATE MODEL m RETURNS "+src+" USING 'x'", origin)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		cm := st.(*CreateModel)
		if got := cm.Returns.String(); got != want {
			t.Errorf("%s reads as %s, want %s", src, got, want)
		}
		if cm.Using == nil || cm.Using.Value != "x" {
			t.Errorf("%s: USING lost", src)
		}
	}
	for src, want := range map[string]string{
		"DOUBLE[":         "expected ']'",
		"STRUCT(a INT":    "expected ',' or ')' in STRUCT(",
		"STRUCT<a INT>":   "expected ':' after field name",
		"LIST(double)":    "expected '<' after LIST",
		"STRUCT(a INT, )": "expected a field name",
	} {
		_, err := Parse("CREATE MODEL m RETURNS "+src, origin)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}
