package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/rewrite"
	"github.com/augurdb/augur/types"
)

// What a distributed runner of augur's SQL (package scaleout, augur-beam)
// needs of the engine: the SQL a statement becomes, and the models it
// names loaded before the first row arrives.

// Rewrite returns the one statement of q as DuckDB runs it on this
// connection (ML_PREDICT and the table forms rewritten into calls of the
// engine's SQL functions) and the models it names, in order of first
// use. The text runs on any engine whose catalog has those models (the
// function names depend only on the models' result types), once Preload
// has readied them there. Model statements (CREATE MODEL, ...) are
// refused: they change the catalog, which a distributed run only reads.
func (c *Conn) Rewrite(ctx context.Context, q string) (string, []string, error) {
	stmts, err := parser.Split(q)
	if err != nil {
		return "", nil, err
	}
	if len(stmts) != 1 {
		return "", nil, fmt.Errorf("expected one statement, got %d", len(stmts))
	}
	st, err := parser.Parse(stmts[0].Text, stmts[0].Pos)
	if err != nil {
		return "", nil, err
	}
	if st != nil {
		return "", nil, errors.New("model statements (CREATE, DROP, SHOW and DESCRIBE MODEL) are not run this way")
	}
	var names []string
	seen := map[string]bool{}
	note := func(name string) {
		if k := catalog.Key(name); !seen[k] {
			seen[k] = true
			names = append(names, name)
		}
	}
	env := c.rewriteEnv(ctx)
	resolve, describe := env.Resolve, env.Model
	env.Resolve = func(name string, pos parser.Pos) (string, error) {
		note(name)
		return resolve(name, pos)
	}
	env.Model = func(name string, pos parser.Pos) (*rewrite.Model, error) {
		note(name)
		return describe(name, pos)
	}
	out, _, err := rewrite.RewriteEnv(stmts[0].Text, stmts[0].Pos, env)
	if err != nil {
		return "", nil, err
	}
	return out, names, nil
}

// Preload loads the named models now, as a worker's setup does before
// its first row, and registers the SQL functions their rewritten calls
// use. A model whose artifact changed since CREATE MODEL fails here.
func (e *Engine) Preload(ctx context.Context, names ...string) error {
	for _, name := range names {
		ent, ok := e.cat.Get(name)
		if !ok {
			return fmt.Errorf("model %q does not exist in this database's catalog", name)
		}
		if _, err := e.predictFuncOf(ctx, ent); err != nil {
			return err
		}
		if ent.Returns.Kind == types.Float32 { // ML_EVALUATE's (evaluate.go)
			for _, missing := range []bool{false, true} {
				if _, err := e.preciseFunc(ctx, missing); err != nil {
					return err
				}
			}
		}
		h, err := e.acquire(ctx, name, ent.Returns.SQL())
		if err != nil {
			return err
		}
		isClassifier := classifierOf(h.m) != nil
		e.release(h)
		if isClassifier {
			if err := e.registerProba(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
