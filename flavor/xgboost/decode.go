package xgboost

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// A model file decodes into a tree of generic values: map[string]any for
// an object, []float64 for an array whose items are all numbers (most of
// a model's bytes: split conditions, children, indices), []any for any
// other array, float64, string, bool and nil. JSON and UBJSON become the
// same tree, so one builder reads both.
//
// Every allocation follows the input: an item costs at least one byte of
// it (a typed UBJSON array's count is checked against the bytes that
// remain before anything is allocated), and nesting is bounded by
// maxDepth, so a hostile file costs memory proportional to its size.

// maxDepth bounds nesting; XGBoost's models nest about 8 deep.
const maxDepth = 64

// isUBJSON tells XGBoost's UBJSON (which also starts with '{') from JSON:
// after the brace, JSON has whitespace, a quote or '}', UBJSON a type
// marker.
func isUBJSON(data []byte) bool {
	if len(data) < 2 || data[0] != '{' {
		return false
	}
	switch data[1] {
	case 'i', 'U', 'I', 'l', 'L', '$', '#':
		return true
	}
	return false
}

// decodeJSON reads a JSON document.
func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := jsonValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("JSON: data after the model's object")
	}
	return v, nil
}

func jsonValue(d *json.Decoder, depth int) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, jsonError(d, err)
	}
	return jsonFrom(d, tok, depth)
}

func jsonError(d *json.Decoder, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("JSON at byte %d: %w", d.InputOffset(), err)
}

func jsonFrom(d *json.Decoder, tok json.Token, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("JSON nests deeper than %d levels", maxDepth)
		}
		if t == '{' {
			obj := map[string]any{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, jsonError(d, err)
				}
				key, _ := k.(string)
				v, err := jsonValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				obj[key] = v
			}
			_, err := d.Token()
			return obj, err
		}
		var nums []float64
		var items []any
		for d.More() {
			tok, err := d.Token()
			if err != nil {
				return nil, jsonError(d, err)
			}
			if n, ok := tok.(json.Number); ok && items == nil {
				f, err := strconv.ParseFloat(string(n), 64)
				if err != nil && !errors.Is(err, strconv.ErrRange) {
					return nil, fmt.Errorf("JSON at byte %d: %w", d.InputOffset(), err)
				}
				nums = append(nums, f)
				continue
			}
			if items == nil {
				items, nums = boxNums(nums), nil
			}
			v, err := jsonFrom(d, tok, depth+1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		if _, err := d.Token(); err != nil {
			return nil, jsonError(d, err)
		}
		if items != nil {
			return items, nil
		}
		if nums == nil {
			nums = []float64{}
		}
		return nums, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("JSON at byte %d: %w", d.InputOffset(), err)
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("JSON at byte %d: unexpected %v", d.InputOffset(), tok)
}

// ubj reads UBJSON (Draft 12, as XGBoost writes it: big-endian numbers,
// optimised containers with $type and #count).
type ubj struct {
	data []byte
	pos  int
}

func decodeUBJSON(data []byte) (any, error) {
	u := &ubj{data: data}
	v, err := u.value(0)
	if err != nil {
		return nil, err
	}
	if u.pos != len(u.data) {
		return nil, fmt.Errorf("UBJSON: %d bytes after the model's object", len(u.data)-u.pos)
	}
	return v, nil
}

func (u *ubj) errorf(format string, args ...any) error {
	return fmt.Errorf("UBJSON at byte %d: %s", u.pos, fmt.Sprintf(format, args...))
}

func (u *ubj) take(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, u.errorf("%d bytes claimed, %d left", n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *ubj) marker() (byte, error) {
	for {
		b, err := u.take(1)
		if err != nil {
			return 0, err
		}
		if b[0] != 'N' { // no-op
			return b[0], nil
		}
	}
}

// size is the bytes of one number of a type marker, 0 for others.
func size(m byte) int {
	switch m {
	case 'i', 'U':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return 0
}

// number reads a number of type m.
func (u *ubj) number(m byte) (float64, error) {
	b, err := u.take(size(m))
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i':
		return float64(int8(b[0])), nil
	case 'U':
		return float64(b[0]), nil
	case 'I':
		return float64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return float64(int32(binary.BigEndian.Uint32(b))), nil
	case 'L':
		return float64(int64(binary.BigEndian.Uint64(b))), nil
	case 'd':
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// length reads a count or a string's length: an integer of any type.
func (u *ubj) length() (int, error) {
	m, err := u.marker()
	if err != nil {
		return 0, err
	}
	if size(m) == 0 || m == 'd' || m == 'D' {
		return 0, u.errorf("a length must be an integer, got marker %q", m)
	}
	f, err := u.number(m)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > float64(len(u.data)) {
		return 0, u.errorf("length %g is beyond the file's %d bytes", f, len(u.data))
	}
	return int(f), nil
}

func (u *ubj) str() (string, error) {
	n, err := u.length()
	if err != nil {
		return "", err
	}
	b, err := u.take(n)
	return string(b), err
}

func (u *ubj) value(depth int) (any, error) {
	m, err := u.marker()
	if err != nil {
		return nil, err
	}
	return u.valueOf(m, depth)
}

func (u *ubj) valueOf(m byte, depth int) (any, error) {
	switch m {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L', 'd', 'D':
		return u.number(m)
	case 'C':
		b, err := u.take(1)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 'S', 'H':
		s, err := u.str()
		if err != nil {
			return nil, err
		}
		if m == 'H' {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, u.errorf("high-precision number %q", s)
			}
			return f, nil
		}
		return s, nil
	case '[', '{':
		if depth >= maxDepth {
			return nil, u.errorf("nests deeper than %d levels", maxDepth)
		}
		return u.container(m == '{', depth+1)
	}
	if m < 0x20 || m >= utf8.RuneSelf {
		return nil, u.errorf("unknown type marker 0x%02x", m)
	}
	return nil, u.errorf("unknown type marker %q", m)
}

// container reads an array or object after its opening marker.
func (u *ubj) container(object bool, depth int) (any, error) {
	typ, count := byte(0), -1
	if u.pos < len(u.data) && u.data[u.pos] == '$' {
		u.pos++
		b, err := u.take(1)
		if err != nil {
			return nil, err
		}
		typ = b[0]
		if u.pos >= len(u.data) || u.data[u.pos] != '#' {
			return nil, u.errorf("a typed container needs a count")
		}
	}
	if u.pos < len(u.data) && u.data[u.pos] == '#' {
		u.pos++
		n, err := u.length()
		if err != nil {
			return nil, err
		}
		// Each item costs at least a byte (a typed number its size; a
		// null, true or false nothing, which is refused here).
		per := 1
		if typ != 0 {
			per = size(typ)
			if typ == 'Z' || typ == 'T' || typ == 'F' || typ == 'N' {
				return nil, u.errorf("containers of marker %q are not read", typ)
			}
			if per == 0 {
				per = 1
			}
		}
		if n > (len(u.data)-u.pos)/per {
			return nil, u.errorf("%d items claimed, more than the %d bytes left hold", n, len(u.data)-u.pos)
		}
		count = n
	}
	if object {
		return u.object(typ, count, depth)
	}
	return u.array(typ, count, depth)
}

func (u *ubj) object(typ byte, count, depth int) (any, error) {
	obj := map[string]any{}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			if u.pos >= len(u.data) {
				return nil, u.errorf("object not closed")
			}
			if u.data[u.pos] == '}' {
				u.pos++
				break
			}
		}
		k, err := u.str()
		if err != nil {
			return nil, err
		}
		var v any
		if typ != 0 {
			v, err = u.valueOf(typ, depth)
		} else {
			v, err = u.value(depth)
		}
		if err != nil {
			return nil, err
		}
		obj[k] = v
	}
	return obj, nil
}

func (u *ubj) array(typ byte, count, depth int) (any, error) {
	if typ != 0 && size(typ) > 0 {
		nums := make([]float64, count)
		for i := range nums {
			f, err := u.number(typ)
			if err != nil {
				return nil, err
			}
			nums[i] = f
		}
		return nums, nil
	}
	var nums []float64
	var items []any
	for i := 0; count < 0 || i < count; i++ {
		m := typ
		if m == 0 {
			var err error
			if m, err = u.marker(); err != nil {
				return nil, err
			}
			if count < 0 && m == ']' {
				break
			}
		}
		if size(m) > 0 && items == nil {
			f, err := u.number(m)
			if err != nil {
				return nil, err
			}
			nums = append(nums, f)
			continue
		}
		if items == nil {
			items, nums = boxNums(nums), nil
		}
		v, err := u.valueOf(m, depth)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if items != nil {
		return items, nil
	}
	if nums == nil {
		nums = []float64{}
	}
	return nums, nil
}

// boxNums turns the numbers an array began with into its items, once it
// holds something else too (an array of numbers alone stays []float64).
func boxNums(nums []float64) []any {
	items := make([]any, len(nums), len(nums)+1)
	for i, f := range nums {
		items[i] = f
	}
	return items
}
