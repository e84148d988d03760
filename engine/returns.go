package engine

import (
	"fmt"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/types"
)

// TypeOf resolves a RETURNS data type to an augur type; unknown names are
// reported at their position with the list of known ones.
func TypeOf(dt *parser.DataType) (types.Type, error) {
	switch dt.Kind {
	case parser.ArrayType:
		elem, err := TypeOf(dt.Elem)
		if err != nil {
			return types.Type{}, err
		}
		return types.ListOf(elem), nil
	case parser.StructType:
		seen := map[string]bool{}
		fields := make([]types.Field, 0, len(dt.Fields))
		for _, f := range dt.Fields {
			if seen[strings.ToLower(f.Name)] {
				return types.Type{}, &parser.Error{Pos: f.Pos, Msg: fmt.Sprintf("duplicate STRUCT field %q", f.Name)}
			}
			seen[strings.ToLower(f.Name)] = true
			t, err := TypeOf(f.Type)
			if err != nil {
				return types.Type{}, err
			}
			fields = append(fields, types.Field{Name: f.Name, Type: t})
		}
		return types.StructOf(fields...), nil
	}
	t, ok := types.Lookup(dt.Name)
	if !ok {
		return types.Type{}, &parser.Error{Pos: dt.Pos, Msg: fmt.Sprintf("unknown type %q in RETURNS; known types: %s", dt.Name, strings.Join(types.KnownNames(), ", "))}
	}
	return t, nil
}

// ParseSchema reads a schema string as a YAML spec writes it
// ("struct<label_id:int, score:float>").
func ParseSchema(s string) (types.Type, error) {
	const prefix = "CREATE MODEL m RETURNS "
	st, err := parser.Parse(prefix+s, parser.Pos{Line: 1, Col: 1})
	if err != nil {
		return types.Type{}, fmt.Errorf("%q: %v", s, strings.TrimPrefix(err.Error(), "line 1, "))
	}
	cm, ok := st.(*parser.CreateModel)
	if !ok || cm.Returns == nil {
		return types.Type{}, fmt.Errorf("%q is not a type", s)
	}
	return TypeOf(cm.Returns)
}

// checkBoolReturns allows RETURNS boolean for a model whose result is not
// a boolean only when it is a binary classifier whose classes are 0 and 1
// or false and true (types.CanConvert allows integers and strings, and
// Convert refuses other values row by row; this says so at CREATE).
func checkBoolReturns(spec *model.Spec, m model.Model, from types.Type) error {
	if spec.Returns.Kind != types.Bool || from.Kind == types.Bool {
		return nil
	}
	mt := m.ModelType()
	if mt == "" {
		mt = spec.Flavor
	}
	c, ok := m.(model.Classifier)
	if !ok || len(c.Classes()) == 0 {
		return fmt.Errorf("model %q (%s) returns %s; RETURNS boolean is for binary classifiers whose classes are 0 and 1 (or False and True), and this model is not a classifier that lists its classes", spec.Name, mt, from)
	}
	classes := c.Classes()
	if len(classes) <= 2 {
		binary := true
		for _, v := range classes {
			if _, err := types.Convert(v, c.ClassType(), types.BoolT); err != nil {
				binary = false
			}
		}
		if binary {
			return nil
		}
	}
	shown := make([]string, 0, min(len(classes), 10))
	for i, v := range classes {
		if i == 10 {
			shown = append(shown, "...")
			break
		}
		shown = append(shown, untrusted.Clean(fmt.Sprint(v)))
	}
	return fmt.Errorf("model %q (%s) has the classes %s; RETURNS boolean is for binary classifiers whose classes are 0 and 1 (or False and True): leave RETURNS out or return %s", spec.Name, mt, strings.Join(shown, ", "), from)
}
