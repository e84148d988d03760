package parser

import "fmt"

// Pos is a position in a script. Offset is the byte offset in the whole
// script, Line and Col are 1-based; Col counts runes, not bytes.
type Pos struct{ Offset, Line, Col int }

// String formats p for error messages: "line 3, column 7".
func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Error is an error at an exact position in a script: a syntax error,
// or (from package rewrite) a resolver's error given a position, which
// then is Err, so errors.Is and errors.As see through it.
type Error struct {
	Pos Pos
	Msg string
	Err error // the wrapped error, if any; Msg is its text
}

// Unwrap returns the wrapped error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Error formats e as "line 1, column 24: expected ...".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// cursor converts byte offsets into Pos values. Offsets are asked for in
// increasing order, so it advances incrementally and a whole script costs
// one pass however long its lines are.
type cursor struct {
	src  string
	base Pos // position of src[0]
	off  int // relative offset that pos describes
	pos  Pos
}

func newCursor(src string, base Pos) cursor {
	if base.Line < 1 {
		base.Line = 1
	}
	if base.Col < 1 {
		base.Col = 1
	}
	return cursor{src: src, base: base, pos: base}
}

// at returns the position of the relative byte offset off.
func (c *cursor) at(off int) Pos {
	if off < c.off { // never happens in forward scans; restart to stay correct
		c.off, c.pos = 0, c.base
	}
	for i := c.off; i < off && i < len(c.src); i++ {
		b := c.src[i]
		switch {
		case b == '\n':
			c.pos.Line++
			c.pos.Col = 1
		case b&0xC0 != 0x80: // count the first byte of each rune only
			c.pos.Col++
		}
	}
	c.pos.Offset = c.base.Offset + off
	c.off = off
	return c.pos
}
