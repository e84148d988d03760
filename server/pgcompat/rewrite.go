package pgcompat

import (
	"sort"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/internal/version"
	"github.com/augurdb/augur/parser"
)

// edit replaces sql[from:to] by text.
type edit struct {
	from, to int
	text     string
}

// rewriter holds one statement's tokens and the edits made to it.
type rewriter struct {
	sql   string
	toks  []parser.Token
	s     Session
	edits []edit
}

// rewrite applies the expression-level translations to a statement.
func rewrite(sql string, toks []parser.Token, s Session) (string, *Result, error) {
	r := &rewriter{sql: sql, toks: toks, s: s}
	for i := 0; i < len(toks); {
		next, err := r.at(i)
		if err != nil {
			return "", nil, err
		}
		if next <= i {
			next = i + 1
		}
		i = next
	}
	if len(r.edits) == 0 {
		return sql, nil, nil
	}
	sort.SliceStable(r.edits, func(a, b int) bool { return r.edits[a].from < r.edits[b].from })
	var b strings.Builder
	prev := 0
	for _, e := range r.edits {
		b.WriteString(sql[prev:e.from])
		b.WriteString(e.text)
		prev = e.to
	}
	b.WriteString(sql[prev:])
	if strings.TrimSpace(b.String()) == "" {
		return sql, nil, nil // nothing left (a bare ::regclass): DuckDB's error says what is wrong
	}
	return b.String(), nil, nil
}

func (r *rewriter) tok(i int) parser.Token {
	if i < 0 || i >= len(r.toks) {
		return parser.Token{Kind: parser.EOF}
	}
	return r.toks[i]
}

func (r *rewriter) start(i int) int { return r.toks[i].Pos.Offset }
func (r *rewriter) end(i int) int   { return r.toks[i].End }

// replace replaces tokens i..j (inclusive) by text.
func (r *rewriter) replace(i, j int, text string) {
	r.edits = append(r.edits, edit{r.start(i), r.end(j), text})
}

// at translates what starts at token i and returns the index of the
// first token not yet looked at.
func (r *rewriter) at(i int) (int, error) {
	t := r.toks[i]
	switch {
	case isKw(t, "operator") && isPunct(r.tok(i+1), "("):
		return r.operator(i)
	case isKw(t, "collate"):
		return r.collate(i), nil
	case t.Kind == parser.Punct && isRegexOp(t.Text):
		return r.regex(i, i, t.Text)
	case isPunct(t, "::"):
		return r.cast(i)
	case t.Kind == parser.PlainIdent:
		return r.word(i)
	}
	return i + 1, nil
}

// qualified reports whether token i is pg_catalog-qualified: pg_catalog
// . name; from is then the index of pg_catalog. A name after any other
// dot is not ours.
func (r *rewriter) qualified(i int) (from int, ok bool) {
	if !isPunct(r.tok(i-1), ".") {
		return i, true
	}
	if isKw(r.tok(i-2), "pg_catalog") && !isPunct(r.tok(i-3), ".") {
		return i - 2, true
	}
	return i, false
}

// operator: OPERATOR(pg_catalog.op) is op.
func (r *rewriter) operator(i int) (int, error) {
	j := i + 2
	if isKw(r.tok(j), "pg_catalog") && isPunct(r.tok(j+1), ".") {
		j += 2
	}
	op := r.tok(j)
	if op.Kind != parser.Punct || !isPunct(r.tok(j+1), ")") {
		return i + 1, nil
	}
	if isRegexOp(op.Text) {
		return r.regex(i, j+1, op.Text)
	}
	r.replace(i, j+1, op.Text)
	return j + 2, nil
}

// collate drops PostgreSQL's default collations (COLLATE
// pg_catalog.default, "C", "POSIX", "default"): DuckDB compares bytes by
// default, which is what they mean. Other collations are DuckDB's.
func (r *rewriter) collate(i int) int {
	j := i + 1
	if isKw(r.tok(j), "pg_catalog") && isPunct(r.tok(j+1), ".") {
		j += 2
	} else if n := r.tok(j); !(n.Kind == parser.QuotedIdent && (identText(n) == "C" || identText(n) == "POSIX" || identText(n) == "default")) {
		return i + 1
	}
	if n := r.tok(j); n.Kind != parser.PlainIdent && n.Kind != parser.QuotedIdent {
		return i + 1
	}
	r.replace(i, j, "")
	return j + 1
}

func isRegexOp(op string) bool { return op == "~" || op == "!~" || op == "~*" || op == "!~*" }

// regex translates PostgreSQL's regular-expression match operators,
// written by tokens i..j. PostgreSQL's ~ finds the pattern anywhere in the
// text; DuckDB's ~ must match all of it. The pattern is wrapped so that a
// full match means what PostgreSQL's search means.
func (r *rewriter) regex(i, j int, op string) (int, error) {
	neg := strings.HasPrefix(op, "!")
	flags := "s"
	if strings.HasSuffix(op, "*") {
		flags = "is"
	}
	duckOp := " ~ "
	if neg {
		duckOp = " !~ "
	}
	k := j + 1
	pat := r.tok(k)
	switch pat.Kind {
	case parser.String:
		q := strings.IndexByte(pat.Text, '\'')
		body := pat.Text[q+1 : len(pat.Text)-1]
		r.replace(i, k, duckOp+pat.Text[:q+1]+"(?s:.*)(?"+flags+":"+body+")(?s:.*)'")
		return k + 1, nil
	case parser.Param, parser.PlainIdent, parser.QuotedIdent:
		end := k
		for isPunct(r.tok(end+1), ".") && (r.tok(end+2).Kind == parser.PlainIdent || r.tok(end+2).Kind == parser.QuotedIdent) {
			end += 2
		}
		operand := r.sql[r.start(k):r.end(end)]
		r.replace(i, end, duckOp+"('(?s:.*)(?"+flags+":' || "+operand+" || ')(?s:.*)')")
		return end + 1, nil
	}
	return 0, errorf(codeNotSupported, "augur translates the regular-expression operator %s only before a string, a parameter or a column name; put the pattern in one of those", op)
}

// cast handles ::regclass and the other reg* types, and PostgreSQL type
// names DuckDB lacks (oid, name, "char", pg_catalog.text).
func (r *rewriter) cast(i int) (int, error) {
	j := i + 1
	if isKw(r.tok(j), "pg_catalog") && isPunct(r.tok(j+1), ".") {
		j += 2
	}
	ty := r.tok(j)
	name := strings.ToLower(identText(ty))
	if ty.Kind != parser.PlainIdent && ty.Kind != parser.QuotedIdent {
		return i + 1, nil
	}
	switch name {
	case "regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole":
		return r.regCast(i, j, name)
	case "oid", "regoper", "xid":
		r.replace(i, j, "::BIGINT")
	case "name", "char", "text", "bpchar":
		if ty.Kind == parser.PlainIdent && name == "char" {
			return j + 1, nil // char(n) is DuckDB's too
		}
		r.replace(i, j, "::VARCHAR")
	default:
		if j != i+1 {
			r.replace(i, j, "::"+ty.Text) // int4, bool, ...: DuckDB's names too
		}
	}
	return j + 1, nil
}

// regCast: 'name'::regclass is the relation's OID; other operands are
// OIDs already, so the cast goes, except that oid::regclass::text is the
// relation's name.
func (r *rewriter) regCast(i, j int, ty string) (int, error) {
	prev := r.tok(i - 1)
	if prev.Kind == parser.String {
		v, ok := stringValue(prev)
		if !ok {
			return 0, errorf(codeNotSupported, "augur translates ::%s only of a plain '...' string", ty)
		}
		var sub string
		switch ty {
		case "regclass":
			sub = relOIDSQL(v)
		case "regnamespace":
			sub = "(SELECT oid FROM " + pgNamespaceSQL + " WHERE nspname = " + quoteLit(unquoteName(v)) + ")"
		case "regtype":
			sub = "NULL::BIGINT"
			for _, t := range pgTypes {
				if n := unquoteName(strings.TrimPrefix(v, "pg_catalog.")); n == t.name || n == t.format {
					sub = strconv.Itoa(int(t.oid)) + "::BIGINT"
				}
			}
		default: // regproc: compared with pg_type's typinput, a name
			sub = quoteLit(strings.TrimPrefix(v, "pg_catalog."))
		}
		r.edits = append(r.edits, edit{r.start(i - 1), r.end(j), sub})
		return j + 1, nil
	}
	// X::regclass::text with X a (dotted) column.
	k := j + 1
	if isPunct(r.tok(k), "::") && (isKw(r.tok(k+1), "text") || isKw(r.tok(k+1), "varchar") || isKw(r.tok(k+1), "name") ||
		isKw(r.tok(k+1), "pg_catalog") && isPunct(r.tok(k+2), ".") && isKw(r.tok(k+3), "text")) {
		last := k + 1
		if isKw(r.tok(last), "pg_catalog") {
			last += 2
		}
		if from, ok := r.columnBefore(i); ok {
			col := r.sql[r.start(from):r.end(i-1)]
			var sub string
			switch ty {
			case "regclass":
				sub = "(SELECT relname FROM pg_catalog.pg_class WHERE oid = " + col + ")"
			case "regtype":
				sub = formatTypeSQL(col, "NULL")
			case "regnamespace":
				sub = "(SELECT nspname FROM " + pgNamespaceSQL + " WHERE oid = " + col + ")"
			default:
				sub = "(" + col + ")::VARCHAR"
			}
			r.edits = dropEditsFrom(r.edits, r.start(from))
			r.edits = append(r.edits, edit{r.start(from), r.end(last), sub})
			return last + 1, nil
		}
	}
	r.replace(i, j, "")
	return j + 1, nil
}

// columnBefore finds a (dotted) column name ending at token i-1.
func (r *rewriter) columnBefore(i int) (int, bool) {
	k := i - 1
	if t := r.tok(k); t.Kind != parser.PlainIdent && t.Kind != parser.QuotedIdent {
		return 0, false
	}
	for isPunct(r.tok(k-1), ".") && (r.tok(k-2).Kind == parser.PlainIdent || r.tok(k-2).Kind == parser.QuotedIdent) {
		k -= 2
	}
	return k, true
}

func dropEditsFrom(edits []edit, from int) []edit {
	for len(edits) > 0 && edits[len(edits)-1].from >= from {
		edits = edits[:len(edits)-1]
	}
	return edits
}

// unquoteName is a name as PostgreSQL reads it: "Quoted" kept, plain
// lowered.
func unquoteName(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// relOIDSQL is the OID of the relation named by v ('t', 'main.t',
// '"T"'), NULL when there is none.
func relOIDSQL(v string) string {
	parts := splitName(v)
	q := "(SELECT c.oid FROM pg_catalog.pg_class c"
	if len(parts) >= 2 {
		q += " JOIN " + pgNamespaceSQL + " n ON n.oid = c.relnamespace WHERE n.nspname = " + quoteLit(mapSchema(parts[len(parts)-2])) + " AND"
	} else {
		q += " WHERE"
	}
	return q + " c.relname = " + quoteLit(parts[len(parts)-1]) + " LIMIT 1)"
}

// mapSchema maps PostgreSQL's default schema to DuckDB's.
func mapSchema(s string) string {
	if s == "public" {
		return "main"
	}
	return s
}

// splitName splits a dotted, possibly quoted name.
func splitName(v string) []string {
	var parts []string
	cur, quoted := strings.Builder{}, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' && quoted && i+1 < len(v) && v[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case c == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		case !quoted:
			cur.WriteString(strings.ToLower(string(c)))
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// duckPgFunctions are the pg_catalog functions DuckDB itself has; other
// pg_catalog-qualified calls lose the qualifier (DuckDB keeps
// array_to_string, lower, ... in its main schema).
var duckPgFunctions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`col_description current_database current_query current_schema current_schemas
		format_pg_type format_type has_any_column_privilege has_column_privilege has_database_privilege
		has_foreign_data_wrapper_privilege has_function_privilege has_language_privilege has_schema_privilege
		has_sequence_privilege has_server_privilege has_table_privilege has_tablespace_privilege inet_client_addr
		inet_client_port inet_server_addr inet_server_port map_to_pg_oid obj_description pg_collation_is_visible
		pg_conf_load_time pg_conversion_is_visible pg_function_is_visible pg_get_constraintdef pg_get_expr
		pg_get_viewdef pg_has_role pg_is_other_temp_schema pg_my_temp_schema pg_opclass_is_visible
		pg_operator_is_visible pg_opfamily_is_visible pg_postmaster_start_time pg_size_pretty pg_sleep
		pg_table_is_visible pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible
		pg_ts_template_is_visible pg_type_is_visible pg_typeof shobj_description`) {
		duckPgFunctions[f] = true
	}
}

func (r *rewriter) user() string {
	v, _ := ParamValue(r.s, "session_authorization")
	return v
}

// word handles function calls, the current_user keywords and the
// catalog tables that are substituted.
func (r *rewriter) word(i int) (int, error) {
	from, ok := r.qualified(i)
	if !ok {
		return i + 1, nil
	}
	name := strings.ToLower(r.toks[i].Text)
	if isPunct(r.tok(i+1), "(") {
		return r.call(from, i, name)
	}
	if isPunct(r.tok(i+1), ".") {
		return i + 1, nil // a qualifier: pg_type.oid
	}
	switch name {
	case "current_user", "session_user":
		if from == i {
			r.replace(i, i, quoteLit(r.user())+r.alias(i, i, name))
		}
		return i + 1, nil
	}
	var sub string
	switch name {
	case "pg_type":
		sub = pgTypeSQL()
	case "pg_attribute":
		sub = pgAttributeSQL()
	case "pg_namespace":
		sub = pgNamespaceSQL
	case "pg_database":
		sub = pgDatabaseSQL
	case "pg_class":
		sub = pgClassSQL
	case "pg_roles", "pg_user", "pg_authid":
		sub = pgRolesSQL(r.user())
	default:
		cols, ok := emptyCatalogs[name]
		if !ok {
			return i + 1, nil
		}
		sub = emptyCatalogSQL(cols)
	}
	if !r.tableContext(from) {
		return i + 1, nil
	}
	if !r.hasAlias(i + 1) {
		sub += " AS " + name
	}
	r.replace(from, i, sub)
	return i + 1, nil
}

// tableContext reports whether the name at token i is where a table is
// named: after FROM, JOIN or a comma in a FROM list.
func (r *rewriter) tableContext(i int) bool {
	p := r.tok(i - 1)
	if isKw(p, "from") || isKw(p, "join") {
		return true
	}
	if !isPunct(p, ",") {
		return false
	}
	depth := 0
	for k := i - 2; k >= 0; k-- {
		t := r.toks[k]
		switch {
		case isPunct(t, ")"):
			depth++
		case isPunct(t, "("):
			if depth == 0 {
				return false
			}
			depth--
		case depth == 0 && (isKw(t, "from")):
			return true
		case depth == 0 && (isKw(t, "select") || isKw(t, "where") || isKw(t, "on") || isKw(t, "by")):
			return false
		}
	}
	return false
}

// notAliases are the words that may follow a table name and are not its
// alias.
var notAliases = map[string]bool{
	"where": true, "join": true, "left": true, "right": true, "inner": true, "full": true, "cross": true,
	"natural": true, "on": true, "using": true, "order": true, "group": true, "limit": true, "offset": true,
	"union": true, "except": true, "intersect": true, "having": true, "window": true, "for": true, "fetch": true,
	"qualify": true, "positional": true, "asof": true, "anti": true, "semi": true, "lateral": true,
}

func (r *rewriter) hasAlias(i int) bool {
	t := r.tok(i)
	if isKw(t, "as") || t.Kind == parser.QuotedIdent {
		return true
	}
	return t.Kind == parser.PlainIdent && !notAliases[strings.ToLower(t.Text)]
}

// closeParen finds the ')' matching the '(' at token i, and the start
// indexes of the top-level arguments.
func (r *rewriter) closeParen(i int) (end int, args [][2]int, ok bool) {
	depth, argStart := 0, i+1
	for k := i; k < len(r.toks); k++ {
		t := r.toks[k]
		switch {
		case isPunct(t, "(") || isPunct(t, "["):
			depth++
		case isPunct(t, ")") || isPunct(t, "]"):
			depth--
			if depth == 0 {
				if k > argStart {
					args = append(args, [2]int{argStart, k - 1})
				}
				return k, args, true
			}
		case depth == 1 && isPunct(t, ","):
			args = append(args, [2]int{argStart, k - 1})
			argStart = k + 1
		}
	}
	return 0, nil, false
}

func (r *rewriter) text(a [2]int) string { return r.sql[r.start(a[0]):r.end(a[1])] }

// literalArg is the value of an argument that is one plain string.
func (r *rewriter) literalArg(a [2]int) (string, bool) {
	if a[0] != a[1] || r.toks[a[0]].Kind != parser.String {
		return "", false
	}
	return stringValue(r.toks[a[0]])
}

// call rewrites a function call name(...) at tokens from..i.
func (r *rewriter) call(from, i int, name string) (int, error) {
	end, args, ok := r.closeParen(i + 1)
	if !ok {
		return i + 1, nil
	}
	var sub string
	switch name {
	case "version":
		if len(args) != 0 {
			return i + 1, nil
		}
		sub = "('PostgreSQL " + PGVersion + " (augur " + strings.ReplaceAll(version.String(), "'", "''") + ") on DuckDB ' || (SELECT library_version FROM pragma_version()))"
	case "pg_backend_pid":
		pid := r.s.Param(BackendPIDParam)
		if _, err := strconv.ParseInt(pid, 10, 32); err != nil {
			pid = "0"
		}
		sub = pid
	case "pg_get_userbyid":
		sub = quoteLit(r.user())
	case "pg_encoding_to_char":
		sub = "'UTF8'"
	case "pg_is_in_recovery", "pg_relation_is_publishable":
		sub = "false"
	case "format_type":
		if len(args) != 2 {
			return i + 1, nil
		}
		sub = formatTypeSQL(r.text(args[0]), r.text(args[1]))
	case "pg_get_statisticsobjdef_columns", "pg_get_triggerdef", "pg_get_ruledef", "pg_get_partkeydef", "pg_get_partition_constraintdef":
		// Only ever asked of the empty catalogs (emptyCatalogs).
		sub = "NULL::VARCHAR"
	case "pg_get_indexdef":
		if len(args) == 0 {
			return i + 2, nil
		}
		return r.reshape(from, i, end, args, 1, "(SELECT sql FROM duckdb_indexes() WHERE index_oid = (", "))"), nil
	case "pg_table_is_visible":
		if len(args) != 1 {
			return i + 2, nil
		}
		return r.reshape(from, i, end, args, 1, "((", ") IN "+visibleRelsSQL+")"), nil
	case "array_upper":
		if len(args) != 2 || r.text(args[1]) != "1" {
			return i + 2, nil
		}
		// PostgreSQL's arrays start at 1, as DuckDB's lists.
		return r.reshape(from, i, end, args, 1, "len(", ")"), nil
	case "pg_get_expr":
		if len(args) != 3 {
			return i + 2, nil
		}
		// DuckDB's macro lacks the pretty-print flag.
		return r.reshape(from, i, end, args, 2, "pg_catalog.pg_get_expr(", ")"), nil
	case "current_setting":
		return r.currentSetting(from, i, end, args)
	case "set_config":
		return r.setConfig(from, i, end, args)
	default:
		if name == "generate_series" || name == "unnest" {
			r.columnAlias(end)
		}
		if from != i && !duckPgFunctions[name] {
			r.replace(from, i, r.toks[i].Text) // drop pg_catalog.
		}
		return i + 2, nil
	}
	r.edits = dropEditsFrom(r.edits, r.start(from))
	r.replace(from, end, sub+r.alias(from, end, name))
	return end + 1, nil
}

func (r *rewriter) currentSetting(from, i, end int, args [][2]int) (int, error) {
	if len(args) < 1 {
		return i + 1, nil
	}
	name, ok := r.literalArg(args[0])
	if !ok {
		return i + 2, nil
	}
	lower := strings.ToLower(name)
	var sub string
	if v, ours := ParamValue(r.s, lower); ours {
		sub = quoteLit(v)
	} else if n, duck := duckSettings[lower]; duck {
		sub = "current_setting(" + quoteLit(n) + ")"
	} else if strings.Contains(lower, ".") {
		v := r.s.Param(lower)
		if v == "" {
			if len(args) < 2 {
				return 0, errorf(codeUndefined, "unrecognized configuration parameter %s", untrusted.Quote(name))
			}
			sub = "NULL::VARCHAR"
		} else {
			sub = quoteLit(v)
		}
	} else {
		return i + 2, nil
	}
	r.replace(from, end, sub+r.alias(from, end, "current_setting"))
	return end + 1, nil
}

// setConfig is set_config('name', 'value', is_local) of a session-kept
// setting, made as the statement is translated.
func (r *rewriter) setConfig(from, i, end int, args [][2]int) (int, error) {
	if len(args) != 3 {
		return i + 1, nil
	}
	name, ok1 := r.literalArg(args[0])
	value, ok2 := r.literalArg(args[1])
	lower := strings.ToLower(name)
	p := params[lower]
	if !ok1 || !ok2 || (p == nil && !strings.Contains(lower, ".")) {
		return 0, errorf(codeNotSupported, "augur's set_config takes literal names and values of the PostgreSQL settings it keeps; use SET for DuckDB's settings")
	}
	if p != nil {
		if p.fixed {
			return 0, errorf(codeCantChange, "parameter %q cannot be changed", p.name)
		}
		if p.check != nil && value != "" {
			v, err := p.check(value)
			if err != nil {
				return 0, errorf(codeInvalidValue, "invalid value for parameter %q: %s", p.name, err)
			}
			value = v
		}
	}
	key := lower
	if p != nil {
		key = p.name
		if value == "" {
			value = p.def
		}
	}
	r.s.SetParam(key, value)
	r.replace(from, end, quoteLit(value)+r.alias(from, end, "set_config"))
	return end + 1, nil
}

// columnAlias gives a set-returning function's table alias (FROM
// generate_series(...) s) to its column too, as PostgreSQL does.
func (r *rewriter) columnAlias(end int) {
	k := end + 1
	if isKw(r.tok(k), "as") {
		k++
	}
	a := r.tok(k)
	if !r.hasAlias(end+1) || isPunct(r.tok(k+1), "(") || (a.Kind != parser.PlainIdent && a.Kind != parser.QuotedIdent) {
		return
	}
	r.edits = append(r.edits, edit{a.End, a.End, "(" + a.Text + ")"})
}

// reshape rewrites the call at tokens from..end as open, its first keep
// arguments (still translated in turn), and close.
func (r *rewriter) reshape(from, i, end int, args [][2]int, keep int, open, close string) int {
	r.replace(from, i+1, open)
	r.edits = append(r.edits, edit{r.end(args[keep-1][1]), r.end(end), close})
	return i + 2
}

// alias names a select-list item that is exactly the call at tokens
// from..end after the function, as PostgreSQL does, when it has no alias.
func (r *rewriter) alias(from, end int, name string) string {
	prev, next := r.tok(from-1), r.tok(end+1)
	if !(isKw(prev, "select") || isPunct(prev, ",") && r.inSelectList(from)) {
		return ""
	}
	if next.Kind == parser.EOF || isPunct(next, ",") || isPunct(next, ";") || isPunct(next, ")") ||
		isKw(next, "from") || isKw(next, "where") || isKw(next, "union") || isKw(next, "order") ||
		isKw(next, "limit") || isKw(next, "group") || isKw(next, "into") {
		return " AS " + quoteIdent(name)
	}
	return ""
}

// inSelectList reports whether token i is at the top level of a SELECT
// list.
func (r *rewriter) inSelectList(i int) bool {
	depth := 0
	for k := i - 1; k >= 0; k-- {
		t := r.toks[k]
		switch {
		case isPunct(t, ")") || isPunct(t, "]"):
			depth++
		case isPunct(t, "(") || isPunct(t, "["):
			if depth == 0 {
				return false
			}
			depth--
		case depth == 0 && t.Kind == parser.PlainIdent:
			switch strings.ToLower(t.Text) {
			case "select":
				return true
			case "from", "where", "by", "having", "on", "values", "set", "returning":
				return false
			}
		}
	}
	return false
}
