package lightgbm

import (
	"bytes"

	"github.com/augurdb/augur/model"
)

// A LightGBM model saved as model.txt (its usual name, which says
// nothing) is recognised by its first bytes: the text model starts with
// the line "tree", then "version=".
func init() { model.RegisterSniffer("lightgbm", isLightGBM) }

func isLightGBM(head []byte) bool {
	rest, ok := bytes.CutPrefix(head, []byte("tree\n"))
	if !ok {
		rest, ok = bytes.CutPrefix(head, []byte("tree\r\n"))
	}
	return ok && bytes.HasPrefix(rest, []byte("version="))
}
