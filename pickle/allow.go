package pickle

import (
	"errors"
	"fmt"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
)

// builtinGlobals are the globals every pickle may reference: data
// constructors the reader implements itself.
var builtinGlobals = map[string]bool{
	"builtins.dict": true, "builtins.list": true, "builtins.tuple": true,
	"builtins.set": true, "builtins.frozenset": true, "builtins.slice": true,
	"builtins.object": true, "builtins.bytearray": true, "builtins.bytes": true,
	"builtins.int": true, "builtins.float": true, "builtins.str": true, "builtins.bool": true,

	"copyreg._reconstructor": true, "copyreg.__newobj__": true,

	"_codecs.encode": true,

	"numpy.ndarray":                      true,
	"numpy.dtype":                        true,
	"numpy.core.multiarray._reconstruct": true,
	"numpy.core.multiarray.scalar":       true,
	"numpy.core.numeric._frombuffer":     true,

	// RandomState objects kept as inert values (an estimator's
	// random_state parameter may be one).
	"numpy.random._pickle.__randomstate_ctor":   true,
	"numpy.random._pickle.__bit_generator_ctor": true,
	"numpy.random._pickle.__generator_ctor":     true,
	"numpy.random.__RandomState_ctor":           true,
	"numpy.random.mtrand.RandomState":           true,
	"numpy.random._mt19937.MT19937":             true,
	"numpy.random.bit_generator.SeedSequence":   true,
	"numpy.random._bit_generator.SeedSequence":  true,

	joblibWrapper: true,
}

const joblibWrapper = "joblib.numpy_pickle.NumpyArrayWrapper"

// inertFuncs are allowed functions whose result is kept as an inert
// object (their arguments recorded, nothing run).
var inertFuncs = map[string]bool{
	"numpy.random._pickle.__randomstate_ctor":   true,
	"numpy.random._pickle.__bit_generator_ctor": true,
	"numpy.random._pickle.__generator_ctor":     true,
	"numpy.random.__RandomState_ctor":           true,
}

// AllowedGlobals lists the globals every pickle may reference, besides
// Options.Classes (for documentation and DESCRIBE).
func AllowedGlobals() []string {
	var out []string
	for k, ok := range builtinGlobals {
		if ok {
			out = append(out, k)
		}
	}
	return out
}

func (m *machine) global(mod, name string) (*Global, error) {
	key := canonicalModule(mod) + "." + name
	if builtinGlobals[key] || m.classes[key] || m.opts.Funcs[key] != nil || m.allowed(key) {
		return &Global{Module: mod, Name: name, Key: key}, nil
	}
	return nil, &RefusedError{Module: mod, Name: name}
}

func (m *machine) isClass(g *Global) bool {
	switch g.Key {
	case joblibWrapper, "builtins.object", "builtins.slice",
		"numpy.random.mtrand.RandomState", "numpy.random._mt19937.MT19937",
		"numpy.random.bit_generator.SeedSequence", "numpy.random._bit_generator.SeedSequence":
		return true
	}
	return m.classes[g.Key] || m.allowed(g.Key)
}

// allowed asks Options.Allow, when set.
func (m *machine) allowed(key string) bool {
	return m.opts.Allow != nil && m.opts.Allow(key)
}

// callerFunc is the Options.Funcs entry for g, if any; built-in globals
// keep their own meaning.
func (m *machine) callerFunc(g *Global) func(Tuple) (any, error) {
	if builtinGlobals[g.Key] {
		return nil
	}
	return m.opts.Funcs[g.Key]
}

// call implements REDUCE.
func (f *frame) call(callable any, args Tuple, kw *Dict) (any, error) {
	g, ok := callable.(*Global)
	if !ok {
		return nil, fmt.Errorf("REDUCE calls a %s, which is not callable", TypeName(callable))
	}
	m := f.m
	if fn := m.callerFunc(g); fn != nil {
		return fn(args)
	}
	arg := func(i int) any {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	switch g.Key {
	case "builtins.dict":
		d := &Dict{depth: 1}
		if len(args) > 0 {
			// A copy: counted, since one memoized dict may be copied
			// many times by a few bytes each.
			if n, err := lenOf(args[0]); err != nil {
				return nil, err
			} else if err := m.charge(n); err != nil {
				return nil, err
			}
			switch x := args[0].(type) {
			case *Dict:
				for i := range x.Keys {
					d.Set(x.Keys[i], x.Values[i])
				}
			default:
				items, err := iterItems(x)
				if err != nil {
					return nil, err
				}
				for _, it := range items {
					p, ok := it.(Tuple)
					if !ok || len(p) != 2 {
						return nil, errors.New("dict() needs pairs")
					}
					d.Set(p[0], p[1])
				}
			}
		}
		return d, nil
	case "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset":
		var items []any
		if len(args) > 0 {
			var err error
			if items, err = iterItems(args[0]); err != nil {
				return nil, err
			}
			if err := m.charge(len(items)); err != nil {
				return nil, err
			}
			items = append([]any(nil), items...)
		}
		switch g.Key {
		case "builtins.list":
			return &List{Items: items, depth: 1}, nil
		case "builtins.tuple":
			return Tuple(items), nil
		}
		return &Set{Items: items, Frozen: g.Key == "builtins.frozenset", depth: 1}, nil
	case "builtins.bytes", "builtins.bytearray", "_codecs.encode":
		switch x := arg(0).(type) {
		case nil:
			if len(args) == 0 {
				return []byte{}, nil
			}
		case []byte:
			// Nothing mutates bytes values: share them, as Python's
			// bytes(b) does.
			return x, nil
		case string:
			if err := m.chargeBytes(len(x)); err != nil {
				return nil, err
			}
			enc, _ := arg(1).(string)
			return encodeString(x, enc)
		}
		return nil, fmt.Errorf("%s of a %s is not supported", g, TypeName(arg(0)))
	case "builtins.int", "builtins.float", "builtins.str", "builtins.bool":
		if len(args) == 1 {
			switch x := args[0].(type) {
			case int64, float64, string, bool:
				return x, nil
			}
		}
		return nil, fmt.Errorf("%s(%d arguments) is not supported", g, len(args))
	case "copyreg._reconstructor":
		cls, ok := arg(0).(*Global)
		if !ok || len(args) != 3 {
			return nil, errors.New("copyreg._reconstructor needs (class, base, state)")
		}
		obj, err := f.newObj(cls, nil, nil)
		if err != nil {
			return nil, err
		}
		if o, ok := obj.(*Object); ok && args[2] != nil {
			o.State = args[2]
		}
		return obj, nil
	case "copyreg.__newobj__":
		if len(args) == 0 {
			return nil, errors.New("copyreg.__newobj__ needs a class")
		}
		return f.newObj(args[0], args[1:], nil)
	case "numpy.core.multiarray._reconstruct":
		sub, ok := arg(0).(*Global)
		if !ok || sub.Key != "numpy.ndarray" {
			return nil, fmt.Errorf("numpy _reconstruct of a %s", TypeName(arg(0)))
		}
		return &Array{}, nil
	case "numpy.dtype":
		s, ok := arg(0).(string)
		if !ok {
			return nil, fmt.Errorf("numpy.dtype of a %s", TypeName(arg(0)))
		}
		return newDtype(s)
	case "numpy.core.multiarray.scalar":
		dt, ok := arg(0).(*Dtype)
		if !ok {
			return nil, errors.New("numpy scalar needs a dtype")
		}
		return dt.scalar(arg(1))
	case "numpy.core.numeric._frombuffer":
		return frombuffer(args)
	}
	if inertFuncs[g.Key] {
		return &Object{Class: g, Args: args, depth: 1}, nil
	}
	if m.isClass(g) {
		return &Object{Class: g, Args: args, Kwargs: kw, depth: 1}, nil
	}
	return nil, fmt.Errorf("calling %s is not supported", g)
}

// newObj implements NEWOBJ and NEWOBJ_EX: cls.__new__(cls, *args).
func (f *frame) newObj(clsv any, args Tuple, kw *Dict) (any, error) {
	cls, ok := clsv.(*Global)
	if !ok {
		return nil, fmt.Errorf("NEWOBJ of a %s, which is not a class", TypeName(clsv))
	}
	switch cls.Key {
	case "builtins.dict":
		return &Dict{depth: 1}, nil
	case "builtins.list":
		return &List{depth: 1}, nil
	case "builtins.set", "builtins.frozenset", "builtins.tuple":
		return f.call(cls, args, kw)
	}
	if fn := f.m.callerFunc(cls); fn != nil {
		return fn(args)
	}
	if f.m.isClass(cls) {
		return &Object{Class: cls, Args: args, Kwargs: kw, depth: 1}, nil
	}
	return nil, fmt.Errorf("%s is not a class that can be instantiated", cls)
}

// build implements BUILD; a non-nil result replaces the object on the
// stack (joblib's array wrapper becomes the array it wraps).
func (f *frame) build(obj, state any, sd int32) (any, error) {
	if hook := f.m.opts.Build; hook != nil {
		if handled, err := hook(obj, state); handled || err != nil {
			return nil, err
		}
	}
	switch o := obj.(type) {
	case *Array:
		return nil, o.setState(state)
	case *Dtype:
		return nil, o.setState(state)
	case *Object:
		if o.Class.Key == joblibWrapper {
			return f.readJoblibArray(o, state)
		}
		o.depth = max(o.depth, sd+1)
		if err := f.checkDepth(o.depth); err != nil {
			return nil, err
		}
		var slots any
		if t, ok := state.(Tuple); ok && len(t) == 2 {
			if _, isDict := t[0].(*Dict); isDict || t[0] == nil {
				state, slots = t[0], t[1]
			}
		}
		if d, ok := state.(*Dict); ok {
			if err := f.mergeInto(o, d); err != nil {
				return nil, err
			}
		} else if state != nil {
			o.State = state
		}
		if d, ok := slots.(*Dict); ok {
			if err := f.mergeInto(o, d); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("BUILD on a %s", TypeName(obj))
}

// mergeInto copies a BUILD state into an object's attributes; the copy
// is counted, since one memoized state may be applied many times.
func (f *frame) mergeInto(o *Object, d *Dict) error {
	if err := f.m.charge(d.Len()); err != nil {
		return err
	}
	if o.Dict == nil {
		o.Dict = &Dict{depth: 1}
	}
	for i := range d.Keys {
		o.Dict.Set(d.Keys[i], d.Values[i])
	}
	return nil
}

// lenOf is the number of items iterating v gives.
func lenOf(v any) (int, error) {
	items, err := iterItems(v)
	return len(items), err
}

func iterItems(v any) ([]any, error) {
	switch x := v.(type) {
	case Tuple:
		return x, nil
	case *List:
		return x.Items, nil
	case *Set:
		return x.Items, nil
	case *Dict:
		return x.Keys, nil
	}
	return nil, fmt.Errorf("cannot iterate a %s", TypeName(v))
}

// encodeString is str.encode for the encodings pickles use.
func encodeString(s, enc string) ([]byte, error) {
	switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("character U+%04X cannot be encoded as latin-1", r)
			}
			b = append(b, byte(r))
		}
		return b, nil
	case "utf-8", "utf8", "ascii", "":
		return []byte(s), nil
	}
	return nil, fmt.Errorf("encoding %s is not supported", untrusted.Quote(enc))
}
