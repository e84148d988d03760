package engine

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/model"
)

// SQL NULL as a missing value (model.MissingAware). DuckDB's default NULL
// handling makes a call with a NULL argument NULL without running it,
// and folds a constant NULL argument away when the query is bound; only
// a function registered with special NULL handling sees NULLs. So each
// result type has two predict functions: the ordinary one, and a
// variant that sees NULLs (predictUDF.missing), to which the rewriter
// sends the calls of models that take missing values. The variant hands
// such a model NaN for a NULL number or text (pandas' missing value in
// a text column, which scikit-learn's imputers and encoders take), and
// behaves as the ordinary one for any other model (a view written for a
// model since replaced).

// missingKey is the key of the variant of result type sqlType in
// Engine.predicts, and what its name hashes.
func missingKey(sqlType string) string { return "missing " + sqlType }

// predictFuncOf returns the predict function for a catalog entry's
// calls: the variant that sees NULLs when the model takes missing
// values, the ordinary one otherwise.
func (e *Engine) predictFuncOf(ctx context.Context, ent *catalog.Entry) (string, error) {
	name, err := e.predictFunc(ctx, ent.Returns)
	if err != nil || !e.entryTakesMissing(ctx, ent) {
		return name, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.predicts[missingKey(ent.Returns.SQL())]; ok {
		return v, nil
	}
	return name, nil
}

// entryTakesMissing loads the entry's model (as its first call would)
// to ask it. A model that fails to load is not asked: the call then
// reports the failure when it runs, as it always has.
func (e *Engine) entryTakesMissing(ctx context.Context, ent *catalog.Entry) bool {
	h, err := e.acquire(ctx, ent.Name, ent.Returns.SQL())
	if err != nil {
		return false
	}
	defer e.release(h)
	return h.missing
}

// takesMissing reports whether a model, or the model a wrapper wraps
// (OPTIONS probabilities), takes NaN as a missing value, and in which
// features: at is nil for all of them (model.MissingAware), else the
// features that take it (model.MissingFeatures).
func takesMissing(m model.Model) (missing bool, at []bool) {
	for m != nil {
		ma, aware := m.(model.MissingAware)
		if aware && ma.TakesMissing() {
			return true, nil
		}
		if mf, ok := m.(model.MissingFeatures); ok {
			at := mf.TakesMissingIn()
			return slices.Contains(at, true), at
		}
		if aware {
			return false, nil
		}
		u, ok := m.(unwrapper)
		if !ok {
			return false, nil
		}
		m = u.Unwrap()
	}
	return false, nil
}

// nans says which features of a chunk take NaN for a NULL: all of them,
// those of some (a model's missingAt), or none (the zero value).
type nans struct {
	all  bool
	some []bool
}

func (m nans) at(j int) bool { return m.all || j < len(m.some) && m.some[j] }

// nanMask is the nans of a chunk, for a function that sees NULLs (seen).
func (h *handle) nanMask(seen bool) nans {
	if !seen || !h.missing {
		return nans{}
	}
	return nans{all: h.missingAt == nil, some: h.missingAt}
}

// fill says which NULLs of one argument column are missing values.
type fill struct {
	scalar bool            // the column is a number or text: NULL is NaN
	elems  bool            // a LIST or ARRAY of them: a NULL element is NaN
	only   []bool          // with elems: only these elements (nil: all)
	fields map[string]bool // a STRUCT: its fields that are numbers or text
}

// gate keeps, of a chunk's fills, those of the features that take
// missing values (at; nil for all): one argument per feature, one list
// of them, or a STRUCT taken by the model's feature names.
func gate(fills []fill, at []bool, names []string) {
	if at == nil || len(fills) == 0 {
		return
	}
	switch {
	case len(fills)-1 == len(at):
		for c := 1; c < len(fills); c++ {
			if !at[c-1] {
				fills[c] = fill{}
			}
		}
	case len(fills) == 2 && fills[1].elems:
		fills[1].only = at
	case len(fills) == 2 && fills[1].fields != nil && len(names) == len(at):
		// Fields match features exactly, else case-insensitively.
		refuse := make(map[string]bool)
		for j, name := range names {
			if !at[j] {
				refuse[strings.ToLower(name)] = true
			}
		}
		for f := range fills[1].fields {
			if refuse[strings.ToLower(f)] {
				delete(fills[1].fields, f)
			}
		}
	default:
		for c := range fills {
			fills[c] = fill{}
		}
	}
}

// missingFills describes the argument columns (after the model's name)
// of a chunk. Without the dense path's access to DuckDB's vectors the
// types are unknown, and NULLs stay NULL.
func missingFills(in *duckdb.DataChunk) []fill {
	if !denseOK {
		return nil
	}
	chunk := rawChunk(in)
	fills := make([]fill, in.ColumnCount())
	for c := 1; c < len(fills); c++ {
		lt := mapping.VectorGetColumnType(mapping.DataChunkGetVector(chunk, mapping.IdxT(c)))
		fills[c] = fillOf(lt)
		mapping.DestroyLogicalType(&lt)
	}
	return fills
}

func fillOf(lt mapping.LogicalType) fill {
	switch mapping.GetTypeId(lt) {
	case mapping.TypeList:
		ct := mapping.ListTypeChildType(lt)
		defer mapping.DestroyLogicalType(&ct)
		return fill{elems: missingType(mapping.GetTypeId(ct))}
	case mapping.TypeArray:
		ct := mapping.ArrayTypeChildType(lt)
		defer mapping.DestroyLogicalType(&ct)
		return fill{elems: missingType(mapping.GetTypeId(ct))}
	case mapping.TypeStruct:
		k := int(mapping.StructTypeChildCount(lt))
		f := fill{fields: make(map[string]bool, k)}
		for i := range k {
			ct := mapping.StructTypeChildType(lt, mapping.IdxT(i))
			if missingType(mapping.GetTypeId(ct)) {
				f.fields[mapping.StructTypeChildName(lt, mapping.IdxT(i))] = true
			}
			mapping.DestroyLogicalType(&ct)
		}
		return f
	}
	return fill{scalar: missingType(mapping.GetTypeId(lt))}
}

// missingType reports whether a NULL of a type is a missing value to a
// model: numbers (model.Float64Of reads them) and text (VARCHAR, ENUM).
// Dates, blobs and the type of an untyped NULL literal are not: their
// NULL keeps the row's result NULL.
func missingType(t mapping.Type) bool {
	switch t {
	case mapping.TypeVarchar, mapping.TypeEnum:
		return true
	case mapping.TypeBoolean, mapping.TypeTinyInt, mapping.TypeSmallInt, mapping.TypeInteger,
		mapping.TypeBigInt, mapping.TypeUTinyInt, mapping.TypeUSmallInt, mapping.TypeUInteger,
		mapping.TypeUBigInt, mapping.TypeHugeInt, mapping.TypeUHugeInt, mapping.TypeFloat,
		mapping.TypeDouble, mapping.TypeDecimal:
		return true
	}
	return false
}

// apply replaces the missing numbers of one value by NaN: the value
// itself, a list's elements or a STRUCT's fields. A NULL list or STRUCT
// stays NULL. duckdb-go builds a fresh value for every read, so lists
// and STRUCTs are changed in place.
func (f fill) apply(v any) any {
	switch x := v.(type) {
	case nil:
		if f.scalar {
			return math.NaN()
		}
	case []any:
		if f.elems {
			for i, e := range x {
				if e == nil && (f.only == nil || i < len(f.only) && f.only[i]) {
					x[i] = math.NaN()
				}
			}
		}
	case map[string]any:
		for k, e := range x {
			if e == nil && f.fields[k] {
				x[k] = math.NaN()
			}
		}
	}
	return v
}
