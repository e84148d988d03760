package sklearn

import "github.com/augurdb/augur/model"

// The file names that imply the sklearn flavor when CREATE MODEL names
// none: pickles and joblib files, also compressed the way joblib names
// them (joblib.dump(m, "m.joblib.gz") picks the compressor by the
// extension: .z, .gz, .bz2, .xz, .lzma, .lz4) and as people name
// compressed pickles by hand. .sav is the name many tutorials give
// joblib.dump's and pickle.dump's files.
func init() {
	compressed := []string{"", ".z", ".gz", ".gzip", ".zlib", ".bz2", ".xz", ".lzma", ".lz4"}
	for _, ext := range []string{".pkl", ".pickle", ".joblib", ".sav"} {
		for _, c := range compressed {
			model.RegisterExtension(ext+c, "sklearn")
		}
	}
}
