package sklearn

import (
	"bytes"

	"github.com/augurdb/augur/model"
)

// A scikit-learn pickle or joblib file saved under a name that says
// nothing (joblib.dump(m, "model.sav"), model.bin) is recognised by its
// first bytes: pickle's PROTO opcode (protocol 2 to 5), then the first
// class the file names, whose module is sklearn's. Protocols 2 and 3
// name it at once with GLOBAL ("csklearn.tree._classes\n..."); 4 and 5
// after a FRAME header, as a SHORT_BINUNICODE string for STACK_GLOBAL.
// An XGBoost wrapper's pickle names xgboost.sklearn, which does not
// match: FLAVOR xgboost reads those.
func init() { model.RegisterSniffer("sklearn", isSklearnPickle) }

const frameHeader = 11 // PROTO n, FRAME and its 8-byte length

func isSklearnPickle(head []byte) bool {
	if len(head) < 2 || head[0] != 0x80 || head[1] < 2 || head[1] > 5 {
		return false
	}
	module := []byte("sklearn.")
	if head[1] <= 3 {
		return bytes.HasPrefix(head[2:], append([]byte{'c'}, module...))
	}
	// FRAME (0x95), then SHORT_BINUNICODE (0x8c) and its length byte.
	if len(head) < frameHeader+2 || head[2] != 0x95 || head[frameHeader] != 0x8c {
		return false
	}
	return bytes.HasPrefix(head[frameHeader+2:], module)
}
