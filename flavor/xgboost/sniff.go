package xgboost

import (
	"bytes"

	"github.com/augurdb/augur/model"
)

// An XGBoost model saved under a name that says nothing (model.json) is
// recognised by its first bytes: save_model writes the object
// {"learner": ...} first, in JSON or UBJSON.
func init() { model.RegisterSniffer("xgboost", isXGBoost) }

func isXGBoost(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	rest := bytes.TrimLeft(head[1:], " \t\r\n")
	if bytes.HasPrefix(rest, []byte(`"learner"`)) {
		return true // JSON
	}
	// UBJSON: a key is its length (a type marker and a big-endian
	// integer of 1, 2, 4 or 8 bytes) and its bytes; XGBoost writes
	// {L\0\0\0\0\0\0\0\x07learner.
	if len(rest) == 0 {
		return false
	}
	size := map[byte]int{'i': 1, 'U': 1, 'I': 2, 'l': 4, 'L': 8}[rest[0]]
	if size == 0 || len(rest) < 1+size+7 {
		return false
	}
	n := 0
	for _, b := range rest[1 : 1+size] {
		n = n<<8 | int(b)
	}
	return n == 7 && string(rest[1+size:1+size+7]) == "learner"
}
