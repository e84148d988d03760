// Package types is augur's small type system for model results: the
// types a model can return, how they are spelled in RETURNS, how DuckDB
// spells them, and which conversions between them are safe.
//
// Values travel as the Go values duckdb-go reads and writes: bool, int8,
// int16, int32, int64, float32, float64, string, []byte, []any for a
// LIST and map[string]any for a STRUCT.
package types

import (
	"strings"
	"sync"
)

// Kind is the shape of a Type.
type Kind int

// The kinds of types a model may return.
const (
	Invalid Kind = iota
	Bool
	Int8
	Int16
	Int32
	Int64
	Float32
	Float64
	String
	Binary
	List
	Struct
)

// Type is a model result type. Name is set for augur's named types
// (image, box2d, ...), which are structs under another name.
type Type struct {
	Kind   Kind
	Elem   *Type   // List
	Fields []Field // Struct
	Name   string  // named types only
}

// Field is one STRUCT member.
type Field struct {
	Name string
	Type Type
}

// Scalars, for convenience.
var (
	BoolT    = Type{Kind: Bool}
	Int8T    = Type{Kind: Int8}
	Int16T   = Type{Kind: Int16}
	Int32T   = Type{Kind: Int32}
	Int64T   = Type{Kind: Int64}
	Float32T = Type{Kind: Float32}
	Float64T = Type{Kind: Float64}
	StringT  = Type{Kind: String}
	BinaryT  = Type{Kind: Binary}
)

// ListOf returns LIST(elem).
func ListOf(elem Type) Type { return Type{Kind: List, Elem: &elem} }

// StructOf returns STRUCT(fields...).
func StructOf(fields ...Field) Type { return Type{Kind: Struct, Fields: fields} }

var scalarSQL = map[Kind]string{
	Bool: "BOOLEAN", Int8: "TINYINT", Int16: "SMALLINT", Int32: "INTEGER", Int64: "BIGINT",
	Float32: "FLOAT", Float64: "DOUBLE", String: "VARCHAR", Binary: "BLOB",
}

// SQL returns the type in DuckDB's syntax, e.g. INTEGER, FLOAT[],
// STRUCT("label_id" INTEGER, "score" FLOAT). Field names are always
// quoted; typeof() may spell the same type with fewer quotes.
func (t Type) SQL() string {
	switch t.Kind {
	case List:
		return t.Elem.SQL() + "[]"
	case Struct:
		var b strings.Builder
		b.WriteString("STRUCT(")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteField(f.Name))
			b.WriteByte(' ')
			b.WriteString(f.Type.SQL())
		}
		b.WriteString(")")
		return b.String()
	}
	if s, ok := scalarSQL[t.Kind]; ok {
		return s
	}
	return "INVALID"
}

// String is the spelling for messages: DuckDB's syntax, field names
// quoted only where needed, named types by their name.
func (t Type) String() string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Kind == List:
		return t.Elem.String() + "[]"
	case t.Kind == Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			name := f.Name
			if !simpleName(name) {
				name = quoteField(name)
			}
			parts[i] = name + " " + f.Type.String()
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return t.SQL()
}

func simpleName(s string) bool {
	for i, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return s != ""
}

// quoteField always quotes a field name, so any name is unambiguous;
// the engine asks DuckDB for its own (canonical) spelling when it shows a
// type to users.
func quoteField(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Equal reports whether two types have the same structure (names of
// named types are ignored: an image is its struct).
func (t Type) Equal(u Type) bool { return t.SQL() == u.SQL() }

// Plain type names accepted in RETURNS, as Rikai's schema grammar spells
// them, plus the SQL spellings users type by habit.
var plain = map[string]Type{
	"bool": BoolT, "boolean": BoolT,
	"byte": Int8T, "tinyint": Int8T,
	"short": Int16T, "smallint": Int16T,
	"int": Int32T, "integer": Int32T,
	"long": Int64T, "bigint": Int64T,
	"float": Float32T, "real": Float32T,
	"double": Float64T,
	"str":    StringT, "string": StringT, "varchar": StringT,
	"binary": BinaryT, "blob": BinaryT,
}

var (
	namedMu sync.RWMutex
	named   = map[string]Type{}
)

// RegisterNamed adds one of augur's own types (image, box2d, ...) so that
// RETURNS can name it. It is meant to be called from init functions.
func RegisterNamed(name string, t Type) {
	namedMu.Lock()
	defer namedMu.Unlock()
	t.Name = strings.ToLower(name)
	named[t.Name] = t
}

// Lookup resolves a plain type name, case-insensitively.
func Lookup(name string) (Type, bool) {
	n := strings.ToLower(name)
	if t, ok := plain[n]; ok {
		return t, true
	}
	namedMu.RLock()
	defer namedMu.RUnlock()
	t, ok := named[n]
	return t, ok
}

// KnownNames lists the plain type names RETURNS accepts, for error messages.
func KnownNames() []string {
	names := []string{"bool", "byte", "short", "int", "long", "float", "double", "string", "binary"}
	namedMu.RLock()
	defer namedMu.RUnlock()
	for n := range named {
		names = append(names, n)
	}
	return names
}

// Describe renders a list of names for an error message.
func Describe(names []string) string { return strings.Join(names, ", ") }
