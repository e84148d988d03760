package engine

import (
	"context"
	"database/sql/driver"

	"github.com/augurdb/augur/internal/livectx"
)

// guardedStmt is a prepared statement: it executes with the connection's
// live context (see package livectx) and, when it calls ML_PREDICT, on a
// client thread of the spin guard, as Conn.query does (g nil otherwise).
type guardedStmt struct {
	driver.Stmt
	g    *spinGuard
	q    string          // the SQL, for clean
	live *livectx.Holder // the connection's
}

// run runs f on the spin guard's terms when the statement predicts.
func (s *guardedStmt) run(f func()) {
	if s.g == nil {
		f()
		return
	}
	s.g.run(f)
}

func (s *guardedStmt) Exec(args []driver.Value) (res driver.Result, err error) {
	s.run(func() { res, err = s.Stmt.Exec(args) }) //nolint:staticcheck // driver.Stmt's own method
	return res, clean(err, s.q)
}

func (s *guardedStmt) Query(args []driver.Value) (r driver.Rows, err error) {
	s.run(func() { r, err = s.Stmt.Query(args) }) //nolint:staticcheck // driver.Stmt's own method
	if err != nil {
		return nil, clean(err, s.q)
	}
	return rows{r, s.q}, nil
}

func (s *guardedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (res driver.Result, err error) {
	ec, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx = s.live.Enter(ctx)
	s.run(func() { res, err = ec.ExecContext(ctx, args) })
	return res, clean(err, s.q)
}

func (s *guardedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (r driver.Rows, err error) {
	qc, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx = s.live.Enter(ctx)
	s.run(func() { r, err = qc.QueryContext(ctx, args) })
	if err != nil {
		return nil, clean(err, s.q)
	}
	return rows{r, s.q}, nil
}

// CheckNamedValue lets the inner statement convert arguments as it did
// before it was wrapped.
func (s *guardedStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// policyStmt is a prepared statement of a restricted connection (a file
// policy, or the reader role): it runs with the policy on its context,
// where the functions that read files and load models look.
type policyStmt struct {
	driver.Stmt
	c *Conn
}

// Unwrap returns the statement underneath (DuckDB's, or a guardedStmt).
func (s *policyStmt) Unwrap() driver.Stmt { return s.Stmt }

func (s *policyStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

func (s *policyStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

func (s *policyStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := ec.ExecContext(s.c.policyContext(ctx), args)
	return res, s.c.udfPermission(err)
}

func (s *policyStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := qc.QueryContext(s.c.policyContext(ctx), args)
	return r, s.c.udfPermission(err)
}

// CheckNamedValue lets the inner statement convert arguments.
func (s *policyStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// namedValues numbers positional arguments as database/sql does.
func namedValues(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// Unwrap returns DuckDB's own statement, for what it knows before running
// (statement type, columns, parameter types): the server's Describe.
func (s *guardedStmt) Unwrap() driver.Stmt { return s.Stmt }
