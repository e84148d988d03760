package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/rewrite"
	"github.com/augurdb/augur/sqlext"
	"github.com/augurdb/augur/types"
)

// The table forms of ML_PREDICT and ML_EVALUATE are rewritten into SQL
// (package rewrite); the engine tells the rewriter about the model and
// the input's columns, and runs a classifier's probabilities for
// ML_EVALUATE through one more function, probaFunc.

// probaFunc is the function that returns a classifier's predicted class
// (its index in model.Classifier.Classes) and every class's probability.
// Its name starts with predictPrefix, so queries that call it run on the
// spin guard's threads and its errors read as ML_PREDICT's.
// probaMissingFunc is its variant that sees NULL arguments (missing.go),
// for the classifiers that take missing values: without it, a row with a
// NULL feature would have no probabilities and drop out of the metrics.
const (
	probaFunc        = predictPrefix + "proba"
	probaMissingFunc = predictPrefix + "proba_missing"
)

// probaType is probaFunc's result.
var probaType = types.StructOf(
	types.Field{Name: "class", Type: types.Int32T},
	types.Field{Name: "probabilities", Type: types.ListOf(types.Float64T)},
)

// registerProba registers probaFunc, once per engine.
func (e *Engine) registerProba(ctx context.Context) error {
	e.mu.Lock()
	done := e.probaReady
	e.mu.Unlock()
	if done {
		return nil
	}
	info, err := sqlext.TypeInfo(probaType)
	if err != nil {
		return err
	}
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	anyT, _ := duckdb.NewTypeInfo(duckdb.TYPE_ANY)
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.probaReady {
		return nil
	}
	for name, missing := range map[string]bool{probaFunc: false, probaMissingFunc: true} {
		f := &probaUDF{e: e, missing: missing, cfg: duckdb.ScalarFuncConfig{
			InputTypeInfos:      []duckdb.TypeInfo{varchar},
			VariadicTypeInfo:    anyT,
			ResultTypeInfo:      info,
			SpecialNullHandling: missing,
		}}
		if err := duckdb.RegisterScalarUDF(conn, name, f); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}
	e.probaReady = true
	return nil
}

type probaUDF struct {
	e       *Engine
	missing bool // the variant that sees NULL arguments
	cfg     duckdb.ScalarFuncConfig
}

func (f *probaUDF) Config() duckdb.ScalarFuncConfig { return f.cfg }

func (f *probaUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: f.run}
}

// run is predictUDF.run for probabilities.
func (f *probaUDF) run(ctx context.Context, st *duckdb.ChunkIteratorState) error {
	offload, exit := f.e.spin.enter()
	defer exit()
	if !offload {
		return f.chunk(ctx, st)
	}
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = f.chunk(ctx, st)
	}()
	<-done
	return err
}

func (f *probaUDF) chunk(ctx context.Context, st *duckdb.ChunkIteratorState) error {
	in := st.GetInputChunk()
	if in.GetSize() == 0 {
		return nil
	}
	if in.ColumnCount() < 2 {
		return errors.New("ML_EVALUATE: the model has no input")
	}
	first, err := in.GetValue(0, 0)
	if err != nil {
		return err
	}
	name, _ := first.(string)
	if ctx == nil {
		ctx = context.Background()
	}
	ent, ok := f.e.cat.Get(name)
	if !ok {
		return fmt.Errorf("ML_EVALUATE: model %q does not exist (SHOW MODELS lists the models)", name)
	}
	h, err := f.e.acquire(ctx, name, ent.Returns.SQL())
	if err != nil {
		return err
	}
	defer f.e.release(h)
	cl := classifierOf(h.m)
	if cl == nil {
		return fmt.Errorf("ML_EVALUATE: model %q is no longer a classifier with class probabilities; run the query again", h.entry.Name)
	}
	ca, err := h.readArgs(in, f.missing, f.missing && h.missing)
	if err != nil {
		return err
	}
	n := 0
	if len(ca.args) > 0 {
		n = len(ca.args[0])
	}
	nc := len(cl.Classes())
	results := make([]any, 0, n)
	err = h.batches(n, func(start, end int) error {
		b := &model.Batch{Args: make([][]any, len(ca.args)), Rows: end - start}
		for i := range ca.args {
			b.Args[i] = ca.args[i][start:end]
		}
		ps, err := cl.PredictProba(ctx, b)
		if err != nil {
			return fmt.Errorf("ML_PREDICT(%s): %w", h.entry.Name, err)
		}
		if len(ps) != b.Rows {
			return fmt.Errorf("ML_PREDICT(%s): the model returned %d results for %d rows", h.entry.Name, len(ps), b.Rows)
		}
		for _, p := range ps {
			if p.P == nil {
				results = append(results, nil)
				continue
			}
			if len(p.P) != nc || p.Class < 0 || p.Class >= nc {
				return fmt.Errorf("ML_PREDICT(%s): the model gave %d probabilities and class %d for %d classes", h.entry.Name, len(p.P), p.Class, nc)
			}
			list := make([]any, nc)
			for i, v := range p.P {
				list[i] = v
			}
			results = append(results, map[string]any{"class": int32(p.Class), "probabilities": list})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ca.write(st, results, func(v any, err error) error {
		return fmt.Errorf("ML_EVALUATE(%s): write probabilities: %w", h.entry.Name, err)
	})
}

// A regressor that returns FLOAT (scikit-learn's and the boosters'
// default, as Rikai's) computes its predictions in double precision and
// rounds them for ML_PREDICT. ML_EVALUATE compares them with the labels
// as scikit-learn's metrics would, unrounded: the model is loaded a
// second time with RETURNS double, as a handle of its own (e.precise),
// kept until the model is replaced or dropped, and run by a predict
// function whose acquire takes that handle.

// preciseKey is the key of the precise predict functions in e.predicts.
func preciseKey(missing bool) string {
	if missing {
		return "precise " + missingKey("DOUBLE")
	}
	return "precise DOUBLE"
}

// preciseFunc registers (once) and names the precise predict function,
// or its variant that sees NULL arguments.
func (e *Engine) preciseFunc(ctx context.Context, missing bool) (string, error) {
	name := predictPrefix + "precise"
	if missing {
		name += "_missing"
	}
	return e.registerUDF(ctx, preciseKey(missing), name, types.Float64T, &predictUDF{missing: missing, precise: true})
}

// acquirePrecise is acquire for the precise handle of a model: the
// catalog's entry with RETURNS double. sqlType is DOUBLE.
func (e *Engine) acquirePrecise(ctx context.Context, name, sqlType string) (*handle, error) {
	double := func(ent *catalog.Entry) (*catalog.Entry, error) {
		if ent.Returns.Kind != types.Float32 {
			return nil, fmt.Errorf("ML_EVALUATE: model %q now returns %s; run the query again", ent.Name, ent.ShownType)
		}
		d, f64 := *ent, types.Float64T
		d.Returns, d.ShownType, d.Requested = f64, "DOUBLE", &f64
		return &d, nil
	}
	return e.acquireIn(ctx, e.precise, name, double, func(*handle) error { return nil })
}

// preciseOf names the precise predict function for a regressor entry
// that returns FLOAT, or "" (another result, or a model that gives no
// more than FLOAT with RETURNS double: ML_EVALUATE then evaluates what
// ML_PREDICT returns).
func (c *Conn) preciseOf(ctx context.Context, name string) (string, error) {
	ent, ok := c.e.cat.Get(name)
	if !ok || ent.Returns.Kind != types.Float32 {
		return "", nil
	}
	h, err := c.e.acquirePrecise(ctx, ent.Name, "DOUBLE")
	if err != nil {
		// The model's ML_PREDICT handle may still be loaded from before
		// (its file replaced since): evaluating its FLOAT predictions
		// instead would miss the precision promised without saying so.
		return "", err
	}
	defer c.e.release(h)
	if h.from.Kind != types.Float64 {
		return "", nil
	}
	return c.e.preciseFunc(ctx, h.missing)
}

// rewriteEnv is what the rewriter asks this connection.
func (c *Conn) rewriteEnv(ctx context.Context) rewrite.Env {
	return rewrite.Env{
		Resolve: c.resolver(ctx),
		Model:   func(name string, pos parser.Pos) (*rewrite.Model, error) { return c.describeModel(ctx, name, pos) },
		Columns: func(q string) ([]rewrite.Column, error) { return c.columns(ctx, q) },
		Precise: func(name string) (string, error) { return c.preciseOf(ctx, name) },
	}
}

// describeModel loads a model to tell the rewriter what it takes and
// returns.
func (c *Conn) describeModel(ctx context.Context, name string, pos parser.Pos) (*rewrite.Model, error) {
	ent, ok := c.e.cat.Get(name)
	if !ok {
		return nil, &parser.Error{Pos: pos, Msg: fmt.Sprintf("model %q does not exist (SHOW MODELS lists the models)", name)}
	}
	fn, err := c.e.predictFuncOf(ctx, ent)
	if err != nil {
		return nil, err
	}
	h, err := c.e.acquire(ctx, name, ent.Returns.SQL())
	if err != nil {
		return nil, err
	}
	defer c.e.release(h)
	names, _ := featureNames(h.m)
	m := &rewrite.Model{Name: name, Predict: fn, Result: ent.Returns, Named: len(names) > 0, Features: names}
	if cl := classifierOf(h.m); cl != nil {
		if err := c.e.registerProba(ctx); err != nil {
			return nil, err
		}
		m.Proba, m.Classes, m.Class = probaFunc, cl.Classes(), cl.ClassType()
		if h.missing {
			m.Proba = probaMissingFunc
		}
	}
	return m, nil
}

// columns describes a query's result on this connection, so that it sees
// the session's temporary tables and open transaction.
func (c *Conn) columns(ctx context.Context, q string) ([]rewrite.Column, error) {
	qu, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, errors.New("the connection cannot describe a query")
	}
	rs, err := qu.QueryContext(ctx, "DESCRIBE "+q, nil)
	if err != nil {
		return nil, clean(err, q)
	}
	defer rs.Close()
	var cols []rewrite.Column
	row := make([]driver.Value, len(rs.Columns()))
	for {
		if err := rs.Next(row); err != nil {
			if err == io.EOF {
				return cols, nil
			}
			return nil, clean(err, q)
		}
		name, _ := row[0].(string)
		typ, _ := row[1].(string)
		cols = append(cols, rewrite.Column{Name: name, Type: typ})
	}
}
