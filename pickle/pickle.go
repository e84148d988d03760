// Package pickle reads Python pickles (protocols 2 to 5, and the text
// opcodes of protocols 0 and 1 that are cheap to support) and joblib files
// without running any code.
//
// Python's unpickler imports and calls whatever a file names. This reader
// instead resolves every global through an allowlist of data constructors
// (builtins containers, copyreg reconstructors, numpy arrays, dtypes and
// scalars, _codecs.encode, joblib's NumpyArrayWrapper) plus the inert
// classes a caller names in Options.Classes (or admits through the hooks
// of Options, for formats built on pickle); anything else fails with
//
//	pickle references <module>.<name>, which augur does not load
//
// Instances of allowed classes become *Object values holding their
// constructor arguments and their state: nothing is executed.
//
// Limits: every length a file claims is checked against the input that
// remains before anything is allocated; nesting (marks, containers,
// embedded pickles) is limited by Options.MaxDepth, the values created
// (and the items copied into new containers) by limits.PickleObjects and
// the memo by limits.PickleMemo, so that memory stays proportional to
// those limits whatever the file. Truncated or corrupt input is an
// error, never a panic. Names and strings from the file that appear in
// errors are escaped (package untrusted).
//
// Values: None is nil; bool, int64 (or *big.Int when it does not fit),
// float64, string, []byte (bytes and bytearray), Tuple, *List, *Dict, *Set
// (also frozenset), *Global (an allowed class or function), *Object,
// *Array and *Dtype (numpy); numpy scalars become the matching Go scalar.
package pickle

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
)

// Tuple is a Python tuple.
type Tuple []any

// List is a Python list.
type List struct {
	Items []any
	depth int32
}

// Set is a Python set or frozenset.
type Set struct {
	Items  []any
	Frozen bool
	depth  int32
}

// Dict is a Python dict; keys keep their insertion order. Keys that are
// strings, integers, floats, booleans or None replace earlier equal keys;
// other keys are kept as written.
type Dict struct {
	Keys   []any
	Values []any
	index  map[any]int
	depth  int32
}

// Len is the number of entries.
func (d *Dict) Len() int { return len(d.Keys) }

// Get looks up a key that is a string, integer, float, bool or None.
func (d *Dict) Get(key any) (any, bool) {
	if d == nil || d.index == nil {
		return nil, false
	}
	k, ok := hashKey(key)
	if !ok {
		return nil, false
	}
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.Values[i], true
}

// Set adds or replaces an entry.
func (d *Dict) Set(key, val any) {
	if k, ok := hashKey(key); ok {
		if d.index == nil {
			d.index = map[any]int{}
		}
		if i, dup := d.index[k]; dup {
			d.Values[i] = val
			return
		}
		d.index[k] = len(d.Keys)
	}
	d.Keys = append(d.Keys, key)
	d.Values = append(d.Values, val)
}

// hashKey maps the keys Dict indexes to comparable Go values.
func hashKey(k any) (any, bool) {
	switch x := k.(type) {
	case nil:
		return nil, true
	case string:
		return x, true
	case int64:
		return x, true
	case bool:
		if x {
			return int64(1), true // Python: True == 1
		}
		return int64(0), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true // Python: 1.0 == 1
		}
		return x, true
	case *big.Int:
		return "\x00bigint:" + x.String(), true
	}
	return nil, false
}

// Global is a class or function the allowlist admitted. Module and Name
// are as the file spelled them; Key is the canonical "module.name"
// (numpy._core → numpy.core, __builtin__ → builtins, copy_reg → copyreg).
type Global struct {
	Module, Name string
	Key          string
}

func (g *Global) String() string { return g.Module + "." + g.Name }

// Object is an instance of an allowed class: the arguments it was built
// with (NEWOBJ, REDUCE) and its state (BUILD). Dict holds a state that is
// a dict (or the dict half of a (dict, slots) state); State holds any
// other state as given.
type Object struct {
	Class  *Global
	Args   Tuple
	Kwargs *Dict
	Dict   *Dict
	State  any
	depth  int32
}

// Attr returns an attribute set by BUILD.
func (o *Object) Attr(name string) (any, bool) {
	if o == nil || o.Dict == nil {
		return nil, false
	}
	return o.Dict.Get(name)
}

// ClassName is "module.name" of the object's class, as canonicalised.
func (o *Object) ClassName() string { return o.Class.Key }

// RefusedError is returned for a global outside the allowlist.
type RefusedError struct {
	Module, Name string
}

func (e *RefusedError) Error() string {
	// The names are the file's: escaped, so that a name holding terminal
	// escape sequences prints as text.
	return fmt.Sprintf("pickle references %s, which augur does not load", untrusted.Name(e.Module+"."+e.Name))
}

// Options bound what a file may make the reader do. The zero value
// means the defaults.
type Options struct {
	// Classes lists extra classes ("module.name", numpy._core spelled
	// numpy.core) whose instances are materialised as inert *Object
	// values.
	Classes []string
	// MaxDepth bounds nesting: marks, containers, embedded pickles.
	// Default 1000. The sizes a file may reach are limits of package
	// limits: PickleObjects, PickleMemo, DecompressedBytes, ModelBytes.
	MaxDepth int

	// The hooks below let a caller read a format built on pickle (torch
	// files) without widening what every other pickle may reference;
	// all are unset by default.

	// Allow admits further classes by name ("module.name", canonical),
	// materialised like those of Classes: for a family of classes (a
	// package's modules) that a list cannot name.
	Allow func(key string) bool
	// Funcs are further callables ("module.name") implemented by the
	// caller: REDUCE or NEWOBJ of one calls it with the arguments and
	// pushes what it returns. Keys of the built-in allowlist are not
	// overridden.
	Funcs map[string]func(args Tuple) (any, error)
	// PersistentLoad resolves the persistent IDs of PERSID and
	// BINPERSID; without it they are refused.
	PersistentLoad func(pid any) (any, error)
	// Build, when set, sees every BUILD first; handled reports that it
	// applied the state, else the default applies.
	Build func(obj, state any) (handled bool, err error)
}

const defaultMaxDepth = 1000

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxDepth <= 0 {
		r.MaxDepth = defaultMaxDepth
	}
	return r
}

// canonicalModule maps numpy 2's and Python 2's spellings onto one.
func canonicalModule(m string) string {
	switch {
	case m == "numpy._core":
		return "numpy.core"
	case strings.HasPrefix(m, "numpy._core."):
		return "numpy.core." + m[len("numpy._core."):]
	case m == "__builtin__":
		return "builtins"
	case m == "copy_reg":
		return "copyreg"
	}
	return m
}
