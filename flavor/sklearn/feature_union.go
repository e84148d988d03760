package sklearn

func init() {
	modelTypes.Register("feature_union", &modelType{
		estimators: []string{"sklearn.pipeline.FeatureUnion"},
		build:      buildFeatureUnion,
	})
}

// FeatureUnion.transform: every transformer of transformer_list on all
// the columns, each result multiplied by its transformer_weights entry,
// side by side; 'drop' (and None) give nothing, 'passthrough' the input.
func buildFeatureUnion(e *estimator) (node, error) {
	v, err := e.attr("transformer_list")
	if err != nil {
		return nil, err
	}
	items, ok := listItems(v)
	if !ok {
		return nil, e.errorf("transformer_list is a %s, not a list of (name, transformer)", describePickled(v))
	}
	w, err := weights(e)
	if err != nil {
		return nil, err
	}
	nf := e.nFeatures
	if nf == 0 {
		// scikit-learn < 1.0 or no transformer recorded it: the first
		// fitted transformer's.
		for _, it := range items {
			if pair, ok := listItems(it); ok && len(pair) == 2 {
				if o, isObj := pair[1].(interface{ Attr(string) (any, bool) }); isObj {
					if n, ok := o.Attr("n_features_in_"); ok {
						if k, ok := intOf(n); ok {
							nf = k
							break
						}
					}
				}
			}
		}
	}
	if err := e.setFeatures(nf); err != nil {
		return nil, err
	}
	c := &composite{est: e, class: "FeatureUnion", nf: nf}
	for i, it := range items {
		pair, ok := listItems(it)
		if !ok || len(pair) != 2 {
			return nil, e.errorf("transformer_list[%d] is a %s, not a (name, transformer) pair", i, describePickled(it))
		}
		name, _ := pair[0].(string)
		if pair[1] == nil {
			continue
		}
		if s, isStr := pair[1].(string); isStr && s == "drop" {
			continue
		}
		if err := c.add(name, pair[1], nil, weightOf(w, name)); err != nil {
			return nil, err
		}
	}
	if len(c.parts) == 0 {
		return nil, e.errorf("every transformer is 'drop'")
	}
	return c, nil
}
