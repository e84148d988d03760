package model

import "github.com/augurdb/augur/registry"

// sniffers recognise a flavor's files by their first bytes, for files
// whose name says nothing (an XGBoost model saved as model.json, a
// LightGBM model as model.txt).
var sniffers = registry.New[func(head []byte) bool]("model content sniffer")

// SniffBytes is how many leading bytes of a file a sniffer sees.
const SniffBytes = 64

// RegisterSniffer says that files whose first bytes satisfy match are of
// flavor when CREATE MODEL names no FLAVOR and the file name implies
// none. A sniffer must be specific: it sees files of every format.
func RegisterSniffer(flavor string, match func(head []byte) bool) {
	sniffers.Register(flavor, match)
}

// FlavorForContent is the flavor whose sniffer recognises head (a file's
// first SniffBytes bytes), "" when none or more than one does.
func FlavorForContent(head []byte) string {
	found := ""
	for _, name := range sniffers.Names() {
		match, _ := sniffers.Lookup(name)
		if match(head) {
			if found != "" {
				return ""
			}
			found = name
		}
	}
	return found
}
