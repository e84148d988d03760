package sklearn

func init() {
	modelTypes.Register("function_transformer", &modelType{
		estimators: []string{"sklearn.preprocessing._function_transformer.FunctionTransformer"},
		build:      buildFunctionTransformer,
	})
}

// identity is FunctionTransformer(func=None): its rows unchanged
// (inverse_func plays no part in transform). A FunctionTransformer with a
// function never gets here: the unpickler admits no function.
type identity struct {
	nf       int
	validate bool
}

func buildFunctionTransformer(e *estimator) (node, error) {
	if v, _ := e.obj.Attr("func"); v != nil {
		return nil, e.errorf("func is a %s: augur runs FunctionTransformer only without a function (the identity), as it runs no code from a model file", describePickled(v))
	}
	if e.nFeatures == 0 {
		return nil, e.errorf("the estimator has no n_features_in_: is it fitted?")
	}
	return &identity{nf: e.nFeatures, validate: e.bool("validate")}, nil
}

func (t *identity) className() string         { return "FunctionTransformer" }
func (t *identity) width() int                { return t.nf }
func (t *identity) describe(d map[string]any) { d["func"] = "None" }

// inputCheck: check_array only when validate is set.
func (t *identity) inputCheck() inputCheck { return inputCheck{allowNaN: !t.validate} }

func (t *identity) transform(in *frame) (*frame, error) {
	if t.validate {
		if err := in.numeric("FunctionTransformer(validate=True)"); err != nil {
			return nil, err
		}
	}
	return in, nil
}
