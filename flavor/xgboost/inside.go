package xgboost

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/pickle"
)

// A pickle that the allowlist refuses, or that holds something other than
// an XGBoost model, may hold one inside: a scikit-learn Pipeline whose
// last step is an XGBClassifier, a GridSearchCV's best_estimator_, a dict
// {"model": clf, ...}. The xgboost flavor reads a wrapper pickled alone,
// so insideError says what the file holds, where the XGBoost model is in
// it and how to save that model for augur, instead of the allowlist's
// "pickle references sklearn.pipeline.Pipeline, which augur does not
// load".
//
// To find out, the pickle is read a second time with every class
// admitted as an inert object (pickle.Options.Allow): augur's reader
// imports and runs nothing in any case, it records the classes a file
// names, their arguments and their state, within the same limits on
// size and nesting. The model is still refused.

// xgbHit is an XGBoost model found inside another object.
type xgbHit struct {
	path   string // a Python expression for it, from the top object
	class  string // its class's name (XGBClassifier, Booster)
	fitted bool   // a wrapper with its _Booster, or a Booster
}

// insideError reads data (a decompressed pickle that the allowlist
// refused) with every class inert and explains what it holds; nil when
// it holds no XGBoost model and no scikit-learn object, or cannot be
// read that way either (the caller keeps its own error then).
func insideError(data []byte, refused *pickle.RefusedError) error {
	v, err := pickle.Unpickle(data, &pickle.Options{
		Allow: func(string) bool { return true },
		Funcs: pickleFuncs,
	})
	if err != nil {
		return nil
	}
	if top, ok := v.(*pickle.Object); ok && xgbClass(top.Class.Key) != "" {
		// An XGBoost wrapper whose parameters hold another library's
		// function or object (eval_metric=sklearn.metrics.log_loss, a
		// callback, a custom objective).
		f := &finder{budget: walkBudget(), seen: map[any]bool{top: true}, target: refused.Module + "." + refused.Name}
		if top.Dict != nil {
			f.walkDict(top.Dict, "clf", true)
		}
		where := "it"
		if f.targetPath != "" {
			where = "it at " + f.targetPath
		}
		save := "clf.get_booster().save_model('model.json')"
		if top.Class.Key == boosterClass {
			save = "clf.save_model('model.json')"
		}
		return fmt.Errorf("%w: the pickled %s holds %s (augur runs no Python, so a parameter that is another library's function or object, such as an eval_metric, a callback or a custom objective, is refused); save the model with %s and use that file", refused, untrusted.Name(top.Class.Name), where, save)
	}
	return explainHolder(v)
}

// xgbClass is the short name of an XGBoost class key ("" for others).
func xgbClass(key string) string {
	if key == boosterClass {
		return "Booster"
	}
	for _, w := range wrappers {
		if key == w {
			return w[strings.LastIndexByte(w, '.')+1:]
		}
	}
	return ""
}

func walkBudget() int { return int(min(limits.PickleObjects.Get(), 1<<20)) }

// article is "a" or "an" for an XGBoost class's name.
func article(class string) string {
	if strings.HasPrefix(class, "XGB") {
		return "an"
	}
	return "a"
}

// explainHolder explains a pickled value that is not an XGBoost model
// (nil when it holds none and is no scikit-learn object).
func explainHolder(v any) error {
	top, _ := v.(*pickle.Object)
	if top != nil && xgbClass(top.Class.Key) != "" {
		return nil // an XGBoost model itself: the caller says what is wrong with it
	}
	root := "obj"
	if top != nil && top.Class.Key == "sklearn.pipeline.Pipeline" {
		root = "pipe"
	}
	f := &finder{budget: walkBudget(), seen: map[any]bool{}}
	f.walk(v, root)
	what := "a " + pickle.TypeName(v)
	sklearnTop := top != nil && isSklearn(top.Class.Module)
	if top != nil {
		what = "a " + untrusted.Name(top.Class.String()) + " object"
		if sklearnTop {
			what = "a scikit-learn " + untrusted.Name(top.Class.Name)
			if steps := pipelineSteps(top); steps != nil {
				what += " (" + strings.Join(steps, ", ") + ")"
			}
		}
	}
	if len(f.hits) == 0 {
		if sklearnTop {
			return fmt.Errorf("the pickle holds %s, not an XGBoost model: FLAVOR sklearn reads scikit-learn's models (a .pkl file without FLAVOR implies it); FLAVOR xgboost reads %s pickled alone, and Booster.save_model's .json and .ubj files", what, shortNames(wrappers))
		}
		return nil
	}
	// A fitted model first (a GridSearchCV's estimator is not fitted,
	// its best_estimator_ is), then in the file's order.
	best := f.hits[0]
	for _, h := range f.hits {
		if h.fitted {
			best = h
			break
		}
	}
	a := article(best.class)
	where := fmt.Sprintf("holding %s %s at %s", a, best.class, best.path)
	if root == "pipe" && strings.HasPrefix(best.path, "pipe[") {
		where = fmt.Sprintf("whose step %s is %s %s", best.path, a, best.class)
		if best.path == "pipe[-1]" {
			where = fmt.Sprintf("whose last step, pipe[-1], is %s %s", a, best.class)
		}
	}
	if n := len(f.hits) - 1; n > 0 {
		where += fmt.Sprintf(" (and %d more XGBoost model", n)
		if n > 1 {
			where += "s"
		}
		where += ")"
	}
	msg := fmt.Sprintf("the pickle holds %s %s: FLAVOR xgboost reads an XGBoost wrapper pickled alone (%s) or a Booster's save_model file (.json, .ubj), not something that holds one. ", what, where, shortNames(wrappers))
	if best.class == "Booster" {
		msg += fmt.Sprintf("Save the XGBoost model with %s.save_model('model.json')", best.path)
	} else {
		msg += fmt.Sprintf("Save the XGBoost model with %s.get_booster().save_model('model.json') (or pickle %s alone)", best.path, best.path)
	}
	if steps := pipelineSteps(top); len(steps) > 1 && best.path == "pipe[-1]" {
		msg += fmt.Sprintf(" and do the steps before it (%s) in SQL", strings.Join(steps[:len(steps)-1], ", "))
	}
	if sklearnTop {
		msg += ", or export the whole " + untrusted.Name(top.Class.Name) + " to ONNX (skl2onnx, with onnxmltools' XGBoost converter registered) and load the .onnx file"
	}
	if !best.fitted {
		msg += "; the model is not fitted: fit it first"
	}
	return fmt.Errorf("%s", msg)
}

func isSklearn(module string) bool {
	return module == "sklearn" || strings.HasPrefix(module, "sklearn.")
}

// pipelineSteps are the class names of a Pipeline's steps, nil for any
// other object.
func pipelineSteps(o *pickle.Object) []string {
	if o == nil || o.Class.Key != "sklearn.pipeline.Pipeline" {
		return nil
	}
	v, _ := o.Attr("steps")
	l, _ := v.(*pickle.List)
	if l == nil {
		return nil
	}
	var out []string
	for _, it := range l.Items {
		name := "passthrough"
		if t, ok := it.(pickle.Tuple); ok && len(t) == 2 {
			if so, ok := t[1].(*pickle.Object); ok {
				name = untrusted.Name(so.Class.Name)
			}
		}
		out = append(out, name)
	}
	return out
}

// finder walks a pickled value for XGBoost models, each container at
// most once and at most budget values in all (a memo can share one value
// many times).
// target, when set, is a class or function ("module.name" as the file
// spells it) whose first place is kept in targetPath.
type finder struct {
	budget     int
	seen       map[any]bool
	hits       []xgbHit
	target     string
	targetPath string
	depth      int
}

// maxWalkDepth bounds how deep the walk looks (the pickle reader bounds
// nesting too).
const maxWalkDepth = 100

func (f *finder) walk(v any, path string) {
	if f.budget <= 0 || len(f.hits) >= 16 || f.depth >= maxWalkDepth {
		return
	}
	f.budget--
	f.depth++
	defer func() { f.depth-- }()
	switch x := v.(type) {
	case *pickle.Global:
		if f.target != "" && x.String() == f.target && f.targetPath == "" {
			f.targetPath = path
		}
	case *pickle.Object:
		if f.seen[x] {
			return
		}
		f.seen[x] = true
		if f.target != "" && x.Class.String() == f.target && f.targetPath == "" {
			f.targetPath = path
		}
		switch c := xgbClass(x.Class.Key); {
		case c == "Booster":
			f.hits = append(f.hits, xgbHit{path: path, class: c, fitted: true})
			return
		case c != "":
			b, _ := x.Attr("_Booster")
			bo, _ := b.(*pickle.Object)
			f.hits = append(f.hits, xgbHit{path: path, class: c, fitted: bo != nil && bo.Class.Key == boosterClass})
			return
		}
		if x.Class.Key == "sklearn.pipeline.Pipeline" {
			if steps, ok := x.Attr("steps"); ok {
				if l, ok := steps.(*pickle.List); ok {
					f.seen[l] = true
					for i, it := range l.Items {
						idx := strconv.Itoa(i)
						if i == len(l.Items)-1 {
							idx = "-1"
						}
						if t, ok := it.(pickle.Tuple); ok && len(t) == 2 {
							f.walk(t[1], path+"["+idx+"]")
						}
					}
				}
			}
		}
		if x.Dict != nil {
			f.walkDict(x.Dict, path, true)
		}
		for i, a := range x.Args {
			f.walk(a, fmt.Sprintf("%s.__reduce__()[1][%d]", path, i))
		}
		if x.State != nil {
			f.walk(x.State, path+".__getstate__()")
		}
	case *pickle.Dict:
		f.walkDict(x, path, false)
	case *pickle.List:
		if f.seen[x] {
			return
		}
		f.seen[x] = true
		for i, it := range x.Items {
			f.walk(it, fmt.Sprintf("%s[%d]", path, i))
		}
	case pickle.Tuple:
		for i, it := range x {
			f.walk(it, fmt.Sprintf("%s[%d]", path, i))
		}
	case *pickle.Set:
		for _, it := range x.Items {
			f.walk(it, "next(iter("+path+"))")
		}
	}
}

// walkDict walks a dict's values; attrs: it is an object's __dict__, so
// its string keys are attributes.
func (f *finder) walkDict(d *pickle.Dict, path string, attrs bool) {
	if f.seen[d] {
		return
	}
	f.seen[d] = true
	for i, k := range d.Keys {
		var p string
		switch s, ok := k.(string); {
		case ok && attrs && isIdentifier(s):
			p = path + "." + s
		case ok:
			p = path + "[" + strconv.Quote(s) + "]"
		default:
			p = fmt.Sprintf("%s[%v]", path, k)
		}
		f.walk(d.Values[i], untrusted.Clean(p))
	}
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
