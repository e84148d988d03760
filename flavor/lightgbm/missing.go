package lightgbm

import "github.com/augurdb/augur/model"

var _ model.MissingAware = (*Model)(nil)

// TakesMissing is always true: LightGBM decides per split what NaN does
// (the default direction under missing type NaN or Zero, compared as 0
// under None; categorical splits send it right), so the engine passes
// SQL's NULL as NaN, as LightGBM's pandas input does with None
// (model.MissingAware).
func (m *Model) TakesMissing() bool { return true }
