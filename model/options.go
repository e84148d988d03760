package model

// OptionKeyer is implemented by flavors that know which OPTIONS keys
// they read. The engine refuses a key written in SQL that neither the
// flavor nor CommonOptions knows, listing the known ones and the closest
// (keys that arrive from a YAML spec or a registry's tags are kept and
// never refused: Rikai's specs carry keys for other engines).
type OptionKeyer interface {
	// OptionKeys are the keys this flavor reads for spec (whose model
	// type may change the set), lower case, with a short description of
	// each for the error and the documentation.
	OptionKeys(spec *Spec) []OptionKey
}

// OptionKey is one OPTIONS key a flavor reads.
type OptionKey struct {
	Name string // lower case
	Doc  string // one line: what it does, its values
}

// CommonOptions are read by the engine (or accepted for Rikai's sake)
// whatever the flavor.
var CommonOptions = []OptionKey{
	{"sha256", "the artifact's expected sha256; CREATE MODEL fails when the bytes differ"},
	{"embed", "true: keep a copy of the model file inside the database"},
	{"on_error", "'null': a row whose input the model refuses gives NULL; 'fail' (default) fails the query"},
	{ProbabilitiesOption, "true: a classifier returns its label, its probability and every class's probability"},
	// Keys that Rikai's documentation and model types pass, accepted so
	// that its statements run unchanged; augur decides these itself.
	{"device", "accepted for Rikai (cpu, cuda); augur runs on the CPU"},
	{"num_workers", "accepted for Rikai; augur sizes its own thread pool"},
	{"batch_size", "rows per batch handed to the model"},
}
