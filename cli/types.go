package cli

import (
	"strings"
)

// sqlType is a parsed DuckDB type name, as database/sql's
// ColumnType.DatabaseTypeName reports it: "INTEGER", "DECIMAL(10,2)",
// "INTEGER[]", "INTEGER[3]", `STRUCT("a" INTEGER, "b" VARCHAR)`,
// "MAP(VARCHAR, INTEGER)", `UNION("num" INTEGER)`, ...
//
// The formatters use it to order STRUCT fields as DuckDB declares them
// (duckdb-go hands STRUCT values over as map[string]any), to tell UUIDs from
// BLOBs (both arrive as []byte) and to tell DATE, TIME and TIMESTAMP apart
// (all arrive as time.Time), also inside nested values.
type sqlType struct {
	Name   string     // upper-case base name: INTEGER, STRUCT, LIST, ARRAY, MAP, UNION, DECIMAL, ...
	Elem   *sqlType   // LIST and ARRAY: the element type
	Key    *sqlType   // MAP: the key type
	Value  *sqlType   // MAP: the value type
	Fields []sqlField // STRUCT and UNION: members in declaration order
}

type sqlField struct {
	Name string
	Type *sqlType
}

// parseType parses a DuckDB type name. It never fails: whatever it cannot
// understand becomes a plain type with that name (or nil for ""), and the
// formatters then fall back to the Go type of each value.
func parseType(s string) *sqlType {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	p := &typeParser{s: s}
	t := p.parse()
	if p.bad || p.i != len(p.s) {
		return &sqlType{Name: strings.ToUpper(s)}
	}
	return t
}

type typeParser struct {
	s   string
	i   int
	bad bool
}

func (p *typeParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *typeParser) peek() byte {
	p.skipSpace()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *typeParser) expect(c byte) {
	if p.peek() != c {
		p.bad = true
		return
	}
	p.i++
}

// name reads a member name: "double ""quoted""" or a bare word.
func (p *typeParser) name() string {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			if c == '"' {
				if p.i < len(p.s) && p.s[p.i] == '"' {
					b.WriteByte('"')
					p.i++
					continue
				}
				return b.String()
			}
			b.WriteByte(c)
		}
		p.bad = true
		return b.String()
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(" \t\n(),[]", rune(p.s[p.i])) {
		p.i++
	}
	if start == p.i {
		p.bad = true
	}
	return p.s[start:p.i]
}

// base reads a base type name, which may have several words
// ("TIMESTAMP WITH TIME ZONE", "DOUBLE PRECISION").
func (p *typeParser) base() string {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("(),[]", rune(p.s[p.i])) {
		p.i++
	}
	name := strings.ToUpper(strings.Join(strings.Fields(p.s[start:p.i]), " "))
	if name == "" {
		p.bad = true
	}
	return name
}

func (p *typeParser) parse() *sqlType {
	if p.bad {
		return &sqlType{}
	}
	t := &sqlType{Name: p.base()}
	if p.peek() == '(' {
		p.i++
		switch t.Name {
		case "STRUCT", "UNION":
			for !p.bad {
				n := p.name()
				ft := p.parse()
				t.Fields = append(t.Fields, sqlField{Name: n, Type: ft})
				if p.peek() == ',' {
					p.i++
					continue
				}
				break
			}
		case "MAP":
			t.Key = p.parse()
			p.expect(',')
			t.Value = p.parse()
		default: // DECIMAL(10,2), ENUM('a', 'b'), VARCHAR(10), ...: keep the text
			depth := 1
			for p.i < len(p.s) && depth > 0 {
				switch p.s[p.i] {
				case '(':
					depth++
				case ')':
					depth--
				case '\'':
					for p.i++; p.i < len(p.s) && p.s[p.i] != '\''; p.i++ {
					}
				}
				p.i++
			}
			if depth != 0 {
				p.bad = true
				return t
			}
			p.i-- // leave the closing parenthesis to expect
		}
		p.expect(')')
	}
	for !p.bad && p.peek() == '[' {
		p.i++
		name := "LIST"
		if p.peek() != ']' {
			name = "ARRAY"
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
		}
		p.expect(']')
		t = &sqlType{Name: name, Elem: t}
	}
	return t
}

// field returns the type of the STRUCT or UNION member called name.
func (t *sqlType) field(name string) *sqlType {
	if t == nil {
		return nil
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type
		}
	}
	return nil
}

func (t *sqlType) name() string {
	if t == nil {
		return ""
	}
	return t.Name
}

// elem returns the element type of a LIST or ARRAY.
func (t *sqlType) elem() *sqlType {
	if t == nil {
		return nil
	}
	return t.Elem
}

// isNumeric reports whether values of the type are numbers (right-aligned in
// tables).
func (t *sqlType) isNumeric() bool {
	switch t.name() {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "DECIMAL", "REAL", "INT", "INT1", "INT2", "INT4", "INT8",
		"BIGNUM", "VARINT":
		return true
	}
	return false
}
