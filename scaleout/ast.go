package scaleout

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The planner works on DuckDB's own parse tree: json_serialize_sql turns
// a SELECT into JSON, json_deserialize_sql turns the edited JSON back
// into SQL. augur's planner therefore sees exactly what DuckDB's binder
// will (no second SQL grammar to keep in step), and edits it as maps.

// node is one object of DuckDB's serialized parse tree.
type node = map[string]any

// serialize parses one SELECT statement with DuckDB and returns its
// tree. Numbers are kept as their text (json.Number): DuckDB writes
// 64-bit values that float64 would round.
func serialize(ctx context.Context, conn *sql.Conn, query string) (node, error) {
	var js string
	if err := conn.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql("+quoteString(query)+") AS VARCHAR)").Scan(&js); err != nil {
		return nil, fmt.Errorf("reading the statement: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var doc node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading DuckDB's parse tree: %w", err)
	}
	if failed, _ := doc["error"].(bool); failed {
		msg, _ := doc["error_message"].(string)
		if msg == "" || strings.Contains(msg, "Only SELECT statements") {
			// DuckDB serializes SELECTs only: a CREATE, INSERT, ...
			return nil, unsupported("augur-beam runs one SELECT with aggregates, or one COPY (SELECT ...) TO 'folder'; other statements run in augur")
		}
		return nil, errors.New(msg)
	}
	stmts, _ := doc["statements"].([]any)
	if len(stmts) != 1 {
		return nil, fmt.Errorf("expected one SELECT statement, got %d", len(stmts))
	}
	st, _ := stmts[0].(node)
	if st == nil {
		return nil, errors.New("reading DuckDB's parse tree: no statement")
	}
	return st, nil
}

// deserialize turns a statement tree back into SQL text.
func deserialize(ctx context.Context, conn *sql.Conn, stmt node) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(node{"error": false, "statements": []any{stmt}}); err != nil {
		return "", err
	}
	var out string
	if err := conn.QueryRowContext(ctx, "SELECT json_deserialize_sql(CAST(? AS JSON))", buf.String()).Scan(&out); err != nil {
		return "", fmt.Errorf("writing the plan's SQL: %w", err)
	}
	return out, nil
}

// clone deep-copies a tree, so that edits for one purpose (a worker's
// query) do not leak into another (the final query).
func clone(v any) any {
	switch t := v.(type) {
	case node:
		c := make(node, len(t))
		for k, x := range t {
			c[k] = clone(x)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = clone(x)
		}
		return c
	default:
		return v
	}
}

// rewriteTree calls f on every object of the tree, parents first. When f
// returns a replacement, it takes the object's place and is not
// descended into.
func rewriteTree(v any, f func(n node) (any, bool)) any {
	switch t := v.(type) {
	case node:
		if r, ok := f(t); ok {
			return r
		}
		for k, x := range t {
			t[k] = rewriteTree(x, f)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = rewriteTree(x, f)
		}
		return t
	default:
		return v
	}
}

// visit calls f on every object of the tree, parents first; f returns
// false to skip an object's children.
func visit(v any, f func(n node) bool) {
	switch t := v.(type) {
	case node:
		if !f(t) {
			return
		}
		for _, x := range t {
			visit(x, f)
		}
	case []any:
		for _, x := range t {
			visit(x, f)
		}
	}
}

// canonical is an expression's identity for matching GROUP BY keys:
// its tree without source positions and without its own alias.
func canonical(n node) string {
	c := clone(n).(node)
	delete(c, "alias")
	visit(c, func(m node) bool {
		delete(m, "query_location")
		return true
	})
	b, _ := json.Marshal(c)
	return string(b)
}

func str(n node, key string) string {
	s, _ := n[key].(string)
	return s
}

func list(n node, key string) []any {
	l, _ := n[key].([]any)
	return l
}

func child(n node, key string) node {
	c, _ := n[key].(node)
	return c
}

// columnRef is a reference to one column by name.
func columnRef(name string) node {
	return node{"class": "COLUMN_REF", "type": "COLUMN_REF", "alias": "", "column_names": []any{name}, "query_location": json.Number("18446744073709551615")}
}

// isFunction reports whether n is a call of a function (not an operator).
func isFunction(n node) bool { return str(n, "class") == "FUNCTION" }

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes an SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
