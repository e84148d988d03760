// Package model defines what every flavor implements: how an artifact
// becomes a runnable model, and how a batch of rows becomes predictions.
// Flavors live in their own packages and register themselves here.
package model

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/augurdb/augur/registry"
	"github.com/augurdb/augur/types"
)

// Spec is a model as CREATE MODEL (and a YAML spec, if any) describes it.
type Spec struct {
	Name      string            // as written in SQL
	Flavor    string            // "" when neither SQL nor a spec names one
	ModelType string            // "" when neither SQL nor a spec names one
	URI       string            // USING as written ("" without USING)
	Options   map[string]string // in effect (YAML options, then SQL options)
	Returns   *types.Type       // RETURNS or the YAML schema; nil: the model type decides
	Labels    []string          // from a YAML spec's labels.uri, if any
	// SHA256 is the sha256 of the artifact's bytes when the engine has
	// hashed them ("" otherwise): a flavor that keys a cache by content
	// need not read the file again.
	SHA256 string
}

// Option returns an option's value, or def when it is not set.
func (s *Spec) Option(key, def string) string {
	if v, ok := s.Options[key]; ok {
		return v
	}
	return def
}

// OnErrorNull reads OPTIONS on_error, which every flavor that can refuse
// one row's input takes: 'null' gives that row NULL instead of failing
// the query; 'fail' (the default; also 'error' and 'raise') fails it.
func (s *Spec) OnErrorNull() (bool, error) {
	for key, v := range s.Options {
		if !strings.EqualFold(key, "on_error") {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "null":
			return true, nil
		case "fail", "error", "raise":
			return false, nil
		}
		return false, fmt.Errorf("OPTIONS on_error must be 'null' or 'fail', got %q", v)
	}
	return false, nil
}

// Artifact is where a model's bytes come from, as a URI scheme resolved it.
type Artifact interface {
	// Location is the absolute location (path or URI) of the artifact.
	Location() string
	// Open reads the artifact.
	Open(ctx context.Context) (io.ReadCloser, error)
	// LocalPath is the artifact as a local file, when it is one.
	LocalPath() (string, bool)
}

// Flavor turns an artifact into a Model. Load runs at CREATE MODEL (so
// errors surface there) and again when a process first uses a model that
// was created in an earlier one; it must validate everything it can.
// art is nil when CREATE MODEL had no USING. An error that does not name
// the model (as model "name", the way %q prints it) gets that prefix from
// the engine.
type Flavor interface {
	Load(ctx context.Context, spec *Spec, art Artifact) (Model, error)
}

// Model is a loaded model. It is shared by every query and thread of a
// process, so Predict must be safe for concurrent use.
type Model interface {
	// Type is the result type of Predict. When spec.Returns is set the
	// flavor either honours it (for example class labels as strings) or
	// returns its natural type and lets the engine convert.
	Type() types.Type
	// ModelType is the model type resolved (for SHOW MODELS), "" if none.
	ModelType() string
	// Predict runs one batch and returns one value per row (nil = NULL).
	Predict(ctx context.Context, b *Batch) ([]any, error)
	// Close releases resources (runtime sessions); called once, after
	// the last Predict.
	Close() error
}

// SelfBatching is implemented by models that split the rows of a Predict
// call into batch_size batches themselves, to prepare the next batch
// while one runs (decoding images, for instance). The engine then hands
// them whole DuckDB vectors (up to 2048 rows) instead of splitting them
// by batch_size first, which would leave nothing to overlap.
type SelfBatching interface {
	BatchesItself()
}

// Describer is implemented by models that have more to say in DESCRIBE
// MODEL (inputs, outputs, estimator), as a JSON-able value.
type Describer interface {
	Describe() map[string]any
}

// Batch is a group of rows: Args[i][r] is argument i (after the model
// name) of row r, as duckdb-go reads it: int64, float64, string, []byte,
// []any for LIST, map[string]any for STRUCT, duckdb.Decimal, ... Rows
// with a NULL argument never reach Predict.
type Batch struct {
	Args [][]any
	Rows int
}

// Flavors holds every flavor by name.
var Flavors = registry.New[Flavor]("flavor")

// extensions maps a file extension to the flavor it implies when
// CREATE MODEL names no FLAVOR.
var extensions = registry.New[string]("model file extension")

// RegisterExtension says that files ending in ext (".onnx") are of flavor
// when CREATE MODEL names none.
func RegisterExtension(ext, flavor string) { extensions.Register(ext, flavor) }

// schemes maps a URI scheme to the flavor it implies when CREATE MODEL
// names no FLAVOR (torchhub: pytorch).
var schemes = registry.New[string]("model URI scheme")

// RegisterScheme says that artifacts of a URI scheme ("torchhub") are of
// flavor when CREATE MODEL names none.
func RegisterScheme(scheme, flavor string) { schemes.Register(scheme, flavor) }

// FlavorForPath guesses a flavor from a location: its URI scheme when a
// flavor registered it, else its file name's extension; "" when neither
// says.
func FlavorForPath(p string) string {
	if scheme, rest, ok := strings.Cut(p, "://"); ok {
		if f, err := schemes.Lookup(strings.ToLower(scheme)); err == nil {
			return f
		}
		// a URI's extension is its path's: s3://b/m.onnx?region=x
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			p = rest[:i]
		}
	}
	// The longest registered ending wins, so a compound extension that a
	// flavor registers (".joblib.gz") is found before its last part
	// (".gz", which says nothing about the flavor).
	base := strings.ToLower(filepath.Base(p))
	for i := 0; i < len(base); i++ {
		if base[i] != '.' {
			continue
		}
		if f, err := extensions.Lookup(base[i:]); err == nil {
			return f
		}
	}
	return ""
}

// DenseModel is an optional fast path for models that take a fixed number
// of numeric features and return one number per row (regressions,
// classifiers with integer classes). The engine then reads features
// straight from DuckDB's vectors into a row-major matrix, instead of
// boxing every value; Predict still serves every other input shape.
type DenseModel interface {
	Model
	// Features is the number of features per row, or 0 when this model
	// (as configured) has no dense path.
	Features() int
	// PredictDense predicts the rows of x (Features() numbers each,
	// row-major) and stores each result in out[r], as a number of the
	// kind Type() names; rows with skip[r] set are left alone. A model
	// may set skip[r] for a row it gives no result (an input it refuses
	// under on_error = 'null'); the engine makes that row NULL.
	PredictDense(ctx context.Context, x []float64, skip []bool, out []float64) error
}

// SpecDefaults is what a model registry records about a model (MLflow's
// run tags and params): the engine uses each value where the SQL
// statement is silent.
type SpecDefaults struct {
	Flavor    string            // "" = none recorded
	ModelType string            // "" = none recorded
	Schema    string            // the result type in Rikai's schema syntax, "" = none
	Options   map[string]string // SQL OPTIONS override these key by key
	LabelsURI string            // a JSON list of labels, "" = none
	// FlavorHint says how to record a flavor when there is none (for
	// example "set the run's tag rikai.model.flavor"), for the error.
	FlavorHint string
}

// Described is an artifact that a registry describes.
type Described interface {
	Artifact
	SpecDefaults() SpecDefaults
}
