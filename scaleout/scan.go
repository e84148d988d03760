package scaleout

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// scanFunctions are the table functions that read Parquet files.
var scanFunctions = map[string]bool{"read_parquet": true, "parquet_scan": true}

// findScan returns the one read_parquet(...) of the statement. A
// 'file.parquet' written as a table becomes read_parquet('file.parquet').
// Tables of the database, other table functions and joins are refused:
// workers have the models of the database but none of its tables, and a
// join of a split with anything is not the join of the whole input.
func findScan(tree node) (node, error) {
	ctes := map[string]int{}
	visit(tree, func(n node) bool {
		if m, ok := n["cte_map"].(node); ok {
			for _, e := range list(m, "map") {
				if kv, ok := e.(node); ok {
					ctes[strings.ToLower(str(kv, "key"))] = 0
				}
			}
		}
		return true
	})
	var scans []node
	var err error
	visit(tree, func(n node) bool {
		if err != nil {
			return false
		}
		switch str(n, "type") {
		case "JOIN":
			err = unsupported("joins are not split (each worker sees one split of the input); join the predictions afterwards, in augur")
		case "BASE_TABLE":
			name := str(n, "table_name")
			if _, ok := ctes[strings.ToLower(name)]; ok && str(n, "schema_name") == "" {
				ctes[strings.ToLower(name)]++
				if ctes[strings.ToLower(name)] > 1 {
					err = unsupported("the WITH query %s is read twice; augur-beam reads its input once", quoteIdent(name))
				}
				return false
			}
			if strings.Contains(strings.ToLower(name), ".parquet") && str(n, "schema_name") == "" {
				parquetTable(n)
				scans = append(scans, n)
				return false
			}
			err = unsupported("table %s is in the database, which workers do not have (they have its models); augur-beam reads its input with read_parquet('files')", quoteIdent(name))
		case "TABLE_FUNCTION":
			fn := child(n, "function")
			if name := strings.ToLower(str(fn, "function_name")); !scanFunctions[name] {
				err = unsupported("table function %s is not split; augur-beam reads its input with read_parquet('files')", name)
				return false
			}
			scans = append(scans, n)
			return false
		case "EXPRESSION_LIST":
			return false // VALUES: the same on every worker
		}
		if _, ok := n["sample"].(node); ok {
			err = unsupported("USING SAMPLE is not split")
		}
		if str(n, "class") == "WINDOW" {
			err = unsupported("window functions need every row in one place; augur-beam refuses them")
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	// The input must feed the outermost query through FROM: read inside
	// an expression's subquery (x IN (SELECT ...)), it would be one split
	// against every row of the rest.
	visit(tree, func(n node) bool {
		if err != nil || str(n, "class") != "SUBQUERY" {
			return err == nil
		}
		visit(n, func(m node) bool {
			if t := str(m, "type"); (t == "TABLE_FUNCTION" || t == "BASE_TABLE") && err == nil {
				if _, cte := ctes[strings.ToLower(str(m, "table_name"))]; t == "TABLE_FUNCTION" || cte || strings.Contains(strings.ToLower(str(m, "table_name")), ".parquet") {
					err = unsupported("the input is read inside a subquery expression; augur-beam splits an input read in FROM")
				}
			}
			return err == nil
		})
		return false
	})
	if err != nil {
		return nil, err
	}
	switch len(scans) {
	case 0:
		return nil, unsupported("the statement reads no read_parquet(...) input to split")
	case 1:
		return scans[0], nil
	default:
		return nil, unsupported("the statement reads read_parquet %d times; augur-beam splits one input", len(scans))
	}
}

// parquetTable turns a 'file.parquet' table reference into the
// read_parquet call DuckDB's replacement scan makes of it, aliased as
// DuckDB aliases it (the file name without its extension).
func parquetTable(n node) {
	name := str(n, "table_name")
	alias := str(n, "alias")
	if alias == "" {
		alias = strings.TrimSuffix(path.Base(name), path.Ext(path.Base(name)))
	}
	loc := n["query_location"]
	for k := range n {
		delete(n, k)
	}
	n["type"] = "TABLE_FUNCTION"
	n["alias"] = alias
	n["column_name_alias"] = []any{}
	n["query_location"] = loc
	n["sample"] = nil
	n["with_ordinality"] = "WITHOUT_ORDINALITY"
	n["function"] = node{
		"class": "FUNCTION", "type": "FUNCTION", "function_name": "read_parquet", "schema": "", "catalog": "", "alias": "",
		"children": []any{stringConstant(name)}, "distinct": false, "export_state": false, "filter": nil, "is_operator": false,
		"order_bys": node{"orders": []any{}, "type": "ORDER_MODIFIER"}, "query_location": loc,
	}
}

func stringConstant(s string) node {
	return node{"class": "CONSTANT", "type": "VALUE_CONSTANT", "alias": "", "query_location": json.Number("18446744073709551615"),
		"value": node{"is_null": false, "type": node{"id": "VARCHAR", "type_info": nil}, "value": s}}
}

// scanFiles returns the file names or patterns the scan reads.
func scanFiles(scan node) ([]string, error) {
	args := list(child(scan, "function"), "children")
	if len(args) == 0 {
		return nil, unsupported("read_parquet needs its files")
	}
	first, _ := args[0].(node)
	if s, ok := constantString(first); ok {
		return []string{s}, nil
	}
	if isFunction(first) && strings.ToLower(str(first, "function_name")) == "list_value" {
		var out []string
		for _, c := range list(first, "children") {
			s, ok := constantString(c.(node))
			if !ok {
				return nil, unsupported("read_parquet's files must be written as 'name' or ['name', ...]")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, unsupported("read_parquet's files must be written as 'name' or ['name', ...]")
}

func constantString(n node) (string, bool) {
	if str(n, "class") != "CONSTANT" {
		return "", false
	}
	v := child(n, "value")
	if t := child(v, "type"); str(t, "id") != "VARCHAR" {
		return "", false
	}
	s, ok := v["value"].(string)
	return s, ok
}

// scanHasRowNumber reports whether the scan adds a file_row_number column of
// its own (then splits are whole files).
func scanHasRowNumber(scan node) bool {
	for _, c := range list(child(scan, "function"), "children")[1:] {
		cn, _ := c.(node)
		if left := child(cn, "left"); left != nil {
			if names := list(left, "column_names"); len(names) == 1 && strings.EqualFold(names[0].(string), "file_row_number") {
				return true
			}
		}
	}
	return false
}

// scanCall is the scan's read_parquet call as SQL, with Placeholder for
// its files.
func scanCall(ctx context.Context, conn *sql.Conn, scan node) (string, error) {
	ref := clone(scan).(node)
	ref["alias"] = ""
	ref["column_name_alias"] = []any{}
	fn := child(ref, "function")
	args := list(fn, "children")
	args[0] = stringConstant(strings.Trim(Placeholder, "'"))
	stmt := node{"named_param_map": []any{}, "node": node{
		"type": "SELECT_NODE", "aggregate_handling": "STANDARD_HANDLING", "cte_map": node{"map": []any{}},
		"from_table": ref, "group_expressions": []any{}, "group_sets": []any{}, "having": nil, "modifiers": []any{},
		"qualify": nil, "sample": nil, "where_clause": nil,
		"select_list": []any{node{"class": "STAR", "type": "STAR", "alias": "", "columns": false, "exclude_list": []any{}, "expr": nil,
			"qualified_exclude_list": []any{}, "relation_name": "", "rename_list": []any{}, "replace_list": []any{}, "query_location": json.Number("0")}},
	}}
	text, err := deserialize(ctx, conn, stmt)
	if err != nil {
		return "", err
	}
	i := strings.Index(strings.ToUpper(text), " FROM ")
	if i < 0 || !strings.Contains(text, Placeholder) {
		return "", unsupported("could not write the scan of %s", text)
	}
	return strings.TrimSpace(text[i+len(" FROM "):]), nil
}

// replaceScan puts the split's view where the scan was, under the
// scan's alias (or the name DuckDB gives an unaliased table function).
func replaceScan(tree node, scan node) {
	alias := str(scan, "alias")
	if alias == "" {
		alias = strings.ToLower(str(child(scan, "function"), "function_name"))
	}
	colAlias := scan["column_name_alias"]
	loc := scan["query_location"]
	for k := range scan {
		delete(scan, k)
	}
	scan["type"] = "BASE_TABLE"
	scan["alias"] = alias
	scan["at_clause"] = nil
	scan["catalog_name"] = ""
	scan["schema_name"] = ""
	scan["column_name_alias"] = colAlias
	scan["query_location"] = loc
	scan["sample"] = nil
	scan["table_name"] = viewName
}

// SplitView is the SQL that defines the view a worker's query reads its
// split from, on the worker's connection.
func (p *Plan) SplitView(s Split) string {
	view := "SELECT * FROM " + p.scanOf(s.Files)
	if s.Rows != [2]int64{} {
		// A range of rows: DuckDB applies the filter inside the scan, so
		// that rows outside it are not decoded.
		call := strings.TrimSuffix(p.scanOf(s.Files), ")") + ", file_row_number = true)"
		view = "SELECT * EXCLUDE (file_row_number) FROM " + call +
			" WHERE file_row_number >= " + itoa(s.Rows[0]) + " AND file_row_number < " + itoa(s.Rows[1])
	}
	if s.Select != "" {
		view = "SELECT " + s.Select + " FROM (" + view + ")"
	}
	return "CREATE OR REPLACE TEMP VIEW " + viewName + " AS " + view
}

// scanOf is the input's read_parquet call over files.
func (p *Plan) scanOf(files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	return strings.Replace(p.Scan, Placeholder, "["+strings.Join(quoted, ", ")+"]", 1)
}

// unify makes every split read the input's columns as DuckDB reads them
// over all its files at once. A read of several files takes its types
// from the first (casting the others' values), or with union_by_name
// the union of the files' columns, so a split of other files alone
// would read other types, or lack columns: such a split casts to the
// whole input's types, and reads a column its files lack as NULL.
func (p *Plan) unify(ctx context.Context, conn *sql.Conn) error {
	if len(p.Splits) < 2 {
		return nil // one split reads the whole input
	}
	var all []string
	for _, s := range p.Splits {
		all = append(all, s.Files...)
	}
	all = slices.Compact(all) // a large file's row ranges are neighbours
	want, err := describe(ctx, conn, "SELECT * FROM "+p.scanOf(all))
	if err != nil {
		return fmt.Errorf("reading the input's columns: %w", err)
	}
	// Splits of the same files (a large file's row ranges) read the same
	// columns: each set of files is described once.
	selects := map[string]string{}
	for i, s := range p.Splits {
		key := strings.Join(s.Files, "\x00")
		sel, ok := selects[key]
		if !ok {
			got, err := describe(ctx, conn, "SELECT * FROM "+p.scanOf(s.Files))
			if err != nil {
				return fmt.Errorf("reading the columns of %s: %w", strings.Join(s.Files, ", "), err)
			}
			if !slices.Equal(got, want) {
				sel = selectAs(got, want)
			}
			selects[key] = sel
		}
		p.Splits[i].Select = sel
	}
	return nil
}

// selectAs is the select list that reads columns got as columns want.
func selectAs(got, want []Column) string {
	types := make(map[string]string, len(got))
	for _, c := range got {
		types[c.Name] = c.Type
	}
	sel := make([]string, len(want))
	for i, c := range want {
		name := quoteIdent(c.Name)
		switch t, ok := types[c.Name]; {
		case !ok:
			sel[i] = "CAST(NULL AS " + c.Type + ") AS " + name
		case t != c.Type:
			sel[i] = "CAST(" + name + " AS " + c.Type + ") AS " + name
		default:
			sel[i] = name
		}
	}
	return strings.Join(sel, ", ")
}
