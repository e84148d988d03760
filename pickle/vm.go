package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
)

// Unpickle reads one pickle from data (a plain pickle, or the
// uncompressed stream of a joblib file) and returns its value.
func Unpickle(data []byte, opts *Options) (v any, err error) {
	v, _, err = UnpickleNext(data, opts)
	return v, err
}

// UnpickleNext reads the pickle at the start of data, which may go on
// after its STOP (torch's legacy files are pickles and raw bytes in a
// row), and returns its value and the number of bytes it took.
func UnpickleNext(data []byte, opts *Options) (v any, n int, err error) {
	o := opts.withDefaults()
	if err := limits.DecompressedBytes.Check("pickle: the pickle", int64(len(data))); err != nil {
		return nil, 0, err
	}
	m := &machine{data: data, opts: o, classes: map[string]bool{},
		maxObjects: limits.PickleObjects.Int(), maxMemo: limits.PickleMemo.Int()}
	for _, c := range o.Classes {
		m.classes[c] = true
	}
	// The machine is written not to panic; this is belt and braces so
	// that a bug shows as an error rather than crashing the process.
	defer func() {
		if r := recover(); r != nil {
			v, n, err = nil, 0, fmt.Errorf("pickle: internal error at offset %d: %v", m.pos, r)
		}
	}()
	v, err = m.run(0)
	if err != nil {
		return nil, 0, err
	}
	return v, m.pos, nil
}

// machine is the state shared by a pickle and the pickles embedded in it
// (joblib writes object arrays as nested pickles in the same stream).
type machine struct {
	data    []byte
	pos     int
	opts    Options
	classes map[string]bool
	// objects counts the values created and the items copied into new
	// containers; memos counts memo entries of every frame. Each is
	// bounded (maxObjects, maxMemo, read once from package limits) so
	// that a file cannot make memory grow faster than these counts.
	objects, maxObjects int
	memos, maxMemo      int
}

// charge counts n more values (or items copied), failing past the limit.
func (m *machine) charge(n int) error {
	m.objects += n
	if m.objects > m.maxObjects {
		return fmt.Errorf("pickle: more than %d objects at offset %d: %w",
			m.maxObjects, m.pos, limits.PickleObjects.Exceeded("the pickle", -1))
	}
	return nil
}

// chargeBytes counts a copy of n bytes as one value per 16 bytes (what a
// value slot costs), so that copying one large string again and again
// is bounded too.
func (m *machine) chargeBytes(n int) error { return m.charge(1 + n/16) }

// frame is one pickle's stack, marks and memo.
type frame struct {
	m      *machine
	level  int // embedding level
	stack  []any
	depths []int32 // nesting depth of each stack value
	marks  []int
	memo   []memoEntry
	sparse map[uint32]memoEntry
	proto  int
}

type memoEntry struct {
	v     any
	depth int32
	set   bool
}

var errTruncated = errors.New("truncated")

func (m *machine) fail(op byte, format string, args ...any) error {
	return fmt.Errorf("pickle: %s at offset %d (opcode %s)", fmt.Sprintf(format, args...), m.pos, opName(op))
}

func opName(op byte) string {
	if op >= 0x20 && op < 0x7f {
		return strconv.Quote(string(rune(op)))
	}
	return fmt.Sprintf("0x%02x", op)
}

func (m *machine) remaining() int { return len(m.data) - m.pos }

func (m *machine) take(n int) ([]byte, error) {
	if n < 0 || n > m.remaining() {
		return nil, errTruncated
	}
	b := m.data[m.pos : m.pos+n : m.pos+n]
	m.pos += n
	return b, nil
}

func (m *machine) u8() (int, error) {
	b, err := m.take(1)
	if err != nil {
		return 0, err
	}
	return int(b[0]), nil
}

func (m *machine) u16() (int, error) {
	b, err := m.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint16(b)), nil
}

func (m *machine) u32() (uint32, error) {
	b, err := m.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (m *machine) u64() (uint64, error) {
	b, err := m.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// sized reads a length prefix of w bytes and then that many bytes,
// checking the claim against the input left before taking anything.
func (m *machine) sized(w int) ([]byte, error) {
	var n uint64
	switch w {
	case 1:
		v, err := m.u8()
		if err != nil {
			return nil, err
		}
		n = uint64(v)
	case 4:
		v, err := m.u32()
		if err != nil {
			return nil, err
		}
		n = uint64(v)
	case 8:
		v, err := m.u64()
		if err != nil {
			return nil, err
		}
		n = v
	}
	if n > uint64(m.remaining()) {
		return nil, fmt.Errorf("length %d exceeds the %d bytes left", n, m.remaining())
	}
	return m.take(int(n))
}

// line reads up to and excluding the next newline.
func (m *machine) line() (string, error) {
	for i := m.pos; i < len(m.data); i++ {
		if m.data[i] == '\n' {
			s := string(m.data[m.pos:i])
			m.pos = i + 1
			return s, nil
		}
	}
	return "", errTruncated
}

func (f *frame) push(v any, depth int32) error {
	if err := f.m.charge(1); err != nil {
		return err
	}
	if int(depth) > f.m.opts.MaxDepth {
		return fmt.Errorf("nesting deeper than %d", f.m.opts.MaxDepth)
	}
	f.stack = append(f.stack, v)
	f.depths = append(f.depths, depth)
	return nil
}

func (f *frame) floor() int {
	if len(f.marks) > 0 {
		return f.marks[len(f.marks)-1]
	}
	return 0
}

// popCall pops the argument tuple and the callable under it, as REDUCE
// and NEWOBJ find them; depth is the arguments' nesting depth.
func (f *frame) popCall(op string) (callable any, args Tuple, depth int32, err error) {
	a, depth, err := f.pop()
	if err != nil {
		return nil, nil, 0, err
	}
	callable, _, err = f.pop()
	if err != nil {
		return nil, nil, 0, err
	}
	args, ok := a.(Tuple)
	if !ok {
		return nil, nil, 0, fmt.Errorf("%s arguments are a %s, not a tuple", op, TypeName(a))
	}
	return callable, args, depth, nil
}

func (f *frame) pop() (any, int32, error) {
	if len(f.stack) <= f.floor() {
		return nil, 0, errors.New("stack underflow")
	}
	n := len(f.stack) - 1
	v, d := f.stack[n], f.depths[n]
	f.stack[n] = nil
	f.stack, f.depths = f.stack[:n], f.depths[:n]
	return v, valueDepth(v, d), nil
}

func (f *frame) top() (any, error) {
	if len(f.stack) <= f.floor() {
		return nil, errors.New("stack underflow")
	}
	return f.stack[len(f.stack)-1], nil
}

// popMark pops everything above the last mark, and the mark.
func (f *frame) popMark() ([]any, int32, error) {
	if len(f.marks) == 0 {
		return nil, 0, errors.New("no mark on the stack")
	}
	k := f.marks[len(f.marks)-1]
	f.marks = f.marks[:len(f.marks)-1]
	items := make([]any, len(f.stack)-k)
	copy(items, f.stack[k:])
	var depth int32
	for i, v := range items {
		if d := valueDepth(v, f.depths[k+i]); d > depth {
			depth = d
		}
	}
	clear(f.stack[k:])
	f.stack, f.depths = f.stack[:k], f.depths[:k]
	return items, depth, nil
}

// valueDepth is the nesting depth of v: mutable containers carry their
// own (they grow after being pushed), other values the recorded one.
func valueDepth(v any, recorded int32) int32 {
	var d int32
	switch x := v.(type) {
	case *List:
		d = x.depth
	case *Dict:
		d = x.depth
	case *Set:
		d = x.depth
	case *Object:
		d = x.depth
	default:
		return recorded
	}
	return max(d, recorded)
}

func maxDepth(vals []any, depths []int32) int32 {
	var d int32
	for i, v := range vals {
		var r int32
		if depths != nil {
			r = depths[i]
		}
		if x := valueDepth(v, r); x > d {
			d = x
		}
	}
	return d
}

func (f *frame) memoPut(idx uint32, v any, depth int32) error {
	e := memoEntry{v: v, depth: depth, set: true}
	if int64(idx) < int64(len(f.memo)) {
		f.memo[idx] = e
		return nil
	}
	if _, ok := f.sparse[idx]; ok {
		f.sparse[idx] = e
		return nil
	}
	// A new entry: bounded by the memo limit, and counted as a value
	// (a sparse entry costs more than a pushed value).
	m := f.m
	m.memos++
	if m.memos > m.maxMemo {
		return fmt.Errorf("pickle: more than %d memo entries at offset %d: %w",
			m.maxMemo, m.pos, limits.PickleMemo.Exceeded("the pickle", -1))
	}
	if err := m.charge(1); err != nil {
		return err
	}
	if int64(idx) == int64(len(f.memo)) {
		f.memo = append(f.memo, e)
		return nil
	}
	if f.sparse == nil {
		f.sparse = map[uint32]memoEntry{}
	}
	f.sparse[idx] = e
	return nil
}

func (f *frame) memoGet(idx uint32) error {
	var e memoEntry
	if int64(idx) < int64(len(f.memo)) {
		e = f.memo[idx]
	} else {
		e = f.sparse[idx]
	}
	if !e.set {
		return fmt.Errorf("memo key %d was never stored", idx)
	}
	return f.push(e.v, e.depth)
}

// run interprets one pickle starting at m.pos, up to its STOP.
func (m *machine) run(level int) (any, error) {
	if level > m.opts.MaxDepth {
		return nil, fmt.Errorf("pickle: embedded pickles nested deeper than %d", m.opts.MaxDepth)
	}
	f := &frame{m: m, level: level}
	for {
		start := m.pos
		if m.pos >= len(m.data) {
			return nil, fmt.Errorf("pickle: truncated: input ends at offset %d before STOP", m.pos)
		}
		op := m.data[m.pos]
		m.pos++
		done, err := f.step(op)
		if err != nil {
			var re *RefusedError
			var le *limits.ExceededError
			if errors.As(err, &re) || errors.As(err, &le) {
				return nil, err
			}
			if errors.Is(err, errTruncated) {
				return nil, fmt.Errorf("pickle: truncated: input ends inside opcode %s at offset %d", opName(op), start)
			}
			if strings.HasPrefix(err.Error(), "pickle: ") {
				return nil, err
			}
			m.pos = start
			return nil, m.fail(op, "%v", err)
		}
		if done {
			v, d, err := f.pop()
			if err != nil {
				m.pos = start
				return nil, m.fail(op, "STOP with an empty stack")
			}
			_ = d
			return v, nil
		}
	}
}

// step executes one opcode; done reports STOP.
func (f *frame) step(op byte) (done bool, err error) {
	m := f.m
	switch op {
	case 0x80: // PROTO
		p, err := m.u8()
		if err != nil {
			return false, err
		}
		if p > 5 {
			return false, fmt.Errorf("unsupported pickle protocol %d", p)
		}
		f.proto = p
	case 0x95: // FRAME: advisory when reading from memory
		n, err := m.u64()
		if err != nil {
			return false, err
		}
		if n > uint64(m.remaining()) {
			return false, fmt.Errorf("frame of %d bytes exceeds the %d bytes left", n, m.remaining())
		}
	case '.': // STOP
		return true, nil
	case '(': // MARK
		if len(f.marks) >= m.opts.MaxDepth {
			return false, fmt.Errorf("marks nested deeper than %d", m.opts.MaxDepth)
		}
		f.marks = append(f.marks, len(f.stack))
	case '0': // POP
		if len(f.stack) > f.floor() {
			_, _, err = f.pop()
			return false, err
		}
		// Python pops the mark itself when the stack above it is empty.
		if len(f.marks) == 0 {
			return false, errors.New("stack underflow")
		}
		f.marks = f.marks[:len(f.marks)-1]
	case '1': // POP_MARK
		_, _, err = f.popMark()
		return false, err
	case '2': // DUP
		v, err := f.top()
		if err != nil {
			return false, err
		}
		return false, f.push(v, f.depths[len(f.depths)-1])
	case 'N':
		return false, f.push(nil, 0)
	case 0x88:
		return false, f.push(true, 0)
	case 0x89:
		return false, f.push(false, 0)
	case 'J': // BININT
		v, err := m.u32()
		if err != nil {
			return false, err
		}
		return false, f.push(int64(int32(v)), 0)
	case 'K': // BININT1
		v, err := m.u8()
		if err != nil {
			return false, err
		}
		return false, f.push(int64(v), 0)
	case 'M': // BININT2
		v, err := m.u16()
		if err != nil {
			return false, err
		}
		return false, f.push(int64(v), 0)
	case 0x8a, 0x8b: // LONG1, LONG4
		w := 1
		if op == 0x8b {
			w = 4
		}
		b, err := m.sized(w)
		if err != nil {
			return false, err
		}
		return false, f.push(decodeLong(b), 0)
	case 'G': // BINFLOAT
		b, err := m.take(8) // big-endian on the wire
		if err != nil {
			return false, err
		}
		return false, f.push(math.Float64frombits(binary.BigEndian.Uint64(b)), 0)
	case 'I': // INT (text); also protocol 0's booleans
		s, err := m.line()
		if err != nil {
			return false, err
		}
		switch s {
		case "00":
			return false, f.push(false, 0)
		case "01":
			return false, f.push(true, 0)
		}
		return false, f.pushIntText(s)
	case 'L': // LONG (text)
		s, err := m.line()
		if err != nil {
			return false, err
		}
		return false, f.pushIntText(strings.TrimSuffix(s, "L"))
	case 'F': // FLOAT (text)
		s, err := m.line()
		if err != nil {
			return false, err
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return false, fmt.Errorf("bad float %s", untrusted.Quote(s))
		}
		return false, f.push(x, 0)
	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		w := map[byte]int{'X': 4, 0x8c: 1, 0x8d: 8}[op]
		b, err := m.sized(w)
		if err != nil {
			return false, err
		}
		if !utf8.Valid(b) {
			// Python writes lone surrogates with surrogatepass; keep
			// the bytes rather than refuse.
			return false, f.push(strings.ToValidUTF8(string(b), "\uFFFD"), 0)
		}
		return false, f.push(string(b), 0)
	case 'V': // UNICODE (text, raw-unicode-escape)
		s, err := m.line()
		if err != nil {
			return false, err
		}
		u, err := rawUnicodeEscape(s)
		if err != nil {
			return false, err
		}
		return false, f.push(u, 0)
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING: Python 2 str, read as bytes
		w := 4
		if op == 'U' {
			w = 1
		}
		b, err := m.sized(w)
		if err != nil {
			return false, err
		}
		return false, f.push(string(b), 0)
	case 'S': // STRING (text, quoted)
		s, err := m.line()
		if err != nil {
			return false, err
		}
		u, err := strconv.Unquote(pyQuoteToGo(s))
		if err != nil {
			return false, fmt.Errorf("bad string literal %s", untrusted.Quote(s))
		}
		return false, f.push(u, 0)
	case 'B', 'C', 0x8e: // BINBYTES, SHORT_BINBYTES, BINBYTES8
		w := map[byte]int{'B': 4, 'C': 1, 0x8e: 8}[op]
		b, err := m.sized(w)
		if err != nil {
			return false, err
		}
		return false, f.push(b, 0)
	case 0x96: // BYTEARRAY8
		b, err := m.sized(8)
		if err != nil {
			return false, err
		}
		return false, f.push(b, 0)
	case 0x97, 0x98: // NEXT_BUFFER, READONLY_BUFFER
		return false, errors.New("out-of-band buffers are not supported")
	case ')':
		return false, f.push(Tuple{}, 1)
	case ']':
		return false, f.push(&List{depth: 1}, 1)
	case '}':
		return false, f.push(&Dict{depth: 1}, 1)
	case 0x8f: // EMPTY_SET
		return false, f.push(&Set{depth: 1}, 1)
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op-0x85) + 1
		if len(f.stack)-f.floor() < n {
			return false, errors.New("stack underflow")
		}
		k := len(f.stack) - n
		t := make(Tuple, n)
		copy(t, f.stack[k:])
		d := maxDepth(t, f.depths[k:]) + 1
		clear(f.stack[k:])
		f.stack, f.depths = f.stack[:k], f.depths[:k]
		return false, f.push(t, d)
	case 't': // TUPLE
		items, d, err := f.popMark()
		if err != nil {
			return false, err
		}
		return false, f.push(Tuple(items), d+1)
	case 'l': // LIST
		items, d, err := f.popMark()
		if err != nil {
			return false, err
		}
		return false, f.push(&List{Items: items, depth: d + 1}, d+1)
	case 'd': // DICT
		items, _, err := f.popMark()
		if err != nil {
			return false, err
		}
		if len(items)%2 != 0 {
			return false, errors.New("DICT with an odd number of items")
		}
		dict := &Dict{depth: 1}
		if err := f.setItems(dict, items); err != nil {
			return false, err
		}
		return false, f.push(dict, dict.depth)
	case 0x91: // FROZENSET
		items, d, err := f.popMark()
		if err != nil {
			return false, err
		}
		return false, f.push(&Set{Items: items, Frozen: true, depth: d + 1}, d+1)
	case 'a': // APPEND
		v, _, err := f.pop()
		if err != nil {
			return false, err
		}
		return false, f.appendTo([]any{v})
	case 'e': // APPENDS
		items, _, err := f.popMark()
		if err != nil {
			return false, err
		}
		return false, f.appendTo(items)
	case 0x90: // ADDITEMS
		items, _, err := f.popMark()
		if err != nil {
			return false, err
		}
		t, err := f.top()
		if err != nil {
			return false, err
		}
		s, ok := t.(*Set)
		if !ok {
			return false, fmt.Errorf("ADDITEMS to a %s", TypeName(t))
		}
		s.Items = append(s.Items, items...)
		s.depth = max(s.depth, maxDepth(items, nil)+1)
		return false, f.checkDepth(s.depth)
	case 's': // SETITEM
		if len(f.stack)-f.floor() < 3 {
			return false, errors.New("stack underflow")
		}
		v, _, _ := f.pop()
		k, _, _ := f.pop()
		return false, f.setItemsOnTop([]any{k, v})
	case 'u': // SETITEMS
		items, _, err := f.popMark()
		if err != nil {
			return false, err
		}
		if len(items)%2 != 0 {
			return false, errors.New("SETITEMS with an odd number of items")
		}
		return false, f.setItemsOnTop(items)
	case 'g': // GET (text)
		s, err := m.line()
		if err != nil {
			return false, err
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return false, fmt.Errorf("bad memo key %s", untrusted.Quote(s))
		}
		return false, f.memoGet(uint32(n))
	case 'h': // BINGET
		n, err := m.u8()
		if err != nil {
			return false, err
		}
		return false, f.memoGet(uint32(n))
	case 'j': // LONG_BINGET
		n, err := m.u32()
		if err != nil {
			return false, err
		}
		return false, f.memoGet(n)
	case 'p', 'q', 'r', 0x94: // PUT, BINPUT, LONG_BINPUT, MEMOIZE
		var idx uint32
		switch op {
		case 'p':
			s, err := m.line()
			if err != nil {
				return false, err
			}
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return false, fmt.Errorf("bad memo key %s", untrusted.Quote(s))
			}
			idx = uint32(n)
		case 'q':
			n, err := m.u8()
			if err != nil {
				return false, err
			}
			idx = uint32(n)
		case 'r':
			n, err := m.u32()
			if err != nil {
				return false, err
			}
			idx = n
		default:
			idx = uint32(len(f.memo))
			if len(f.memo) >= math.MaxUint32 {
				return false, errors.New("memo full")
			}
		}
		v, err := f.top()
		if err != nil {
			return false, err
		}
		return false, f.memoPut(idx, v, f.depths[len(f.depths)-1])
	case 'c': // GLOBAL
		mod, err := m.line()
		if err != nil {
			return false, err
		}
		name, err := m.line()
		if err != nil {
			return false, err
		}
		g, err := m.global(mod, name)
		if err != nil {
			return false, err
		}
		return false, f.push(g, 0)
	case 0x93: // STACK_GLOBAL
		nv, _, err := f.pop()
		if err != nil {
			return false, err
		}
		mv, _, err := f.pop()
		if err != nil {
			return false, err
		}
		mod, ok1 := mv.(string)
		name, ok2 := nv.(string)
		if !ok1 || !ok2 {
			return false, errors.New("STACK_GLOBAL needs two strings")
		}
		g, err := m.global(mod, name)
		if err != nil {
			return false, err
		}
		return false, f.push(g, 0)
	case 'R': // REDUCE
		callable, t, ad, err := f.popCall("REDUCE")
		if err != nil {
			return false, err
		}
		v, err := f.call(callable, t, nil)
		if err != nil {
			return false, err
		}
		return false, f.push(v, ad+1)
	case 0x81: // NEWOBJ
		cls, t, ad, err := f.popCall("NEWOBJ")
		if err != nil {
			return false, err
		}
		v, err := f.newObj(cls, t, nil)
		if err != nil {
			return false, err
		}
		return false, f.push(v, ad+1)
	case 0x92: // NEWOBJ_EX
		kw, kd, err := f.pop()
		if err != nil {
			return false, err
		}
		args, ad, err := f.pop()
		if err != nil {
			return false, err
		}
		cls, _, err := f.pop()
		if err != nil {
			return false, err
		}
		t, ok := args.(Tuple)
		kwd, ok2 := kw.(*Dict)
		if !ok || !ok2 {
			return false, errors.New("NEWOBJ_EX needs a tuple and a dict")
		}
		v, err := f.newObj(cls, t, kwd)
		if err != nil {
			return false, err
		}
		return false, f.push(v, max(ad, kd)+1)
	case 'b': // BUILD
		state, sd, err := f.pop()
		if err != nil {
			return false, err
		}
		obj, err := f.top()
		if err != nil {
			return false, err
		}
		repl, err := f.build(obj, state, sd)
		if err != nil {
			return false, err
		}
		if repl != nil {
			f.stack[len(f.stack)-1] = repl
			f.depths[len(f.depths)-1] = max(f.depths[len(f.depths)-1], sd+1)
		}
	case 'P', 'Q':
		return false, f.persistentLoad(op)
	case 0x82, 0x83, 0x84:
		return false, errors.New("extension codes (copyreg registry) are not supported")
	case 'i', 'o':
		return false, errors.New("protocol 0/1 instance opcodes are not supported")
	default:
		return false, fmt.Errorf("unknown opcode")
	}
	return false, nil
}

// persistentLoad implements PERSID (a text line) and BINPERSID (the
// value on the stack) through Options.PersistentLoad.
func (f *frame) persistentLoad(op byte) error {
	m := f.m
	if m.opts.PersistentLoad == nil {
		return errors.New("persistent IDs are not supported")
	}
	var pid any
	var depth int32
	if op == 'P' {
		s, err := m.line()
		if err != nil {
			return err
		}
		pid = s
	} else {
		v, d, err := f.pop()
		if err != nil {
			return err
		}
		pid, depth = v, d
	}
	v, err := m.opts.PersistentLoad(pid)
	if err != nil {
		return err
	}
	return f.push(v, depth+1)
}

func (f *frame) checkDepth(d int32) error {
	if int(d) > f.m.opts.MaxDepth {
		return fmt.Errorf("nesting deeper than %d", f.m.opts.MaxDepth)
	}
	return nil
}

func (f *frame) appendTo(items []any) error {
	t, err := f.top()
	if err != nil {
		return err
	}
	l, ok := t.(*List)
	if !ok {
		return fmt.Errorf("APPEND to a %s", TypeName(t))
	}
	l.Items = append(l.Items, items...)
	l.depth = max(l.depth, maxDepth(items, nil)+1)
	return f.checkDepth(l.depth)
}

func (f *frame) setItemsOnTop(items []any) error {
	t, err := f.top()
	if err != nil {
		return err
	}
	d, ok := t.(*Dict)
	if !ok {
		return fmt.Errorf("SETITEM on a %s", TypeName(t))
	}
	return f.setItems(d, items)
}

func (f *frame) setItems(d *Dict, items []any) error {
	for i := 0; i+1 < len(items); i += 2 {
		d.Set(items[i], items[i+1])
	}
	d.depth = max(d.depth, maxDepth(items, nil)+1)
	return f.checkDepth(d.depth)
}

func (f *frame) pushIntText(s string) error {
	s = strings.TrimSpace(s)
	if len(s) > f.m.remaining()+64 {
		return errors.New("integer literal too long")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return f.push(n, 0)
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return fmt.Errorf("bad integer %s", untrusted.Quote(s))
	}
	return f.push(b, 0)
}

// decodeLong decodes a little-endian two's complement integer.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(u<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// pyQuoteToGo turns a protocol 0 STRING literal ('...' or "...") into a
// Go-quoted string.
func pyQuoteToGo(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		body := strings.ReplaceAll(s[1:len(s)-1], `\'`, `'`)
		return `"` + strings.ReplaceAll(body, `"`, `\"`) + `"`
	}
	return s
}

// rawUnicodeEscape decodes Python's raw-unicode-escape: \uXXXX and
// \UXXXXXXXX escapes, everything else (bytes as Latin-1) verbatim.
func rawUnicodeEscape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 1 + n
					continue
				}
			}
		}
		b.WriteRune(rune(c))
	}
	return b.String(), nil
}

// TypeName names a value's Python type for an error message ("dict",
// "int", a class's escaped name); formats built on pickle (torchfile) use
// it for the values they do not know themselves.
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case *Global:
		return untrusted.Name(x.String())
	case *Object:
		return untrusted.Name(x.Class.String()) + " instance"
	case *Array:
		return "numpy.ndarray"
	case *Dtype:
		return "numpy.dtype"
	}
	return fmt.Sprintf("%T", v)
}
