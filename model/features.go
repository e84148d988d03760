package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/augurdb/augur/types"
)

// FeatureReader reads a Batch's features the way the tabular flavors
// (scikit-learn, XGBoost, LightGBM) take them: one LIST/ARRAY argument
// holding every feature of a row, or one numeric argument per feature.
// What differs between flavors is a field here, so that every flavor
// refuses a batch with the same words.
type FeatureReader struct {
	Model string // the model's name, for messages
	N     int    // the number of features the model takes
	// Count is what the model's file calls N ("n_features_in_",
	// "num_feature"): messages name it so that a user can find the number
	// in the file.
	Count string
	// NotNumber, when set, reads a per-feature argument that is neither a
	// number nor NULL (j the feature, r the row); ok false refuses it.
	// scikit-learn's encoders take text this way.
	NotNumber func(j, r int, v any) (x float64, ok bool)
}

var errShortBatch = errors.New("batch shorter than its row count")

// CheckWidth fails when the batch does not hold N features: one argument
// per feature, or one list whose first non-NULL row has them all (Read
// checks every row). It is cheap, so that a caller can run it before it
// allocates a matrix of the file's claimed width.
func (fr *FeatureReader) CheckWidth(b *Batch) error {
	if len(b.Args) == 0 {
		return fmt.Errorf("model %q expects %d features (%s), got none", fr.Model, fr.N, fr.Count)
	}
	if len(b.Args) != 1 || !IsList(b.Args[0]) {
		if len(b.Args) == fr.N {
			return nil
		}
		for _, a := range b.Args {
			if IsList(a) {
				return fmt.Errorf("model %q takes its features either as one list or as one argument per feature, not a mix", fr.Model)
			}
		}
		return fmt.Errorf("model %q expects %d features (%s), got %d arguments", fr.Model, fr.N, fr.Count, len(b.Args))
	}
	for _, v := range b.Args[0] {
		if v != nil {
			return fr.checkList(v)
		}
	}
	return nil
}

// checkList fails when the list v does not hold N values; a value that
// is not a list is left to AppendFloat64s to refuse.
func (fr *FeatureReader) checkList(v any) error {
	if n := ListLen(v); n >= 0 && n != fr.N {
		return fmt.Errorf("model %q expects %d features (%s), got a list of %d", fr.Model, fr.N, fr.Count, n)
	}
	return nil
}

// Read fills x (row-major, b.Rows × N) from the batch and sets null for
// the rows that get no result: a NULL argument, a NULL list or a list
// holding a NULL (NaN, not NULL, is a model's missing value; the engine
// turns NULL into NaN first for a model.MissingAware). A NULL row's
// values in x are left as they were.
func (fr *FeatureReader) Read(b *Batch, x []float64, null []bool) error {
	if err := fr.CheckWidth(b); err != nil {
		return err
	}
	for _, col := range b.Args {
		if len(col) < b.Rows {
			return errShortBatch
		}
	}
	clear(null[:b.Rows])
	if len(b.Args) == 1 && IsList(b.Args[0]) {
		return fr.readLists(b.Args[0][:b.Rows], x, null)
	}
	return fr.readColumns(b, x, null)
}

// readLists reads one list per row.
func (fr *FeatureReader) readLists(col []any, x []float64, null []bool) error {
	nf := fr.N
	for r, v := range col {
		if v == nil {
			null[r] = true
			continue
		}
		if err := fr.checkList(v); err != nil {
			return err
		}
		row := x[r*nf : (r+1)*nf : (r+1)*nf]
		if l, ok := v.([]any); ok && float64s(l, row) {
			continue // the common LIST(DOUBLE) row, without a call per value
		}
		_, hasNull, err := AppendFloat64s(row[:0], v)
		if err != nil {
			return fmt.Errorf("model %q: features: %w", fr.Model, err)
		}
		if hasNull {
			null[r] = true
		}
	}
	return nil
}

// float64s copies l into row when every value of l is a float64, and
// reports whether it did. l and row have the same length.
func float64s(l []any, row []float64) bool {
	for j, e := range l {
		f, ok := e.(float64)
		if !ok {
			return false
		}
		row[j] = f
	}
	return true
}

// readColumns reads one argument per feature.
func (fr *FeatureReader) readColumns(b *Batch, x []float64, null []bool) error {
	nf := fr.N
	for j, col := range b.Args {
		for r, v := range col[:b.Rows] {
			f, ok := v.(float64)
			if !ok {
				if v == nil {
					null[r] = true
					continue
				}
				if f, ok = fr.number(j, r, v); !ok {
					want := "a number"
					if fr.NotNumber != nil {
						want = "a number or text"
					}
					return fmt.Errorf("model %q: feature %d is %s, not %s", fr.Model, j+1, types.DescribeValue(v), want)
				}
			}
			x[r*nf+j] = f
		}
	}
	return nil
}

// number reads a per-feature value that is not a float64.
func (fr *FeatureReader) number(j, r int, v any) (float64, bool) {
	if f, ok := Float64Of(v); ok {
		return f, true
	}
	if fr.NotNumber == nil {
		return 0, false
	}
	return fr.NotNumber(j, r, v)
}

// IsList reports whether a column holds lists (judged by its first
// non-NULL value): DuckDB delivers every row of a column as one Go type.
func IsList(col []any) bool {
	for _, v := range col {
		if v != nil {
			return ListLen(v) >= 0
		}
	}
	return false
}

// ListLen is the length of a list value as duckdb-go delivers LIST and
// ARRAY (a []any, or a typed slice of numbers), or -1 for any other value.
func ListLen(v any) int {
	switch l := v.(type) {
	case []any:
		return len(l)
	case []float64:
		return len(l)
	case []float32:
		return len(l)
	case []int64:
		return len(l)
	case []int32:
		return len(l)
	}
	return -1
}

// ShowRow prints a row's features as a SQL list, the first 8 and the
// last one when there are more: a message about a refused row shows it
// this way, since a scalar function cannot know the row's place in the
// query but its values find it.
func ShowRow(row []float64) string {
	parts := make([]string, 0, min(len(row), 10))
	for i, v := range row {
		if i == 8 && len(row) > 9 {
			parts = append(parts, "...")
			v, i = row[len(row)-1], len(row)-1
		}
		parts = append(parts, strconv.FormatFloat(v, 'g', -1, 64))
		if i == len(row)-1 {
			break
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
