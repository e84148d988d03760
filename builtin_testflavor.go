//go:build augur_testflavor

package augur

// Built with -tags augur_testflavor, the binary also has the "test"
// flavor, so end-to-end tests of the command line need no model files.
import _ "github.com/augurdb/augur/internal/testflavor"
