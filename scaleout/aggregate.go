package scaleout

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// aggregateNames returns DuckDB's aggregate functions (lower case), so
// that any aggregate, not only those augur merges, is recognised.
func aggregateNames(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'")
	if err != nil {
		return nil, fmt.Errorf("listing DuckDB's aggregates: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{"count_star": true}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

func isAggCall(n node, aggs map[string]bool) bool {
	return isFunction(n) && aggs[strings.ToLower(str(n, "function_name"))]
}

// containsAgg reports whether an expression calls an aggregate outside
// any subquery of its own.
func containsAgg(v any, aggs map[string]bool) bool {
	found := false
	visit(v, func(n node) bool {
		if found || str(n, "class") == "SUBQUERY" || str(n, "type") == "SELECT_NODE" {
			return false
		}
		if isAggCall(n, aggs) {
			found = true
		}
		return !found
	})
	return found
}

// isAggregate reports whether a SELECT groups or aggregates.
func isAggregate(sel node, aggs map[string]bool) bool {
	if len(list(sel, "group_expressions")) > 0 || str(sel, "aggregate_handling") == "FORCE_AGGREGATES" {
		return true
	}
	return containsAgg(sel["select_list"], aggs) || containsAgg(sel["having"], aggs)
}

// checkRowWise refuses what a split cannot compute by itself below the
// outermost SELECT: aggregates, LIMIT and DISTINCT in subqueries and WITH
// queries, and set operations.
func checkRowWise(tree, top node, aggs map[string]bool) error {
	var err error
	visit(tree, func(n node) bool {
		if err != nil {
			return false
		}
		switch str(n, "type") {
		case "SET_OPERATION_NODE":
			err = unsupported("UNION, INTERSECT and EXCEPT are not split")
		case "SELECT_NODE":
			if n["qualify"] != nil {
				err = unsupported("QUALIFY needs every row in one place")
				return false
			}
			if sameNode(n, top) {
				return true
			}
			if isAggregate(n, aggs) {
				err = unsupported("GROUP BY and aggregates are split only in the outermost SELECT (in a subquery or WITH query each worker would aggregate its split alone)")
			}
			for _, m := range list(n, "modifiers") {
				switch str(m.(node), "type") {
				case "LIMIT_MODIFIER", "LIMIT_PERCENT_MODIFIER":
					err = unsupported("LIMIT inside a subquery or WITH query would limit each split, not the input")
				case "DISTINCT_MODIFIER":
					err = unsupported("DISTINCT inside a subquery or WITH query would be distinct per split, not over the input")
				}
			}
		}
		return err == nil
	})
	return err
}

// sameNode reports whether two maps are the same object.
func sameNode(a, b node) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// checkTopRowWise refuses, in a COPY of rows, what needs every row.
func checkTopRowWise(top node) error {
	for _, m := range list(top, "modifiers") {
		switch str(m.(node), "type") {
		case "ORDER_MODIFIER":
			return unsupported("ORDER BY in COPY would order each output file, not the whole output; leave it out, and order when reading the files")
		case "LIMIT_MODIFIER", "LIMIT_PERCENT_MODIFIER":
			return unsupported("LIMIT in COPY needs every row in one place")
		case "DISTINCT_MODIFIER":
			return unsupported("SELECT DISTINCT in COPY needs every row in one place; write it as GROUP BY")
		}
	}
	return nil
}

// partial is one column of a split's partial aggregates.
type partial struct {
	expr  node   // what the worker computes
	merge string // how partials of it combine: "count", "sum", or the aggregate itself (min, max, ...)
}

// final says how an aggregate of the user's query comes out of partials.
type final struct {
	parts []int  // indexes of its partial columns
	kind  string // count, sum, avg, or the aggregate (min, max, ...)
}

// mergeable are the aggregates whose partial results merge with the same
// aggregate.
var mergeable = map[string]bool{"min": true, "max": true, "bool_and": true, "bool_or": true, "bit_and": true, "bit_or": true}

func (p *Plan) planAggregate(ctx context.Context, conn *sql.Conn, tree node, aggs map[string]bool) error {
	top := child(tree, "node")
	if len(list(top, "group_sets")) > 1 {
		return unsupported("GROUPING SETS, ROLLUP and CUBE are not split")
	}
	for _, it := range list(top, "select_list") {
		if c := str(it.(node), "class"); c == "STAR" {
			return unsupported("SELECT * or COLUMNS(...) in a GROUP BY query: name the keys and aggregates")
		}
	}
	if _, err := conn.ExecContext(ctx, p.SplitView(p.Splits[0])); err != nil {
		return fmt.Errorf("reading %s: %w", p.Splits[0].Files[0], err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+viewName)
	groups, err := p.groupKeys(ctx, conn, tree, aggs)
	if err != nil {
		return err
	}
	groupIndex := map[string]int{}
	for i, g := range groups {
		groupIndex[canonical(g)] = i
	}
	var parts []partial
	finals := map[string]final{}
	var aggErr error
	addPart := func(expr node, merge string) int {
		parts = append(parts, partial{expr: expr, merge: merge})
		return len(parts) - 1
	}
	collect := func(v any) {
		visit(v, func(n node) bool {
			if aggErr != nil || str(n, "class") == "SUBQUERY" {
				return false
			}
			if !isAggCall(n, aggs) {
				return true
			}
			key := canonical(n)
			if _, ok := finals[key]; ok {
				return false
			}
			f, err := splitAggregate(n, addPart)
			if err != nil {
				aggErr = err
				return false
			}
			finals[key] = f
			return false
		})
	}
	collect(top["select_list"])
	collect(top["having"])
	collect(top["modifiers"])
	if aggErr != nil {
		return aggErr
	}
	p.Groups = len(groups)

	worker := clone(tree).(node)
	wn := child(worker, "node")
	var sel []any
	for i, g := range groups {
		c := clone(g).(node)
		c["alias"] = groupPrefix + strconv.Itoa(i)
		sel = append(sel, c)
	}
	for j, pt := range parts {
		c := clone(pt.expr).(node)
		c["alias"] = aggPrefix + strconv.Itoa(j)
		sel = append(sel, c)
	}
	wn["select_list"] = sel
	wn["group_expressions"] = cloneList(groups)
	wn["group_sets"] = groupSets(len(groups))
	wn["aggregate_handling"] = "STANDARD_HANDLING"
	wn["having"] = nil
	wn["modifiers"] = []any{}
	workerSQL, err := deserialize(ctx, conn, worker)
	if err != nil {
		return err
	}
	if p.Partials, err = describe(ctx, conn, workerSQL); err != nil {
		for _, f := range finals {
			if f.kind == "avg" && strings.Contains(err.Error(), "sum(") {
				// avg(TIMESTAMP), avg(DATE), avg(INTERVAL): DuckDB averages
				// them, but has no sum of them to merge.
				return unsupported("avg is split into a sum and a count on each split, and DuckDB sums numbers only, not the date, time or interval this avg takes: average their epoch instead (to_timestamp(avg(epoch(x))), or avg(epoch_us(x)) exactly)")
			}
		}
		return fmt.Errorf("planning the partial aggregates: %w", err)
	}
	for _, c := range p.Partials {
		if unnamedStruct(c.Type) {
			return unsupported("a row without field names ((a, b) or row(a, b), of type %s) is not split, since its type cannot be written back in SQL; name its fields: {'a': a, 'b': b}", c.Type)
		}
	}
	shard := "0"
	if len(groups) > 0 && p.Shards > 1 {
		var keys []string
		for i := range groups {
			keys = append(keys, quoteIdent(groupPrefix+strconv.Itoa(i)))
		}
		shard = fmt.Sprintf("CAST(hash(%s) %% %d AS INTEGER)", strings.Join(keys, ", "), p.Shards)
	}
	p.Query = "SELECT " + p.writeColumns() + ", " + shard + " AS " + shardColumn + " FROM (" + workerSQL + ")"
	p.Merge = p.mergeSQL(parts)
	p.Empty = p.emptySQL()
	return p.finalSQL(ctx, conn, tree, groupIndex, finals)
}

// splitAggregate decides the partial columns of one aggregate call.
func splitAggregate(n node, add func(node, string) int) (final, error) {
	name := strings.ToLower(str(n, "function_name"))
	distinct, _ := n["distinct"].(bool)
	switch {
	case name == "count" && distinct:
		// Counted exactly: each split keeps its distinct values per group
		// (a list), merged as the union of the lists.
		if len(list(n, "children")) != 1 {
			return final{}, unsupported("count(DISTINCT ...) of more than one argument is not split")
		}
		l := clone(n).(node)
		l["function_name"] = "list"
		return final{parts: []int{add(l, "distinct")}, kind: "distinct"}, nil
	case name == "count_star" || name == "count":
		return final{parts: []int{add(n, "count")}, kind: "count"}, nil
	case name == "sum":
		if distinct {
			return final{}, unsupported("sum(DISTINCT ...) is not split")
		}
		return final{parts: []int{add(n, "sum")}, kind: "sum"}, nil
	case name == "avg" || name == "mean":
		if distinct {
			return final{}, unsupported("%s(DISTINCT ...) is not split", name)
		}
		s := clone(n).(node)
		s["function_name"] = "sum"
		c := clone(n).(node)
		c["function_name"] = "count"
		return final{parts: []int{add(s, "sum"), add(c, "count")}, kind: "avg"}, nil
	case mergeable[name]:
		return final{parts: []int{add(n, name)}, kind: name}, nil
	}
	return final{}, unsupported("aggregate %s is not split: augur-beam merges count, count(DISTINCT ...), sum, avg, min, max, bool_and, bool_or, bit_and and bit_or; quantiles, median, mode, string_agg, list and other DISTINCT aggregates need every value of a group in one place (run the query in augur, or COPY the predictions with augur-beam and aggregate those in augur)", name)
}

func cloneList(ns []node) []any {
	out := make([]any, len(ns))
	for i, n := range ns {
		out[i] = clone(n)
	}
	return out
}

func groupSets(n int) []any {
	if n == 0 {
		return []any{}
	}
	set := make([]any, n)
	for i := range set {
		set[i] = json.Number(strconv.Itoa(i))
	}
	return []any{set}
}

// groupKeys returns the GROUP BY expressions, with positions (GROUP BY 2),
// select-list aliases and GROUP BY ALL resolved to the expressions they
// stand for, as DuckDB's binder resolves them.
func (p *Plan) groupKeys(ctx context.Context, conn *sql.Conn, tree node, aggs map[string]bool) ([]node, error) {
	top := child(tree, "node")
	items := list(top, "select_list")
	var groups []node
	if str(top, "aggregate_handling") == "FORCE_AGGREGATES" {
		for _, it := range items {
			if !containsAgg(it, aggs) {
				groups = append(groups, it.(node))
			}
		}
		return groups, nil
	}
	var sources map[string]bool
	for _, g := range list(top, "group_expressions") {
		gn := g.(node)
		if str(gn, "class") == "CONSTANT" {
			if v, ok := child(gn, "value")["value"].(json.Number); ok {
				i, err := v.Int64()
				if err != nil || i < 1 || int(i) > len(items) {
					return nil, fmt.Errorf("GROUP BY %s: there is no such item in the SELECT list", v)
				}
				groups = append(groups, items[i-1].(node))
				continue
			}
		}
		if str(gn, "class") == "COLUMN_REF" && len(list(gn, "column_names")) == 1 {
			name := strings.ToLower(list(gn, "column_names")[0].(string))
			if sources == nil {
				var err error
				if sources, err = p.sourceColumns(ctx, conn, tree); err != nil {
					return nil, err
				}
			}
			if !sources[name] {
				if it := aliased(items, name); it != nil {
					groups = append(groups, it)
					continue
				}
			}
		}
		groups = append(groups, gn)
	}
	return groups, nil
}

func aliased(items []any, name string) node {
	for _, it := range items {
		if strings.EqualFold(str(it.(node), "alias"), name) {
			return it.(node)
		}
	}
	return nil
}

// sourceColumns names the columns the outermost SELECT reads (lower case).
func (p *Plan) sourceColumns(ctx context.Context, conn *sql.Conn, tree node) (map[string]bool, error) {
	t := clone(tree).(node)
	n := child(t, "node")
	n["select_list"] = []any{node{"class": "STAR", "type": "STAR", "alias": "", "columns": false, "exclude_list": []any{}, "expr": nil,
		"qualified_exclude_list": []any{}, "relation_name": "", "rename_list": []any{}, "replace_list": []any{}, "query_location": json.Number("0")}}
	n["group_expressions"], n["group_sets"], n["having"], n["modifiers"] = []any{}, []any{}, nil, []any{}
	n["aggregate_handling"] = "STANDARD_HANDLING"
	q, err := deserialize(ctx, conn, t)
	if err != nil {
		return nil, err
	}
	cols, err := describe(ctx, conn, q)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, c := range cols {
		out[strings.ToLower(c.Name)] = true
	}
	return out, nil
}

// describe returns the columns of a query's result.
func describe(ctx context.Context, conn *sql.Conn, q string) ([]Column, error) {
	rows, err := conn.QueryContext(ctx, "DESCRIBE "+q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n, _ := rows.Columns()
	var out []Column
	for rows.Next() {
		vals := make([]any, len(n))
		var name, typ sql.NullString
		vals[0], vals[1] = &name, &typ
		for i := 2; i < len(vals); i++ {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		out = append(out, Column{Name: name.String, Type: typ.String})
	}
	return out, rows.Err()
}

// Parquet keeps every DuckDB type a partial has but the 128-bit integers
// (written as DOUBLE): those travel as text, exactly, also inside lists.
func written(t string) string {
	if strings.Contains(strings.ToUpper(t), "HUGEINT") {
		return "VARCHAR"
	}
	return t
}

// writeColumns are the partial columns as they are written to Parquet.
func (p *Plan) writeColumns() string {
	var cols []string
	for _, c := range p.Partials {
		q := quoteIdent(c.Name)
		if w := written(c.Type); w != c.Type {
			cols = append(cols, "CAST("+q+" AS "+w+") AS "+q)
		} else {
			cols = append(cols, q)
		}
	}
	return strings.Join(cols, ", ")
}

// readColumns are the partial columns read back with their types.
func (p *Plan) readColumns() string {
	var cols []string
	for _, c := range p.Partials {
		q := quoteIdent(c.Name)
		cols = append(cols, "CAST("+q+" AS "+c.Type+") AS "+q)
	}
	return strings.Join(cols, ", ")
}

// mergeSQL combines partial aggregates of one shard into one row a group,
// in the same columns and types.
func (p *Plan) mergeSQL(parts []partial) string {
	var sel, keys []string
	for i := 0; i < p.Groups; i++ {
		k := quoteIdent(p.Partials[i].Name)
		sel, keys = append(sel, k), append(keys, k)
	}
	for j, pt := range parts {
		c := p.Partials[p.Groups+j]
		q := quoteIdent(c.Name)
		switch pt.merge {
		case "distinct":
			sel = append(sel, "list_distinct(flatten(list("+q+"))) AS "+q)
		case "count", "sum":
			sel = append(sel, "CAST(sum("+q+") AS "+c.Type+") AS "+q)
		default:
			sel = append(sel, pt.merge+"("+q+") AS "+q)
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM (SELECT " + p.readColumns() + " FROM read_parquet(" + Placeholder + "))"
	if len(keys) > 0 {
		q += " GROUP BY " + strings.Join(keys, ", ")
	}
	return "SELECT " + p.writeColumns() + " FROM (" + q + ")"
}

// emptySQL is the merged partials of an input without rows.
func (p *Plan) emptySQL() string {
	var cols []string
	for _, c := range p.Partials {
		cols = append(cols, "CAST(NULL AS "+written(c.Type)+") AS "+quoteIdent(c.Name))
	}
	return "SELECT " + strings.Join(cols, ", ") + " LIMIT 0"
}

// MergedView is the name the final query reads the merged partials from.
const MergedView = "__augur_merged"

// finalSQL is the user's query over the merged partials: each aggregate
// replaced by its merge, each group key by its column, and each result
// column cast to the type and name the embedded engine gives it.
func (p *Plan) finalSQL(ctx context.Context, conn *sql.Conn, tree node, groupIndex map[string]int, finals map[string]final) error {
	// The user's query as DuckDB reads it, over split 0's view: what the
	// final query must match in names and types.
	stmt, err := deserialize(ctx, conn, tree)
	if err != nil {
		return err
	}
	want, err := describe(ctx, conn, stmt)
	if err != nil {
		return err
	}
	// Expressions and types are parsed by DuckDB in one statement, then
	// grafted into the tree.
	var texts []string
	keys := make([]string, 0, len(finals))
	for k, f := range finals {
		keys = append(keys, k)
		texts = append(texts, p.finalExpr(f))
	}
	for _, c := range want {
		texts = append(texts, "CAST(NULL AS "+c.Type+")")
	}
	from := "(SELECT " + p.readColumns() + " FROM " + MergedView + ") AS __augur_partials"
	parsed, err := serialize(ctx, conn, "SELECT "+strings.Join(texts, ", ")+" FROM "+from)
	if err != nil {
		return err
	}
	pn := child(parsed, "node")
	items := list(pn, "select_list")
	replace := map[string]node{}
	for i, k := range keys {
		replace[k] = items[i].(node)
	}
	t := clone(tree).(node)
	n := child(t, "node")
	swap := func(v any) any {
		return rewriteTree(v, func(m node) (any, bool) {
			if str(m, "class") == "SUBQUERY" {
				return m, true
			}
			key := canonical(m)
			if r, ok := replace[key]; ok {
				return clone(r), true
			}
			if i, ok := groupIndex[key]; ok {
				return columnRef(groupPrefix + strconv.Itoa(i)), true
			}
			return nil, false
		})
	}
	sel := list(n, "select_list")
	if len(sel) != len(want) {
		return fmt.Errorf("planning the final query: %d columns, DuckDB describes %d", len(sel), len(want))
	}
	for i, it := range sel {
		e := swap(clone(it)).(node)
		e["alias"] = ""
		cast := items[len(keys)+i].(node)
		sel[i] = node{"class": "CAST", "type": "OPERATOR_CAST", "alias": want[i].Name, "child": e, "cast_type": cast["cast_type"],
			"try_cast": false, "query_location": json.Number("18446744073709551615")}
	}
	n["having"] = swap(n["having"])
	n["modifiers"] = swap(n["modifiers"])
	var keysRefs []any
	for i := 0; i < p.Groups; i++ {
		keysRefs = append(keysRefs, columnRef(groupPrefix+strconv.Itoa(i)))
	}
	if keysRefs == nil {
		keysRefs = []any{}
	}
	n["group_expressions"] = keysRefs
	n["group_sets"] = groupSets(p.Groups)
	n["aggregate_handling"] = "STANDARD_HANDLING"
	n["from_table"] = pn["from_table"]
	n["where_clause"] = nil
	n["cte_map"] = node{"map": []any{}}
	n["qualify"], n["sample"] = nil, nil
	p.Final, err = deserialize(ctx, conn, t)
	return err
}

// finalExpr is how one aggregate comes out of the merged partials.
func (p *Plan) finalExpr(f final) string {
	col := func(i int) string { return quoteIdent(p.Partials[p.Groups+i].Name) }
	switch f.kind {
	case "count":
		return "CAST(coalesce(sum(" + col(f.parts[0]) + "), 0) AS BIGINT)"
	case "sum":
		return "CAST(sum(" + col(f.parts[0]) + ") AS " + p.Partials[p.Groups+f.parts[0]].Type + ")"
	case "avg":
		// As DuckDB's avg divides: a DECIMAL's sum unscaled (an integer)
		// by the count times 10^scale, not the sum rounded to DOUBLE.
		sum, count := "sum("+col(f.parts[0])+")", "CAST(nullif(sum("+col(f.parts[1])+"), 0) AS DOUBLE)"
		if scale := decimalScale(p.Partials[p.Groups+f.parts[0]].Type); scale > 0 {
			pow := "1" + strings.Repeat("0", scale)
			return "CAST(CAST(" + sum + " * " + pow + " AS HUGEINT) AS DOUBLE) / (" + count + " * " + pow + ")"
		}
		return "CAST(" + sum + " AS DOUBLE) / " + count
	case "distinct":
		// list_distinct drops NULL, as count(DISTINCT ...) ignores it.
		return "CAST(coalesce(length(list_distinct(flatten(list(" + col(f.parts[0]) + ")))), 0) AS BIGINT)"
	default:
		return f.kind + "(" + col(f.parts[0]) + ")"
	}
}

// decimalScale is the scale of a DECIMAL(p,s) type, 0 for other types.
func decimalScale(t string) int {
	var p, sc int
	if _, err := fmt.Sscanf(strings.ToUpper(t), "DECIMAL(%d,%d)", &p, &sc); err != nil {
		return 0
	}
	return sc
}

// unnamedStruct reports whether a type as DESCRIBE writes it holds a
// STRUCT without field names, STRUCT(INTEGER, VARCHAR), which DuckDB
// prints but does not parse back: after "STRUCT(" comes a type followed
// by a comma or a parenthesis, where a named field has a name, a space
// and its type.
func unnamedStruct(t string) bool {
	for {
		i := strings.Index(t, "STRUCT(")
		if i < 0 {
			return false
		}
		t = t[i+len("STRUCT("):]
		j := strings.IndexAny(t, " ,()[")
		if j >= 0 && t[j] != ' ' {
			return true
		}
	}
}
