package augur

// The built-in extensions: each registers itself when imported. A new
// flavor, URI scheme or SQL function is a new package and one line here.
import (
	_ "github.com/augurdb/augur/flavor/lightgbm"
	_ "github.com/augurdb/augur/flavor/onnx"
	_ "github.com/augurdb/augur/flavor/pytorch"
	_ "github.com/augurdb/augur/flavor/sklearn"
	_ "github.com/augurdb/augur/flavor/xgboost"
	_ "github.com/augurdb/augur/functions"
)
