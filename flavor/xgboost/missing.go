package xgboost

import "github.com/augurdb/augur/model"

var _ model.MissingAware = (*Model)(nil)

// TakesMissing is always true: XGBoost treats NaN as a missing value
// (each split sends it its default way), so the engine passes SQL's NULL
// as NaN, as XGBoost's DMatrix does with a pandas DataFrame's None
// (model.MissingAware). OPTIONS missing adds a value; NaN stays missing.
func (m *Model) TakesMissing() bool { return true }
