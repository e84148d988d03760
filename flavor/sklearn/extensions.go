package sklearn

import "github.com/augurdb/augur/model"

// The file names that imply the sklearn flavor when CREATE MODEL names
// none.
func init() {
	for _, ext := range []string{".pkl", ".pickle", ".joblib"} {
		model.RegisterExtension(ext, "sklearn")
	}
}
