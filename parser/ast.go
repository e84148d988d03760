package parser

import "strings"

// Statement is a parsed model statement: *CreateModel, *DescribeModel,
// *ShowModels, *ShowModelStats, *DropModel or *SetOption.
type Statement interface{ Pos() Pos }

// Ident is an identifier. Name has its quotes removed (a doubled quote
// inside stands for one) and keeps its case; Quoted tells whether it was
// written "double-quoted" or `back-quoted`. For a dotted name (MODEL_TYPE)
// Name holds the parts joined with "." and Pos is that of the first part.
type Ident struct {
	Name   string
	Pos    Pos
	Quoted bool
}

// CreateModel is CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name [FLAVOR f]
// [MODEL_TYPE t] [OPTIONS (...)] [RETURNS type] [USING 'uri'].
// Absent clauses are nil.
type CreateModel struct {
	At          Pos
	OrReplace   bool
	IfNotExists bool
	Name        Ident
	Flavor      *Ident
	ModelType   *Ident
	Options     []Option // in source order; for a duplicate key the last one wins
	Returns     *DataType
	Using       *StringLit
}

// Option is one key = value of OPTIONS. Key is a dotted name joined with
// "."; Value is the value as a string: "true"/"false" for booleans, the
// source text for numbers (a leading '-' included), the decoded content
// for strings.
type Option struct {
	Key, Value       string
	KeyPos, ValuePos Pos
}

// StringLit is a decoded string literal.
type StringLit struct {
	Value string
	Pos   Pos
}

// DataTypeKind is the shape of a DataType.
type DataTypeKind int

// The shapes of RETURNS types.
const (
	PlainType DataTypeKind = iota
	ArrayType
	StructType
)

// DataType is the RETURNS type as written. Type names are not checked
// here: the engine resolves Name and reports unknown ones at Pos.
type DataType struct {
	Kind   DataTypeKind
	Name   string // PlainType: the name as written (quotes removed)
	Elem   *DataType
	Fields []StructField
	Pos    Pos
}

// StructField is one name:type of a STRUCT.
type StructField struct {
	Name string
	Type *DataType
	Pos  Pos
}

// String renders t the way Rikai does: ARRAY<...> and STRUCT<...> upper
// case, fields as name:type joined with ", ", plain names as written.
func (t *DataType) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *DataType) write(b *strings.Builder) {
	switch t.Kind {
	case ArrayType:
		b.WriteString("ARRAY<")
		t.Elem.write(b)
		b.WriteString(">")
	case StructType:
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteString(":")
			f.Type.write(b)
		}
		b.WriteString(">")
	default:
		b.WriteString(t.Name)
	}
}

// DescribeModel is DESC[RIBE] MODEL name.
type DescribeModel struct {
	At   Pos
	Name Ident
}

// ShowModels is SHOW MODELS.
type ShowModels struct{ At Pos }

// ShowModelStats is SHOW MODEL STATS.
type ShowModelStats struct{ At Pos }

// Pos returns the position of SHOW.
func (s *ShowModelStats) Pos() Pos { return s.At }

// SetOption is SET name = 'value' (or TO), or RESET name, for a setting
// of augur's own (Settings); other SET statements are DuckDB's.
type SetOption struct {
	At    Pos
	Name  string // lower-case
	Value string
	Reset bool
}

// Settings are the session settings augur keeps itself, with what each
// is for.
var Settings = map[string]string{
	"mlflow_tracking_uri": "the MLflow tracking server or file store of mlflow: URIs (over MLFLOW_TRACKING_URI)",
}

// Pos returns the position of SET or RESET.
func (s *SetOption) Pos() Pos { return s.At }

// DropModel is DROP MODEL [IF EXISTS] name.
type DropModel struct {
	At       Pos
	IfExists bool
	Name     Ident
}

// Pos returns the position of CREATE.
func (s *CreateModel) Pos() Pos { return s.At }

// Pos returns the position of DESC or DESCRIBE.
func (s *DescribeModel) Pos() Pos { return s.At }

// Pos returns the position of SHOW.
func (s *ShowModels) Pos() Pos { return s.At }

// Pos returns the position of DROP.
func (s *DropModel) Pos() Pos { return s.At }
