package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/internal/livectx"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/rewrite"
	"github.com/augurdb/augur/source"
)

// Conn is a database/sql driver connection: DuckDB's, with model
// statements handled by augur and ML_PREDICT rewritten on the way in.
// Model statements run on the engine's own connections and commit at
// once, whatever transaction this connection has open.
type Conn struct {
	e       *Engine
	inner   driver.Conn
	onClose func() error

	mu       sync.Mutex
	settings map[string]string // SET of augur's own settings (parser.Settings), this session's

	readOnly atomic.Bool // SetReadOnly: the reader role (policy.go)

	live livectx.Holder // the running statement's context, for SQL functions
}

// Connect opens a new connection to the engine's database.
func (e *Engine) Connect(ctx context.Context) (*Conn, error) {
	c, err := e.connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &Conn{e: e, inner: c}, nil
}

// Unwrap returns DuckDB's own connection, for its Appender and Arrow APIs.
func (c *Conn) Unwrap() driver.Conn { return c.inner }

// Engine returns the engine the connection belongs to.
func (c *Conn) Engine() *Engine { return c.e }

// mayNeedAugur is the fast path: SQL that mentions neither "model" nor
// "ml_predict" nor "ml_evaluate" (nor "mlflow_", augur's SET) goes to DuckDB untouched,
// without being split or lexed.
func mayNeedAugur(q string) bool {
	for i := 0; i+5 <= len(q); i++ {
		switch q[i] | 0x20 {
		case 'm':
			if strings.EqualFold(q[i:i+5], "model") {
				return true
			}
			if i+10 <= len(q) && strings.EqualFold(q[i:i+10], "ml_predict") {
				return true
			}
			if i+11 <= len(q) && strings.EqualFold(q[i:i+11], "ml_evaluate") {
				return true
			}
			if i+7 <= len(q) && strings.EqualFold(q[i:i+7], "mlflow_") {
				return true // SET mlflow_tracking_uri (parser.Settings)
			}
		}
	}
	return false
}

// plan is one statement of a request, classified.
type plan struct {
	stmt  parser.Stmt
	model parser.Statement // nil: DuckDB's
	sql   string           // DuckDB's SQL after rewriting
}

// plan classifies one statement and rewrites its ML_PREDICT calls. It
// runs just before the statement executes, so a script can create a
// model and use it in its next statement.
func (c *Conn) plan(ctx context.Context, s parser.Stmt) (plan, error) {
	st, err := parser.Parse(s.Text, s.Pos)
	if err != nil {
		return plan{}, err
	}
	p := plan{stmt: s, model: st}
	if st == nil {
		if p.sql, _, err = rewrite.RewriteEnv(s.Text, s.Pos, c.rewriteEnv(ctx)); err != nil {
			return plan{}, err
		}
	}
	return p, nil
}

// run executes one planned statement whose result is not wanted.
func (c *Conn) run(ctx context.Context, s parser.Stmt, args []driver.NamedValue) (driver.Result, error) {
	p, err := c.plan(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := c.allow(p); err != nil {
		return nil, err
	}
	if p.model != nil {
		return c.execModel(ctx, p.model)
	}
	return c.exec(ctx, p.sql, args)
}

// resolver maps a model to its predict function for the rewriter.
func (c *Conn) resolver(ctx context.Context) rewrite.Resolver {
	return func(name string, pos parser.Pos) (string, error) {
		ent, ok := c.e.cat.Get(name)
		if !ok {
			return "", &parser.Error{Pos: pos, Msg: fmt.Sprintf("model %q does not exist (SHOW MODELS lists the models)", name)}
		}
		return c.e.predictFuncOf(ctx, ent)
	}
}

// split splits a request into statements; parameters bind to a request
// of one statement only.
func split(q string, args []driver.NamedValue) ([]parser.Stmt, error) {
	stmts, err := parser.Split(q)
	if err != nil {
		return nil, err
	}
	if len(stmts) > 1 && len(args) > 0 {
		return nil, errors.New("parameters are only supported with a single statement")
	}
	return stmts, nil
}

// ExecContext implements driver.ExecerContext.
func (c *Conn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ctx = c.policyContext(ctx)
	// A reader's request is split and each statement classified before
	// it runs (Conn.allow), whatever it mentions.
	if !mayNeedAugur(q) && !c.readOnly.Load() {
		return c.exec(ctx, q, args)
	}
	stmts, err := split(q, args)
	if err != nil {
		return nil, err
	}
	var res driver.Result = driver.RowsAffected(0)
	for _, s := range stmts {
		if res, err = c.run(ctx, s, args); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// QueryContext implements driver.QueryerContext. Every statement but the
// last is executed; the last one's result is returned.
func (c *Conn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	ctx = c.policyContext(ctx)
	if !mayNeedAugur(q) && !c.readOnly.Load() {
		return c.query(ctx, q, args)
	}
	stmts, err := split(q, args)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return emptyRows{}, nil
	}
	for _, s := range stmts[:len(stmts)-1] {
		if _, err := c.run(ctx, s, nil); err != nil {
			return nil, err
		}
	}
	last, err := c.plan(ctx, stmts[len(stmts)-1])
	if err != nil {
		return nil, err
	}
	if err := c.allow(last); err != nil {
		return nil, err
	}
	if last.model != nil {
		return c.queryModel(ctx, last.model)
	}
	if len(stmts) == 1 && last.sql == last.stmt.Text && !c.readOnly.Load() {
		return c.query(ctx, q, args) // unchanged: keep DuckDB's error positions
	}
	return c.queryRewritten(ctx, last.stmt.Text, last.sql, args) // EXPLAIN names models (explain.go)
}

func (c *Conn) exec(ctx context.Context, q string, args []driver.NamedValue) (res driver.Result, err error) {
	ex, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.guard(q, func() { res, err = ex.ExecContext(ctx, q, args) })
	return res, c.udfPermission(clean(err, q))
}

func (c *Conn) query(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qu, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	var r driver.Rows
	var err error
	c.guard(q, func() { r, err = qu.QueryContext(ctx, q, args) })
	if err != nil {
		return nil, c.udfPermission(clean(err, q))
	}
	return rows{r, q}, nil
}

// guard runs f, DuckDB executing q, on a client thread of the spin guard
// when q calls ML_PREDICT (see spinGuard), and as it is otherwise.
func (c *Conn) guard(q string, f func()) {
	if strings.Contains(q, predictPrefix) {
		c.e.spin.run(f)
		return
	}
	f()
}

// withSettings puts the session's settings on ctx, where the sources
// that read them look (source.Setting).
func (c *Conn) withSettings(ctx context.Context) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.settings {
		ctx = source.WithSetting(ctx, k, v)
	}
	return ctx
}

func (c *Conn) execModel(ctx context.Context, st parser.Statement) (driver.Result, error) {
	switch s := st.(type) {
	case *parser.CreateModel:
		return driver.RowsAffected(0), c.e.CreateModel(c.withSettings(ctx), s)
	case *parser.SetOption:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.settings == nil {
			c.settings = map[string]string{}
		}
		if s.Reset {
			delete(c.settings, s.Name)
		} else {
			c.settings[s.Name] = s.Value
		}
		return driver.RowsAffected(0), nil
	case *parser.DropModel:
		return driver.RowsAffected(0), c.e.DropModel(ctx, s)
	}
	rows, err := c.queryModel(ctx, st)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(0), rows.Close()
}

// queryModel answers SHOW MODELS and DESCRIBE MODEL from augur_models(),
// so their results are ordinary DuckDB results.
func (c *Conn) queryModel(ctx context.Context, st parser.Statement) (driver.Rows, error) {
	if r, ok, err := c.queryStats(ctx, st); ok { // SHOW MODEL STATS (stats_table.go)
		return r, err
	}
	cols := strings.Join(modelColumns, ", ")
	switch s := st.(type) {
	case *parser.ShowModels:
		return c.query(ctx, "SELECT "+cols+" FROM augur_models() ORDER BY lower(name), name", nil)
	case *parser.DescribeModel:
		ent, ok := c.e.cat.Get(s.Name.Name)
		if !ok {
			return nil, fmt.Errorf("model %q does not exist", s.Name.Name)
		}
		cols += ", " + strings.Join(describeColumns, ", ")
		return c.query(ctx, "SELECT "+cols+" FROM augur_models() WHERE lower(name) = "+quote(catalog.Key(ent.Name)), nil)
	}
	if _, err := c.execModel(ctx, st); err != nil {
		return nil, err
	}
	return emptyRows{}, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Prepare implements driver.Conn.
func (c *Conn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

// PrepareContext implements driver.ConnPrepareContext. A single DuckDB
// statement is prepared by DuckDB (after rewriting); anything involving a
// model statement becomes a statement that runs the text when executed.
func (c *Conn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	ctx = c.policyContext(ctx)
	ro := c.readOnly.Load()
	if mayNeedAugur(q) || ro {
		stmts, err := parser.Split(q)
		if err != nil {
			return nil, err
		}
		if len(stmts) != 1 {
			return &scriptStmt{c: c, q: q}, nil // each statement is checked as it runs
		}
		p, err := c.plan(ctx, stmts[0])
		if err != nil {
			return nil, err
		}
		if p.model != nil {
			if err := c.allow(p); err != nil {
				return nil, err
			}
			return &scriptStmt{c: c, q: q}, nil
		}
		if explain, _ := explainKind(p.stmt.Text); explain && p.sql != p.stmt.Text {
			return &scriptStmt{c: c, q: q}, nil // EXPLAIN names models (explain.go)
		}
		q = p.sql
	}
	var st driver.Stmt
	var err error
	if pc, ok := c.inner.(driver.ConnPrepareContext); ok && !ro {
		st, err = pc.PrepareContext(ctx, q)
	} else {
		st, err = c.inner.Prepare(q) // one statement only, never executed here
	}
	if err != nil {
		return nil, clean(err, q)
	}
	if ro {
		if err := c.allowStmt(st, q, 0); err != nil {
			st.Close()
			return nil, err
		}
	}
	gs := &guardedStmt{Stmt: st, q: q, live: &c.live}
	if strings.Contains(q, predictPrefix) {
		gs.g = &c.e.spin
	}
	st = gs
	if c.restricted() {
		st = &policyStmt{Stmt: st, c: c}
	}
	return st, nil
}

// Begin implements driver.Conn.
func (c *Conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.inner.Begin() //nolint:staticcheck // fallback for old drivers
}

// Close implements driver.Conn.
func (c *Conn) Close() error {
	err := c.inner.Close()
	if c.onClose != nil {
		if cerr := c.onClose(); err == nil {
			err = cerr
		}
	}
	return err
}

// CloseEngineWithConn makes Close also release one Open of the engine,
// for a connection opened without a connector.
func (c *Conn) CloseEngineWithConn() { c.onClose = c.e.Close }

// CheckNamedValue lets DuckDB's own parameter types through.
func (c *Conn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.inner.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// ResetSession implements driver.SessionResetter.
func (c *Conn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid implements driver.Validator.
func (c *Conn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// scriptStmt is a prepared model statement (or script): it has no
// parameters and runs its text on each execution.
type scriptStmt struct {
	c *Conn
	q string
}

func (s *scriptStmt) Close() error  { return nil }
func (s *scriptStmt) NumInput() int { return 0 }
func (s *scriptStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.q, nil)
}
func (s *scriptStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.q, nil)
}
func (s *scriptStmt) ExecContext(ctx context.Context, _ []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.q, nil)
}
func (s *scriptStmt) QueryContext(ctx context.Context, _ []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.q, nil)
}

// emptyRows is the result of a statement that returns nothing.
type emptyRows struct{}

func (emptyRows) Columns() []string         { return nil }
func (emptyRows) Close() error              { return nil }
func (emptyRows) Next([]driver.Value) error { return io.EOF }
