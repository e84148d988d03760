package pickle

import (
	"errors"
	"strings"
	"testing"
)

// hooked is [OrderedDict([('a', 1)]) with attribute _meta, a fam.sub.Cls
// instance with v=3, persistent id ('storage', 7)], pickled by Python 3
// (protocol 2) with a persistent_id hook.
const hooked = "\x80\x02]q\x00(ccollections\nOrderedDict\nq\x01)Rq\x02X\x01\x00\x00\x00aq\x03K\x01s}q\x04X\x05\x00\x00\x00_metaq\x05}q\x06X\x01\x00\x00\x00xq\x07K\x02ssbcfam.sub\nCls\nq\x08)\x81q\t}q\nX\x01\x00\x00\x00vq\x0bK\x03sbX\x07\x00\x00\x00storageq\x0cK\x07\x86q\rQe."

type ref struct{ pid Tuple }

func hookOptions(built *[]any) *Options {
	return &Options{
		Allow: func(key string) bool { return strings.HasPrefix(key, "fam.") },
		Funcs: map[string]func(Tuple) (any, error){
			"collections.OrderedDict": func(Tuple) (any, error) { return &Dict{}, nil },
		},
		PersistentLoad: func(pid any) (any, error) {
			t, ok := pid.(Tuple)
			if !ok {
				return nil, errors.New("pid is not a tuple")
			}
			return &ref{t}, nil
		},
		Build: func(obj, state any) (bool, error) {
			if _, ok := obj.(*Dict); ok {
				*built = append(*built, state)
				return true, nil
			}
			return false, nil
		},
	}
}

func TestHooks(t *testing.T) {
	var built []any
	v, err := Unpickle([]byte(hooked), hookOptions(&built))
	if err != nil {
		t.Fatal(err)
	}
	l := v.(*List)
	if len(l.Items) != 3 {
		t.Fatalf("%d items", len(l.Items))
	}
	if d, ok := l.Items[0].(*Dict); !ok {
		t.Errorf("OrderedDict became a %T", l.Items[0])
	} else if a, _ := d.Get("a"); a != int64(1) {
		t.Errorf("OrderedDict a=%v", a)
	}
	if len(built) != 1 {
		t.Errorf("Build hook saw %d states", len(built))
	}
	if o, ok := l.Items[1].(*Object); !ok || o.ClassName() != "fam.sub.Cls" {
		t.Errorf("class admitted by Allow became %#v", l.Items[1])
	} else if v, _ := o.Attr("v"); v != int64(3) {
		t.Errorf("v=%v", v)
	}
	r, ok := l.Items[2].(*ref)
	if !ok || len(r.pid) != 2 || r.pid[0] != "storage" || r.pid[1] != int64(7) {
		t.Errorf("persistent id became %#v", l.Items[2])
	}
}

func TestHooksUnsetKeepRefusing(t *testing.T) {
	_, err := Unpickle([]byte(hooked), nil)
	var re *RefusedError
	if !errors.As(err, &re) || re.Module != "collections" {
		t.Errorf("without hooks: %v", err)
	}
	// Persistent IDs stay unsupported without PersistentLoad, both forms.
	for _, p := range []string{"Pseven\n.", "\x80\x02K\x07Q."} {
		if _, err := Unpickle([]byte(p), nil); err == nil || !strings.Contains(err.Error(), "persistent IDs are not supported") {
			t.Errorf("%q: %v", p, err)
		}
	}
}

func TestPersistentIDText(t *testing.T) {
	var built []any
	opts := hookOptions(&built)
	opts.PersistentLoad = func(pid any) (any, error) { return pid, nil }
	v, err := Unpickle([]byte("Pseven\n."), opts)
	if err != nil || v != "seven" {
		t.Errorf("PERSID: %v, %v", v, err)
	}
	// A failing hook fails the pickle, with the opcode's offset.
	opts.PersistentLoad = func(any) (any, error) { return nil, errors.New("no such storage") }
	if _, err := Unpickle([]byte("Pseven\n."), opts); err == nil || !strings.Contains(err.Error(), "no such storage") {
		t.Errorf("failing hook: %v", err)
	}
	// Funcs do not override the built-in allowlist.
	opts.Funcs = map[string]func(Tuple) (any, error){
		"builtins.list": func(Tuple) (any, error) { return "hijacked", nil },
	}
	v, err = Unpickle([]byte("\x80\x02c__builtin__\nlist\n)R."), opts)
	if _, ok := v.(*List); !ok || err != nil {
		t.Errorf("builtins.list through Funcs: %v, %v", v, err)
	}
}

func TestUnpickleNext(t *testing.T) {
	// Two pickles in a row, then raw bytes: K\x07. is 7, N. is None.
	data := []byte("\x80\x02K\x07.\x80\x02N.raw")
	v, n, err := UnpickleNext(data, nil)
	if err != nil || v != int64(7) || n != 5 {
		t.Fatalf("first: %v, %d, %v", v, n, err)
	}
	v, n2, err := UnpickleNext(data[n:], nil)
	if err != nil || v != nil || n2 != 4 || string(data[n+n2:]) != "raw" {
		t.Fatalf("second: %v, %d, %v", v, n2, err)
	}
	if _, _, err := UnpickleNext(data[:3], nil); err == nil {
		t.Error("a truncated pickle was read")
	}
}
