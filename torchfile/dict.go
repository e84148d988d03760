package torchfile

import (
	"fmt"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/pickle"
)

// entry is one state_dict entry before its data is read.
type entry struct {
	key string
	v   *view
}

// extract finds the state_dict in what the file's pickle holds: a
// state_dict itself, a whole module, or a checkpoint dict holding either
// under "state_dict" or "model".
func extract(root any) ([]entry, string, error) {
	switch x := root.(type) {
	case *pickle.Object:
		es, err := moduleEntries(x)
		return es, "module", err
	case *pickle.Dict:
		if bad := nonTensorEntry(x); bad == "" {
			es, err := dictEntries(x)
			return es, "state_dict", err
		}
		for _, k := range []string{"state_dict", "model"} {
			if v, ok := x.Get(k); ok {
				es, err := inner(k, v)
				return es, "checkpoint:" + k, err
			}
		}
		return nil, "", fmt.Errorf("the file holds a dict that is neither a state_dict (%s) nor a checkpoint with a \"state_dict\" or \"model\" entry",
			nonTensorEntry(x))
	}
	return nil, "", fmt.Errorf("the file holds %s, not a state_dict, a module or a checkpoint dict", describe(root))
}

// inner is a checkpoint's state_dict or model entry.
func inner(name string, v any) ([]entry, error) {
	var es []entry
	var err error
	switch x := v.(type) {
	case *pickle.Dict:
		es, err = dictEntries(x)
	case *pickle.Object:
		es, err = moduleEntries(x)
	default:
		err = fmt.Errorf("is %s, not a state_dict or a module", describe(v))
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint entry %q: %w", name, err)
	}
	return es, nil
}

// nonTensorEntry describes the first entry of d that is not a string key
// with a tensor, "" when there is none.
func nonTensorEntry(d *pickle.Dict) string {
	for i, k := range d.Keys {
		ks, ok := k.(string)
		if !ok {
			return fmt.Sprintf("it has %s key", describe(k))
		}
		if _, ok := d.Values[i].(*view); !ok {
			return fmt.Sprintf("entry %s is %s", quoteKey(ks), describe(d.Values[i]))
		}
	}
	return ""
}

func dictEntries(d *pickle.Dict) ([]entry, error) {
	if bad := nonTensorEntry(d); bad != "" {
		return nil, fmt.Errorf("not a state_dict: %s", bad)
	}
	es := make([]entry, len(d.Keys))
	for i, k := range d.Keys {
		es[i] = entry{k.(string), d.Values[i].(*view)}
	}
	return es, nil
}

// moduleEntries walks a pickled nn.Module as state_dict() does: its
// parameters, its persistent buffers, then each submodule under its
// name; None entries are skipped.
func moduleEntries(o *pickle.Object) ([]entry, error) {
	w := &walker{path: map[*pickle.Object]bool{}, budget: limits.PickleObjects.Int()}
	if err := w.module(o, ""); err != nil {
		return nil, err
	}
	return w.entries, nil
}

// walker holds a module walk's state. A submodule shared under two names
// is listed under both, as torch does, so a hostile file could make the
// walk exponential: every module visited and tensor listed is counted
// against limits.PickleObjects.
type walker struct {
	entries []entry
	path    map[*pickle.Object]bool // the modules from the top to here
	budget  int
}

func (w *walker) spend(n int) error {
	w.budget -= n
	if w.budget < 0 {
		return limits.PickleObjects.Exceeded("torchfile: the modules' walk (submodules shared under many names)", -1)
	}
	return nil
}

func (w *walker) module(o *pickle.Object, prefix string) error {
	where := "the top module"
	if prefix != "" {
		where = "module " + quoteKey(strings.TrimSuffix(prefix, "."))
	}
	if w.path[o] {
		return fmt.Errorf("%s contains itself", where)
	}
	params, ok1 := dictAttr(o, "_parameters")
	buffers, ok2 := dictAttr(o, "_buffers")
	modules, ok3 := dictAttr(o, "_modules")
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("%s (%s) is not a torch module: it lacks _parameters, _buffers or _modules",
			where, untrusted.Name(o.ClassName()))
	}
	if err := w.spend(1 + params.Len() + buffers.Len()); err != nil {
		return err
	}
	w.path[o] = true
	defer delete(w.path, o)
	if err := w.tensors(params, prefix, where, nil); err != nil {
		return err
	}
	if err := w.tensors(buffers, prefix, where, nonPersistent(o)); err != nil {
		return err
	}
	for i, k := range modules.Keys {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("%s has a submodule named by %s", where, describe(k))
		}
		switch sub := modules.Values[i].(type) {
		case nil:
		case *pickle.Object:
			if err := w.module(sub, prefix+name+"."); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: submodule %s is %s", where, quoteKey(name), describe(sub))
		}
	}
	return nil
}

func (w *walker) tensors(d *pickle.Dict, prefix, where string, skip map[string]bool) error {
	for i, k := range d.Keys {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("%s has a tensor named by %s", where, describe(k))
		}
		if skip[name] {
			continue
		}
		switch v := d.Values[i].(type) {
		case nil:
		case *view:
			w.entries = append(w.entries, entry{prefix + name, v})
		default:
			return fmt.Errorf("%s: %s is %s, not a tensor", where, quoteKey(name), describe(v))
		}
	}
	return nil
}

func dictAttr(o *pickle.Object, name string) (*pickle.Dict, bool) {
	v, ok := o.Attr(name)
	d, isDict := v.(*pickle.Dict)
	return d, ok && isDict
}

// nonPersistent is the set of buffer names register_buffer(...,
// persistent=False) recorded: state_dict() leaves them out.
func nonPersistent(o *pickle.Object) map[string]bool {
	v, _ := o.Attr("_non_persistent_buffers_set")
	s, ok := v.(*pickle.Set)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for _, it := range s.Items {
		if name, ok := it.(string); ok {
			out[name] = true
		}
	}
	return out
}

// describe names a pickle value's type for an error, with its article:
// "an int", "a dict", "None".
func describe(v any) string {
	s := typeName(v)
	switch {
	case s == "None":
		return s
	case strings.ContainsRune("aeiouAEIOU", rune(s[0])):
		return "an " + s
	}
	return "a " + s
}

func typeName(v any) string {
	switch x := v.(type) {
	case *view:
		return "tensor"
	case *storageRef:
		return "storage"
	case *pickle.Object:
		return untrusted.Name(x.ClassName()) + " object"
	case *pickle.Global:
		return untrusted.Name(x.Key)
	}
	return pickle.TypeName(v)
}

// quoteKey quotes a key from the file for an error message.
func quoteKey(k string) string { return untrusted.Quote(k) }
