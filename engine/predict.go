package engine

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/sqlext"
	"github.com/augurdb/augur/types"
)

// DuckDB fixes a scalar function's result type when it is registered, and
// two overloads that differ only in result type make every call
// ambiguous. So augur registers one predict function per result type,
// named after a hash of that type, and ML_PREDICT(m, ...) is rewritten to
// the function for m's type with m's name as a constant first argument.
// A replaced model with another type simply uses another function; a view
// that still names the old one gets a clear error at bind time.

// predictFunc returns the name of the function that runs models of result
// type t, registering it on first use. The variant for models that take
// missing values (see missing.go) is registered with it, so that a view
// that calls it works in a later process too.
func (e *Engine) predictFunc(ctx context.Context, t types.Type) (string, error) {
	if _, err := e.registerPredict(ctx, t, true); err != nil {
		return "", err
	}
	return e.registerPredict(ctx, t, false)
}

// registerPredict registers the predict function of result type t, or
// its variant that sees NULL arguments, once per engine.
func (e *Engine) registerPredict(ctx context.Context, t types.Type, missing bool) (string, error) {
	key := t.SQL()
	if missing {
		key = missingKey(key)
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return e.registerUDF(ctx, key, predictPrefix+strconv.FormatUint(h.Sum64(), 36), t, &predictUDF{missing: missing})
}

// registerUDF registers f as the function name of result type t, once
// per key of e.predicts, and returns the name registered for the key.
func (e *Engine) registerUDF(ctx context.Context, key, name string, t types.Type, f *predictUDF) (string, error) {
	e.mu.Lock()
	done, ok := e.predicts[key]
	e.mu.Unlock()
	if ok {
		return done, nil
	}
	info, err := sqlext.TypeInfo(t)
	if err != nil {
		return "", fmt.Errorf("result type %s: %w", t.SQL(), err)
	}
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	anyT, _ := duckdb.NewTypeInfo(duckdb.TYPE_ANY)
	f.e, f.sqlType = e, t.SQL()
	f.cfg = duckdb.ScalarFuncConfig{
		InputTypeInfos:      []duckdb.TypeInfo{varchar},
		VariadicTypeInfo:    anyT,
		ResultTypeInfo:      info,
		SpecialNullHandling: f.missing,
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	e.mu.Lock()
	defer e.mu.Unlock()
	if done, ok := e.predicts[key]; ok {
		return done, nil
	}
	if err := duckdb.RegisterScalarUDF(conn, name, f); err != nil {
		return "", fmt.Errorf("register %s: %w", name, err)
	}
	e.predicts[key] = name
	return name, nil
}

// predictPrefix starts the name of every predict function, so SQL that
// contains it calls ML_PREDICT.
const predictPrefix = "__augur_predict_"

type predictUDF struct {
	e       *Engine
	sqlType string
	// missing: the variant that sees NULL arguments (see missing.go).
	missing bool
	// precise: ML_EVALUATE's DOUBLE results of a regressor that returns
	// FLOAT (see evaluate.go).
	precise bool
	cfg     duckdb.ScalarFuncConfig
}

func (f *predictUDF) Config() duckdb.ScalarFuncConfig { return f.cfg }

func (f *predictUDF) Executor() duckdb.ScalarFuncExecutor {
	// No ScalarBinder: duckdb-go folds every constant argument for a
	// binder and cannot fold LIST constants (ML_PREDICT(m, [1, 2])). The
	// rewriter has already checked that the model exists; the executor
	// reads its name from the constant first column.
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: f.run}
}

// run predicts one DuckDB vector (up to 2048 rows). On a client thread
// of the spin guard whose priority has been lowered, the model runs on
// another goroutine (see spinGuard.enter).
func (f *predictUDF) run(ctx context.Context, st *duckdb.ChunkIteratorState) error {
	offload, exit := f.e.spin.enter()
	defer exit()
	if !offload {
		return f.predictChunk(ctx, st)
	}
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = f.predictChunk(ctx, st)
	}()
	<-done
	return err
}

// predictChunk predicts one DuckDB vector, in batches of the model's
// batch_size. Rows with a NULL argument are skipped: DuckDB's default
// NULL handling makes their result NULL without calling us. The variant
// that sees NULLs hands a model that takes missing values NaN for a NULL
// number instead, and makes the other NULL rows NULL itself.
func (f *predictUDF) predictChunk(ctx context.Context, st *duckdb.ChunkIteratorState) error {
	in := st.GetInputChunk()
	n, cols := in.GetSize(), in.ColumnCount()
	if n == 0 {
		return nil
	}
	if cols < 2 {
		return fmt.Errorf("ML_PREDICT needs at least 2 arguments (the model and its input), got %d", cols)
	}
	first, err := in.GetValue(0, 0)
	if err != nil {
		return err
	}
	name, ok := first.(string)
	if !ok {
		return fmt.Errorf("ML_PREDICT: the first argument must name a model")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	acquire := f.e.acquire
	if f.precise {
		acquire = f.e.acquirePrecise
	}
	h, err := acquire(ctx, name, f.sqlType)
	if err != nil {
		return err
	}
	defer f.e.release(h)
	ctx = model.WithRecorder(ctx, h.recorder(ctx))

	nan := f.missing && h.missing
	if dm, ok := h.m.(model.DenseModel); ok {
		if handled, err := f.runDense(ctx, st, h, dm); handled {
			return err
		}
	}
	ca, err := h.readArgs(in, f.missing, nan)
	if err != nil {
		return err
	}
	results, err := h.predict(ctx, ca.args)
	if err != nil {
		return err
	}
	return ca.write(st, results, func(v any, err error) error {
		return fmt.Errorf("ML_PREDICT(%s): write result %v as %s: %w", h.entry.Name, v, f.sqlType, err)
	})
}

// chunkArgs is one chunk's model arguments.
type chunkArgs struct {
	args   [][]any // args[i]: argument i of every row that runs, in order
	direct []bool  // the row has a NULL argument: DuckDB makes it NULL
	null   []bool  // the row does not run (direct, or a NULL field of a row taken by name)
	// seen: the function sees NULL arguments (special NULL handling), so
	// Rows yields the direct rows too, and write makes them NULL.
	seen bool
}

// readArgs reads a chunk's arguments after the model name, for a
// function that sees NULL arguments (seen) and, with nan, a model that
// takes NaN for a missing number. A single STRUCT argument to a model
// that knows its features' names is taken by name (see features.go).
func (h *handle) readArgs(in *duckdb.DataChunk, seen, nan bool) (*chunkArgs, error) {
	n, cols := in.GetSize(), in.ColumnCount()
	ca := &chunkArgs{direct: make([]bool, n), null: make([]bool, n), seen: seen}
	var fills []fill
	if nan {
		fills = missingFills(in)
		names, _ := featureNames(h.m)
		gate(fills, h.missingAt, names)
	}
	raw := make([][]any, cols-1)
	for c := 1; c < cols; c++ {
		col := make([]any, n)
		for r := range n {
			v, err := in.GetValue(c, r)
			if err != nil {
				return nil, fmt.Errorf("ML_PREDICT(%s): read argument %d: %w", h.entry.Name, c, err)
			}
			if fills != nil {
				v = fills[c].apply(v)
			}
			if v == nil {
				ca.direct[r], ca.null[r] = true, true
			}
			col[r] = v
		}
		raw[c-1] = col
	}
	if len(raw) == 1 && structArg(raw[0]) {
		if names, named := featureNames(h.m); named {
			if len(names) == 0 {
				return nil, noNamesError(h.entry.Name)
			}
			args, err := byName(h.entry.Name, names, raw[0], ca.null)
			if err != nil {
				return nil, err
			}
			ca.args = args
			return ca, nil
		}
	}
	ca.args = make([][]any, len(raw))
	for i, col := range raw {
		a := make([]any, 0, n)
		for r, v := range col {
			if !ca.null[r] {
				a = append(a, v)
			}
		}
		ca.args[i] = a
	}
	return ca, nil
}

// write stores the results of the rows that ran, in order, and NULL for
// the rows that did not. Under default NULL handling duckdb-go's Rows
// skips the rows with a NULL argument (DuckDB makes their result NULL
// itself); for the function that sees NULLs it yields them too.
func (ca *chunkArgs) write(st *duckdb.ChunkIteratorState, results []any, fail func(any, error) error) error {
	r, k := 0, 0
	for s, err := range st.Rows() {
		if err != nil {
			return err
		}
		for !ca.seen && r < len(ca.direct) && ca.direct[r] {
			r++
		}
		var v any
		if r < len(ca.null) && !ca.null[r] {
			if k >= len(results) {
				return fmt.Errorf("ML_PREDICT: %d results for more rows", len(results))
			}
			v = results[k]
			k++
		}
		if err := s.SetResult(v); err != nil {
			return fail(v, err)
		}
		r++
	}
	return nil
}

// handle is a model as loaded in this process: loaded at most once, on
// first use, shared by every query, and closed after it was replaced or
// dropped and the last query using it let go.
type handle struct {
	entry     *catalog.Entry
	batchSize int
	cat       *catalog.Catalog // where an embedded artifact's bytes are

	loadMu sync.Mutex
	m      model.Model
	from   types.Type // the model's own result type
	conv   bool       // convert from -> entry.Returns
	whole  bool       // hand the model whole vectors (model.SelfBatching)
	// missing: the model takes NaN for a missing value (model.MissingAware),
	// in the features of missingAt (nil: all; model.MissingFeatures)
	missing   bool
	missingAt []bool
	// reports: the model counts its own batches (model.BatchReporter)
	reports bool

	// stats: what SHOW MODEL STATS shows of this model; a replacing
	// handle takes over its predecessor's (see install)
	stats  *modelStats
	loaded atomic.Bool  // a model is loaded (set, until close)
	mem    atomic.Int64 // its size estimate while loaded

	refs    int // guarded by Engine.mu
	retired bool
}

// acquire returns the loaded model named name, loading it if needed.
func (e *Engine) acquire(ctx context.Context, name, sqlType string) (*handle, error) {
	same := func(ent *catalog.Entry) (*catalog.Entry, error) { return ent, nil }
	return e.acquireIn(ctx, e.handles, name, same, func(h *handle) error {
		if h.entry.Returns.SQL() != sqlType {
			return fmt.Errorf("ML_PREDICT: model %q now returns %s, but this query was written when it returned %s; run it again, or re-create the view that uses it", h.entry.Name, h.entry.ShownType, sqlType)
		}
		return nil
	})
}

// acquireIn is acquire from the handles hs, whose new handles load the
// catalog's entry as entry rewrites it, each use checked by check.
func (e *Engine) acquireIn(ctx context.Context, hs map[string]*handle, name string, entry func(*catalog.Entry) (*catalog.Entry, error), check func(*handle) error) (*handle, error) {
	e.mu.Lock()
	key := catalog.Key(name)
	h := hs[key]
	if h == nil {
		ent, ok := e.cat.Get(name)
		if !ok {
			e.mu.Unlock()
			return nil, fmt.Errorf("ML_PREDICT: model %q does not exist (SHOW MODELS lists the models)", name)
		}
		ent, err := entry(ent)
		if err != nil {
			e.mu.Unlock()
			return nil, err
		}
		h = &handle{entry: ent, batchSize: batchSize(ent), cat: e.cat, stats: &modelStats{}}
		hs[key] = h
	}
	if err := check(h); err != nil {
		e.mu.Unlock()
		return nil, err
	}
	h.refs++
	e.mu.Unlock()
	if err := h.load(ctx); err != nil {
		e.release(h)
		return nil, err
	}
	return h, nil
}

func (e *Engine) release(h *handle) {
	e.mu.Lock()
	h.refs--
	closeNow := h.retired && h.refs == 0
	e.mu.Unlock()
	if closeNow {
		h.close()
	}
}

// install puts a model loaded by CREATE MODEL in place of any older one.
func (e *Engine) install(h *handle) {
	e.mu.Lock()
	old := e.handles[catalog.Key(h.entry.Name)]
	if old != nil {
		// the model's statistics span its replacements; the load is
		// this one's
		old.stats.load.Store(h.stats.load.Load())
		h.stats = old.stats
	}
	e.handles[catalog.Key(h.entry.Name)] = h
	e.mu.Unlock()
	if old != nil {
		e.retireHandle(old)
	}
	e.forget(e.precise, h.entry.Name) // its precise copy is the old model
}

// unload forgets a dropped model.
func (e *Engine) unload(name string) {
	e.forget(e.handles, name)
	e.forget(e.precise, name)
}

// forget retires a model's handle in hs, if any.
func (e *Engine) forget(hs map[string]*handle, name string) {
	e.mu.Lock()
	h := hs[catalog.Key(name)]
	delete(hs, catalog.Key(name))
	e.mu.Unlock()
	if h != nil {
		e.retireHandle(h)
	}
}

func (e *Engine) retireHandle(h *handle) {
	e.mu.Lock()
	h.retired = true
	closeNow := h.refs == 0
	e.mu.Unlock()
	if closeNow {
		h.close()
	}
}

func (h *handle) retire() { h.retired = true; h.close() }

func (h *handle) close() {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.m != nil {
		_ = h.m.Close()
		h.m = nil
		h.loaded.Store(false)
		h.mem.Store(0)
	}
}

// load loads the model of a catalog entry created by an earlier process.
// A failure is not cached: the next query tries again (the file may have
// been restored meanwhile).
func (h *handle) load(ctx context.Context) error {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.m != nil {
		return nil
	}
	t0 := time.Now()
	m, err := loadEntry(ctx, h.entry, h.cat)
	if err != nil {
		return fmt.Errorf("ML_PREDICT: load model %q: %w", h.entry.Name, err)
	}
	h.stats.load.Store(int64(time.Since(t0)))
	return h.set(m)
}

// set adopts a loaded model, checking that it still produces the type
// the catalog promises.
func (h *handle) set(m model.Model) error {
	from := m.Type()
	if !from.Equal(h.entry.Returns) {
		if !types.CanConvert(from, h.entry.Returns) {
			_ = m.Close()
			return fmt.Errorf("model %q now returns %s, but the catalog says %s; the model file changed: CREATE OR REPLACE MODEL to update it", h.entry.Name, from, h.entry.ShownType)
		}
		h.conv = true
	}
	h.m, h.from = m, from
	_, h.whole = m.(model.SelfBatching)
	_, h.reports = model.As[model.BatchReporter](m)
	h.reports = h.reports && h.whole
	h.missing, h.missingAt = takesMissing(m)
	h.mem.Store(modelSize(m, h.entry))
	h.loaded.Store(true)
	return nil
}

func (h *handle) predict(ctx context.Context, args [][]any) ([]any, error) {
	n := 0
	if len(args) > 0 {
		n = len(args[0])
	}
	out := make([]any, 0, n)
	err := h.timedBatches(ctx, n, func(start, end int) error {
		b := &model.Batch{Args: make([][]any, len(args)), Rows: end - start}
		for i := range args {
			b.Args[i] = args[i][start:end]
		}
		res, err := h.m.Predict(ctx, b)
		if err != nil {
			return fmt.Errorf("ML_PREDICT(%s): %w", h.entry.Name, err)
		}
		if len(res) != b.Rows {
			return fmt.Errorf("ML_PREDICT(%s): the model returned %d results for %d rows", h.entry.Name, len(res), b.Rows)
		}
		if h.conv {
			for i, v := range res {
				if res[i], err = types.Convert(v, h.from, h.entry.Returns); err != nil {
					return fmt.Errorf("ML_PREDICT(%s): %w", h.entry.Name, err)
				}
			}
		}
		out = append(out, res...)
		return nil
	})
	return out, err
}

// batches calls f for consecutive row ranges of at most the model's
// batch_size (all n rows when it has none, or batches them itself).
func (h *handle) batches(n int, f func(start, end int) error) error {
	return h.timedBatches(context.Background(), n, f)
}

// timedBatches is batches timing each batch for the recorder on ctx
// (see handle.recorder): one clock reading a batch, never one a row.
func (h *handle) timedBatches(ctx context.Context, n int, f func(start, end int) error) error {
	size := h.batchSize
	if size <= 0 || size > n || h.whole {
		size = n
	}
	rec, _ := model.RecorderFrom(ctx).(*chunkRecorder)
	t0 := time.Now()
	for start := 0; start < n; start += size {
		end := min(start+size, n)
		if err := f(start, end); err != nil {
			return err
		}
		if rec != nil {
			t1 := time.Now()
			rec.ran(end-start, t1.Sub(t0))
			t0 = t1
		}
	}
	return nil
}

// batchSize is the batch_size option, 0 when there is none; CREATE
// MODEL has already refused a bad one (see checkOptions).
func batchSize(e *catalog.Entry) int {
	n, _ := parseBatchSize(e.Options)
	return n
}

// parseBatchSize reads OPTIONS batch_size: absent is 0, otherwise it must
// be a positive integer.
func parseBatchSize(opts map[string]string) (int, error) {
	// Keys are case-insensitive, as every other OPTIONS key is.
	v, ok := "", false
	for k, val := range opts {
		if strings.EqualFold(k, "batch_size") {
			v, ok = val, true
		}
	}
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("OPTIONS batch_size must be a positive integer, got %q", v)
	}
	return n, nil
}
