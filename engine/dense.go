package engine

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sync"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/types"
)

// The dense path reads numeric features straight from DuckDB's vectors
// and writes numeric results straight into the result vector, through
// DuckDB's C API (duckdb-go's mapping package). duckdb-go's public UDF API
// hands every value over boxed, one by one, twice (to read the inputs, and
// again in the only iterator that can set results), which costs 10 to 50
// times more than a linear model's arithmetic; see bench/README.md.
//
// duckdb-go does not expose the C handles of a UDF's input chunk and
// result vector, so they are read from its structs, at offsets found by
// reflection when the package initialises. If duckdb-go's layout ever
// differs from what is checked here, the dense path turns itself off and
// every call takes the ordinary path (TestDensePathActive notices).
var (
	denseOK        bool
	vectorVecField uintptr // offset of vector.vec in duckdb-go's vector
)

func init() {
	chunk, ok := reflect.TypeFor[duckdb.DataChunk]().FieldByName("chunk")
	if !ok || chunk.Offset != 0 || chunk.Type != reflect.TypeFor[mapping.DataChunk]() {
		return
	}
	v, ok := reflect.TypeFor[duckdb.Vector]().FieldByName("v")
	if !ok || v.Offset != 0 || v.Type.Kind() != reflect.Pointer || v.Type.Elem().Kind() != reflect.Struct {
		return
	}
	vec, ok := v.Type.Elem().FieldByName("vec")
	if !ok || vec.Type != reflect.TypeFor[mapping.Vector]() {
		return
	}
	vectorVecField, denseOK = vec.Offset, true
}

// DensePathActive reports whether the dense path is available.
func DensePathActive() bool { return denseOK }

func rawChunk(c *duckdb.DataChunk) mapping.DataChunk { return *(*mapping.DataChunk)(unsafe.Pointer(c)) }

func rawVector(v duckdb.Vector) (mapping.Vector, bool) {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&v))
	if p == nil {
		return mapping.Vector{}, false
	}
	return *(*mapping.Vector)(unsafe.Add(p, vectorVecField)), true
}

// numeric is a flat vector of numbers of one C type.
type numeric struct {
	typ      mapping.Type
	data     unsafe.Pointer
	validity unsafe.Pointer // nil: all valid
}

func numericOf(vec mapping.Vector, typ mapping.Type) (numeric, bool) {
	switch typ {
	case mapping.TypeDouble, mapping.TypeFloat, mapping.TypeBigInt, mapping.TypeInteger,
		mapping.TypeSmallInt, mapping.TypeTinyInt:
		return numeric{typ: typ, data: mapping.VectorGetData(vec), validity: mapping.VectorGetValidity(vec)}, true
	}
	return numeric{}, false
}

func (n numeric) valid(i int) bool { return rowValid(n.validity, i) }

// rowValid tests a row in a DuckDB validity mask: an array of uint64 in
// which bit i%64 of word i/64 is set for a valid row (duckdb.h). It is
// read here rather than through duckdb_validity_row_is_valid, since a cgo
// call per value would cost more than the model.
func rowValid(mask unsafe.Pointer, i int) bool {
	if mask == nil {
		return true
	}
	word := *(*uint64)(unsafe.Add(mask, 8*(i>>6)))
	return word>>(uint(i)&63)&1 != 0
}

func (n numeric) at(i int) float64 {
	switch n.typ {
	case mapping.TypeDouble:
		return *(*float64)(unsafe.Add(n.data, 8*i))
	case mapping.TypeFloat:
		return float64(*(*float32)(unsafe.Add(n.data, 4*i)))
	case mapping.TypeBigInt:
		return float64(*(*int64)(unsafe.Add(n.data, 8*i)))
	case mapping.TypeInteger:
		return float64(*(*int32)(unsafe.Add(n.data, 4*i)))
	case mapping.TypeSmallInt:
		return float64(*(*int16)(unsafe.Add(n.data, 2*i)))
	}
	return float64(*(*int8)(unsafe.Add(n.data, i)))
}

// vectorType returns a vector's type id (and, for LIST and ARRAY, the
// child's type id and the array size).
func vectorType(vec mapping.Vector) (typ, child mapping.Type, size int) {
	lt := mapping.VectorGetColumnType(vec)
	defer mapping.DestroyLogicalType(&lt)
	typ = mapping.GetTypeId(lt)
	switch typ {
	case mapping.TypeList:
		ct := mapping.ListTypeChildType(lt)
		child = mapping.GetTypeId(ct)
		mapping.DestroyLogicalType(&ct)
	case mapping.TypeArray:
		ct := mapping.ArrayTypeChildType(lt)
		child = mapping.GetTypeId(ct)
		mapping.DestroyLogicalType(&ct)
		size = int(mapping.ArrayTypeArraySize(lt))
	}
	return typ, child, size
}

// denseFeatures fills x (n rows of nf features) from the input chunk's
// argument columns. skip marks rows with a NULL argument or a list
// holding a NULL: their result is NULL (writeNumbers); with nan (a model
// that takes missing values) such a NULL is NaN instead, and only a NULL
// list skips its row. ok is false when the arguments are not a shape the
// dense path reads (the ordinary path then handles them, and reports any
// error).
func denseFeatures(chunk mapping.DataChunk, cols, n, nf int, x []float64, skip []bool, nan nans) bool {
	if cols == 2 {
		vec := mapping.DataChunkGetVector(chunk, 1)
		typ, child, size := vectorType(vec)
		switch typ {
		case mapping.TypeList, mapping.TypeArray:
			return denseList(vec, typ, child, size, n, nf, x, skip, nan)
		}
	}
	if cols-1 != nf {
		return false
	}
	for c := 1; c < cols; c++ {
		vec := mapping.DataChunkGetVector(chunk, mapping.IdxT(c))
		typ, _, _ := vectorType(vec)
		num, ok := numericOf(vec, typ)
		if !ok {
			return false
		}
		if num.typ == mapping.TypeDouble && num.validity == nil {
			col := unsafe.Slice((*float64)(num.data), n)
			for r, v := range col {
				x[r*nf+c-1] = v
			}
			continue
		}
		for r := range n {
			if !num.valid(r) {
				missing(x, r*nf+c-1, c-1, skip, r, nan)
				continue
			}
			x[r*nf+c-1] = num.at(r)
		}
	}
	return true
}

func denseList(vec mapping.Vector, typ, childType mapping.Type, size, n, nf int, x []float64, skip []bool, nan nans) bool {
	var child mapping.Vector
	if typ == mapping.TypeList {
		child = mapping.ListVectorGetChild(vec)
	} else {
		if size != nf {
			return false
		}
		child = mapping.ArrayVectorGetChild(vec)
	}
	num, ok := numericOf(child, childType)
	if !ok {
		return false
	}
	validity := mapping.VectorGetValidity(vec)
	entries := mapping.VectorGetData(vec)
	for r := range n {
		if !rowValid(validity, r) {
			skip[r] = true
			continue
		}
		offset := r * nf
		if typ == mapping.TypeList {
			off, length := mapping.ListEntryMembers((*mapping.ListEntry)(unsafe.Add(entries, r*int(unsafe.Sizeof(mapping.ListEntry{})))))
			if int(length) != nf {
				return false // the ordinary path reports the count
			}
			offset = int(off)
		}
		if num.typ == mapping.TypeDouble && num.validity == nil { // the common case: a copy
			copy(x[r*nf:r*nf+nf], unsafe.Slice((*float64)(unsafe.Add(num.data, 8*offset)), nf))
			continue
		}
		for i := range nf {
			if !num.valid(offset + i) {
				missing(x, r*nf+i, i, skip, r, nan)
				continue
			}
			x[r*nf+i] = num.at(offset + i)
		}
	}
	return true
}

// missing handles a NULL feature j at x[i] of row r: NaN where the model
// takes missing values (nan), else the row is skipped.
func missing(x []float64, i, j int, skip []bool, r int, nan nans) {
	if nan.at(j) {
		x[i] = math.NaN()
		return
	}
	skip[r] = true
}

func isStruct(vec mapping.Vector) bool {
	typ, _, _ := vectorType(vec)
	return typ == mapping.TypeStruct
}

// denseStruct fills x from a STRUCT argument (a table's row) whose fields
// are numbers, taking the model's features by name (see features.go). A
// NULL row or NULL field marks the row in skip (a NULL field is NaN with
// nan). ok is false when a field is missing or not a number: the
// ordinary path then reports it.
func denseStruct(vec mapping.Vector, names []string, n, nf int, x []float64, skip []bool, nan nans) bool {
	lt := mapping.VectorGetColumnType(vec)
	defer mapping.DestroyLogicalType(&lt)
	k := int(mapping.StructTypeChildCount(lt))
	fields := make([]string, k)
	index := make(map[string]int, k)
	for i := range fields {
		fields[i] = mapping.StructTypeChildName(lt, mapping.IdxT(i))
		index[fields[i]] = i
	}
	mapped, err := mapFields("", names, fields)
	if err != nil {
		return false
	}
	validity := mapping.VectorGetValidity(vec)
	for r := range n {
		if !rowValid(validity, r) {
			skip[r] = true
		}
	}
	for j, f := range mapped {
		child := mapping.StructVectorGetChild(vec, mapping.IdxT(index[f]))
		typ, _, _ := vectorType(child)
		num, ok := numericOf(child, typ)
		if !ok {
			return false
		}
		for r := range n {
			if !num.valid(r) {
				missing(x, r*nf+j, j, skip, r, nan)
				continue
			}
			x[r*nf+j] = num.at(r)
		}
	}
	return true
}

// writeNumbers stores results into the result vector, as its type, and
// NULL for every skipped row: rows with a NULL argument (which DuckDB's
// NULL handling makes NULL anyway), rows whose list holds a NULL (which
// it does not), and rows the model gave no result (a scikit-learn model
// with OPTIONS (on_error = 'null') given NaN).
func writeNumbers(out mapping.Vector, t types.Type, vals []float64, skip []bool) bool {
	data := mapping.VectorGetData(out)
	var validity unsafe.Pointer
	for r, v := range vals {
		if skip[r] {
			if validity == nil {
				mapping.VectorEnsureValidityWritable(out)
				validity = mapping.VectorGetValidity(out)
			}
			setRowInvalid(validity, r)
			continue
		}
		switch t.Kind {
		case types.Float64:
			*(*float64)(unsafe.Add(data, 8*r)) = v
		case types.Float32:
			*(*float32)(unsafe.Add(data, 4*r)) = float32(v)
		case types.Int64:
			*(*int64)(unsafe.Add(data, 8*r)) = int64(v)
		case types.Int32:
			*(*int32)(unsafe.Add(data, 4*r)) = int32(v)
		case types.Int16:
			*(*int16)(unsafe.Add(data, 2*r)) = int16(v)
		case types.Int8:
			*(*int8)(unsafe.Add(data, r)) = int8(v)
		default:
			return false
		}
	}
	return true
}

// setRowInvalid clears a row's bit in a writable validity mask (see
// rowValid), without a cgo call per row.
func setRowInvalid(mask unsafe.Pointer, i int) {
	word := (*uint64)(unsafe.Add(mask, 8*(i>>6)))
	*word &^= 1 << (uint(i) & 63)
}

func denseResult(t types.Type) bool {
	switch t.Kind {
	case types.Float64, types.Float32, types.Int64, types.Int32, types.Int16, types.Int8:
		return true
	}
	return false
}

// runDense predicts one chunk on the dense path. handled is false when
// the chunk must take the ordinary path instead (nothing was written).
// A NULL number is NaN where the model takes missing values, for the
// function that sees NULLs (see denseFeatures).
func (f *predictUDF) runDense(ctx context.Context, st *duckdb.ChunkIteratorState, h *handle, dm model.DenseModel) (handled bool, err error) {
	nf := dm.Features()
	if !denseOK || nf <= 0 || !denseResult(h.entry.Returns) || !denseResult(h.from) {
		return false, nil
	}
	out, ok := rawVector(st.GetResultVector())
	if !ok {
		return false, nil
	}
	in := st.GetInputChunk()
	n, cols := in.GetSize(), in.ColumnCount()
	chunk := rawChunk(in)
	if !denseWidthFits(chunk, cols, nf, h.m) {
		return false, nil
	}
	nan := h.nanMask(f.missing)
	buf := getDenseBuf(n, nf)
	defer denseBufs.Put(buf)
	x, skip, vals := buf.x, buf.skip, buf.vals
	if names, _ := featureNames(h.m); len(names) == nf && cols == 2 && isStruct(mapping.DataChunkGetVector(chunk, 1)) {
		if !denseStruct(mapping.DataChunkGetVector(chunk, 1), names, n, nf, x, skip, nan) {
			return false, nil
		}
	} else if !denseFeatures(chunk, cols, n, nf, x, skip, nan) {
		return false, nil
	}
	// The model may set skip for rows it gives no result: they become
	// NULL too.
	err = h.timedBatches(ctx, n, func(start, end int) error {
		if err := dm.PredictDense(ctx, x[start*nf:end*nf], skip[start:end], vals[start:end]); err != nil {
			return fmt.Errorf("ML_PREDICT(%s): %w", h.entry.Name, err)
		}
		return nil
	})
	if err != nil {
		return true, err
	}
	if !writeNumbers(out, h.entry.Returns, vals, skip) {
		return false, nil
	}
	return true, nil
}

// denseWidthFits reports whether the chunk can hold nf features per row
// before a matrix of nf columns is allocated: nf is the model file's
// claim, and a file may claim billions. One argument per feature, a
// STRUCT taken by the model's feature names (as many as the file holds),
// a fixed-size array of nf, or a list column holding at least nf
// numbers in all.
func denseWidthFits(chunk mapping.DataChunk, cols, nf int, m model.Model) bool {
	if cols-1 == nf {
		return true
	}
	if cols != 2 {
		return false
	}
	vec := mapping.DataChunkGetVector(chunk, 1)
	if isStruct(vec) {
		names, _ := featureNames(m)
		return len(names) == nf
	}
	typ, _, size := vectorType(vec)
	switch typ {
	case mapping.TypeList:
		return int(mapping.ListVectorGetSize(vec)) >= nf
	case mapping.TypeArray:
		return size == nf
	}
	return false
}

// denseBuf holds one chunk's matrices; chunks come up to 2048 rows at a
// time on every DuckDB thread, so they are pooled rather than allocated.
type denseBuf struct {
	x, vals []float64
	skip    []bool
}

var denseBufs sync.Pool

func getDenseBuf(n, nf int) *denseBuf {
	b, _ := denseBufs.Get().(*denseBuf)
	if b == nil {
		b = &denseBuf{}
	}
	if cap(b.x) < n*nf {
		b.x = make([]float64, n*nf)
	}
	if cap(b.vals) < n {
		b.vals, b.skip = make([]float64, n), make([]bool, n)
	}
	b.x, b.vals, b.skip = b.x[:n*nf], b.vals[:n], b.skip[:n]
	clear(b.skip)
	return b
}
