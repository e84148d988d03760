package engine

import (
	"context"
	"database/sql/driver"
)

// guardedStmt is a prepared statement that calls ML_PREDICT: it executes
// on a client thread of the spin guard, as Conn.query does.
type guardedStmt struct {
	driver.Stmt
	g *spinGuard
	q string // the SQL, for clean
}

func (s *guardedStmt) Exec(args []driver.Value) (res driver.Result, err error) {
	s.g.run(func() { res, err = s.Stmt.Exec(args) }) //nolint:staticcheck // driver.Stmt's own method
	return res, clean(err, s.q)
}

func (s *guardedStmt) Query(args []driver.Value) (r driver.Rows, err error) {
	s.g.run(func() { r, err = s.Stmt.Query(args) }) //nolint:staticcheck // driver.Stmt's own method
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
	s.g.run(func() { res, err = ec.ExecContext(ctx, args) })
	return res, clean(err, s.q)
}

func (s *guardedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (r driver.Rows, err error) {
	qc, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	s.g.run(func() { r, err = qc.QueryContext(ctx, args) })
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
