package pgcompat

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/parser"
)

// Error is a statement augur refuses, with the SQLSTATE PostgreSQL would
// send for it (the server sends Code in its ErrorResponse).
type Error struct {
	Code    string // SQLSTATE, e.g. 0A000 feature_not_supported
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

const (
	codeNotSupported = "0A000"
	codeInvalidValue = "22023"
	codeUndefined    = "42704"
	codeCantChange   = "55P02"
)

// statement handles statements translated as a whole: SET, RESET, SHOW
// and BEGIN/START TRANSACTION with modes. done is false for anything
// else.
func statement(sql string, toks []parser.Token, s Session) (rewritten string, answer *Result, err error, done bool) {
	toks = trimSemis(toks)
	switch {
	case isKw(toks[0], "set"):
		r, a, err := setStatement(sql, toks[1:], s)
		return r, a, err, true
	case isKw(toks[0], "reset"):
		r, a, err := resetStatement(sql, toks[1:], s)
		return r, a, err, true
	case isKw(toks[0], "show"):
		r, a, err := showStatement(sql, toks[1:], s)
		return r, a, err, true
	case isKw(toks[0], "begin"), isKw(toks[0], "start"):
		r, err := beginStatement(sql, toks, s)
		return r, nil, err, true
	case isKw(toks[0], "copy") && copiesThroughProtocol(toks):
		return "", nil, errorf("0A000", "COPY ... FROM STDIN and COPY ... TO STDOUT are not supported: augur serve does not speak PostgreSQL's COPY protocol; insert rows with a parameterised INSERT, or COPY from a file inside a --model-root folder"), true
	}
	return "", nil, nil, false
}

// copiesThroughProtocol reports whether a COPY statement reads STDIN or
// writes STDOUT, which PostgreSQL serves with its COPY sub-protocol.
// DuckDB would take them as the server process's own standard streams.
func copiesThroughProtocol(toks []parser.Token) bool {
	for i := 1; i+1 < len(toks); i++ {
		if (isKw(toks[i], "from") && isKw(toks[i+1], "stdin")) || (isKw(toks[i], "to") && isKw(toks[i+1], "stdout")) {
			return true
		}
	}
	return false
}

func trimSemis(toks []parser.Token) []parser.Token {
	for len(toks) > 1 && isPunct(toks[len(toks)-1], ";") {
		toks = toks[:len(toks)-1]
	}
	return toks
}

func isKw(t parser.Token, kw string) bool {
	return t.Kind == parser.PlainIdent && strings.EqualFold(t.Text, kw)
}

func isPunct(t parser.Token, p string) bool { return t.Kind == parser.Punct && t.Text == p }

func kwsAt(toks []parser.Token, i int, kws ...string) bool {
	if i+len(kws) > len(toks) {
		return false
	}
	for j, k := range kws {
		if !isKw(toks[i+j], k) {
			return false
		}
	}
	return true
}

var setAnswer = &Result{Tag: "SET"}

func setStatement(sql string, toks []parser.Token, s Session) (string, *Result, error) {
	if len(toks) > 0 && (isKw(toks[0], "session") || isKw(toks[0], "local")) {
		switch {
		case kwsAt(toks, 1, "characteristics", "as", "transaction"):
			return setTx(toks[4:], s, "default_transaction_isolation")
		case kwsAt(toks, 1, "authorization"):
			return "", nil, errorf(codeNotSupported, "SET SESSION AUTHORIZATION is not supported by augur: connect as the user instead")
		}
		toks = toks[1:]
	}
	switch {
	case len(toks) == 0:
		return sql, nil, nil
	case kwsAt(toks, 0, "transaction"):
		return setTx(toks[1:], s, "transaction_isolation")
	case kwsAt(toks, 0, "time", "zone"):
		return setTimeZone(toks[2:], s)
	case kwsAt(toks, 0, "names"):
		return setParam(params["client_encoding"], toks[1:], s)
	case kwsAt(toks, 0, "schema"):
		return setSearchPath(sql, toks[1:])
	case kwsAt(toks, 0, "role"):
		return "", nil, errorf(codeNotSupported, "SET ROLE is not supported by augur: connect as the user instead")
	}
	name, rest := settingName(toks)
	if name == "" || len(rest) == 0 || !(isPunct(rest[0], "=") || isKw(rest[0], "to")) {
		return sql, nil, nil // not PostgreSQL's form: DuckDB's or augur's to judge
	}
	lower := strings.ToLower(name)
	if _, ours := parser.Settings[lower]; ours {
		return sql, nil, nil
	}
	if p := params[lower]; p != nil {
		return setParam(p, rest[1:], s)
	}
	switch lower {
	case "timezone":
		return setTimeZone(rest[1:], s)
	case "search_path":
		return setSearchPath(sql, rest[1:])
	}
	if strings.Contains(lower, ".") {
		// A customized option (myapp.tenant): PostgreSQL keeps any.
		v, err := settingValue(rest[1:])
		if err != nil {
			return "", nil, err
		}
		s.SetParam(lower, v)
		return "", setAnswer, nil
	}
	return sql, nil, nil
}

func setTx(toks []parser.Token, s Session, key string) (string, *Result, error) {
	if err := txModes(toks, s, key); err != nil {
		return "", nil, err
	}
	return "", setAnswer, nil
}

// settingName reads a (possibly dotted) setting name.
func settingName(toks []parser.Token) (string, []parser.Token) {
	if len(toks) == 0 || (toks[0].Kind != parser.PlainIdent && toks[0].Kind != parser.QuotedIdent) {
		return "", toks
	}
	name := identText(toks[0])
	i := 1
	for i+1 < len(toks) && isPunct(toks[i], ".") && (toks[i+1].Kind == parser.PlainIdent || toks[i+1].Kind == parser.QuotedIdent) {
		name += "." + identText(toks[i+1])
		i += 2
	}
	return name, toks[i:]
}

func identText(t parser.Token) string {
	if t.Kind == parser.QuotedIdent {
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], `""`, `"`)
	}
	return t.Text
}

// settingValue renders SET's value list as PostgreSQL stores it: words
// in lower case, strings unquoted, several values joined by ", ".
// DEFAULT is returned as "".
func settingValue(toks []parser.Token) (string, error) {
	if len(toks) == 1 && isKw(toks[0], "default") {
		return "", nil
	}
	var parts []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		neg := ""
		if isPunct(t, "-") && i+1 < len(toks) && toks[i+1].Kind == parser.Number {
			neg, i, t = "-", i+1, toks[i+1]
		}
		switch t.Kind {
		case parser.String:
			v, ok := stringValue(t)
			if !ok {
				return "", errorf(codeNotSupported, "SET: an escape string value is not supported; write it as a plain '...' string")
			}
			parts = append(parts, v)
		case parser.Number:
			parts = append(parts, neg+t.Text)
		case parser.PlainIdent:
			parts = append(parts, strings.ToLower(t.Text))
		case parser.QuotedIdent:
			parts = append(parts, identText(t))
		default:
			return "", errorf("42601", "SET: syntax error at %s", untrusted.Quote(t.Text))
		}
		if i+1 < len(toks) {
			if !isPunct(toks[i+1], ",") {
				return "", errorf("42601", "SET: syntax error at %s", untrusted.Quote(toks[i+1].Text))
			}
			i++
		}
	}
	if len(parts) == 0 {
		return "", errorf("42601", "SET: a value is missing")
	}
	return strings.Join(parts, ", "), nil
}

// stringValue is the value of a plain '...' literal; ok is false for
// E'...' and other prefixed strings.
func stringValue(t parser.Token) (string, bool) {
	if !strings.HasPrefix(t.Text, "'") || len(t.Text) < 2 {
		return "", false
	}
	return strings.ReplaceAll(t.Text[1:len(t.Text)-1], "''", "'"), true
}

func setParam(p *param, toks []parser.Token, s Session) (string, *Result, error) {
	v, err := settingValue(toks)
	if err != nil {
		return "", nil, err
	}
	if p.fixed {
		return "", nil, errorf(codeCantChange, "parameter %q cannot be changed", p.name)
	}
	if v != "" && p.check != nil {
		if v, err = p.check(v); err != nil {
			return "", nil, errorf(codeInvalidValue, "invalid value for parameter %q: %s", p.name, err)
		}
	}
	if v == "" {
		v = p.def
	}
	s.SetParam(p.name, v)
	return "", setAnswer, nil
}

// setTimeZone passes SET TIME ZONE and SET TimeZone to DuckDB, whose
// TimeZone is the session's (the server reads it back after a SET and
// reports it). A SET of the zone the session has already (the same name
// in any case, or another name of UTC) is answered without DuckDB: augur
// serve locks DuckDB's configuration, which refuses any SET TimeZone, and
// clients (JDBC among them) often set the zone they are already in.
func setTimeZone(toks []parser.Token, s Session) (string, *Result, error) {
	if len(toks) == 1 && (isKw(toks[0], "local") || isKw(toks[0], "default")) {
		return "RESET TimeZone", nil, nil
	}
	v, err := settingValue(toks)
	if err != nil {
		return "", nil, err
	}
	if v == "" {
		return "RESET TimeZone", nil, nil
	}
	if sameZone(v, s.Param("TimeZone")) {
		return "", setAnswer, nil
	}
	return "SET TimeZone = " + quoteLit(v), nil, nil
}

// sameZone reports whether two zone names are the same zone: equal but
// for case, or both names of UTC.
func sameZone(a, b string) bool {
	utc := func(z string) bool {
		switch strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(z, "Etc/"), "etc/")) {
		case "UTC", "UCT", "GMT", "GMT0", "Z", "ZULU", "UNIVERSAL", "GREENWICH":
			return true
		}
		return false
	}
	return strings.EqualFold(a, b) || utc(a) && utc(b)
}

// setSearchPath passes search_path to DuckDB as its one comma-separated
// string: PostgreSQL's "$user" (no such schema) is dropped and public,
// PostgreSQL's default schema, is DuckDB's main.
func setSearchPath(sql string, toks []parser.Token) (string, *Result, error) {
	v, err := settingValue(toks)
	if err != nil {
		return "", nil, err
	}
	if v == "" {
		return "RESET search_path", nil, nil
	}
	var keep []string
	for _, sch := range strings.Split(v, ", ") {
		switch sch {
		case "$user":
			continue
		case "public":
			sch = "main"
		}
		keep = append(keep, sch)
	}
	if len(keep) == 0 {
		keep = []string{"main"}
	}
	return "SET search_path = " + quoteLit(strings.Join(keep, ",")), nil, nil
}

// txModes applies ISOLATION LEVEL, READ WRITE/ONLY and [NOT] DEFERRABLE
// (an empty toks is fine) to the isolation parameter key. DuckDB's
// transactions are snapshot isolation: PostgreSQL's REPEATABLE READ, which
// is also at least READ COMMITTED and READ UNCOMMITTED.
func txModes(toks []parser.Token, s Session, key string) error {
	level := ""
	for i := 0; i < len(toks); {
		switch {
		case isPunct(toks[i], ","):
			i++
		case kwsAt(toks, i, "isolation", "level", "serializable"):
			return errorf(codeNotSupported, "augur's transactions are snapshot isolation (REPEATABLE READ); SERIALIZABLE is not supported")
		case kwsAt(toks, i, "isolation", "level", "repeatable", "read"):
			level, i = "repeatable read", i+4
		case kwsAt(toks, i, "isolation", "level", "read", "committed"):
			level, i = "read committed", i+4
		case kwsAt(toks, i, "isolation", "level", "read", "uncommitted"):
			level, i = "read uncommitted", i+4
		case kwsAt(toks, i, "read", "write"):
			i += 2
		case kwsAt(toks, i, "read", "only"):
			return errorf(codeNotSupported, "read-only transactions are not supported by augur")
		case kwsAt(toks, i, "not", "deferrable"):
			i += 2
		case kwsAt(toks, i, "deferrable"):
			i++
		default:
			return errorf("42601", "syntax error in transaction modes at %s", untrusted.Quote(toks[i].Text))
		}
	}
	if level != "" {
		s.SetParam(key, level)
	}
	return nil
}

// beginStatement strips PostgreSQL's transaction modes, which DuckDB's
// BEGIN does not take, after checking them.
func beginStatement(sql string, toks []parser.Token, s Session) (string, error) {
	i := 1
	if isKw(toks[0], "start") {
		if !kwsAt(toks, 1, "transaction") {
			return sql, nil
		}
		i = 2
	} else if len(toks) > 1 && (isKw(toks[1], "transaction") || isKw(toks[1], "work")) {
		i = 2
	}
	if i >= len(toks) {
		return sql, nil
	}
	if err := txModes(toks[i:], s, "transaction_isolation"); err != nil {
		return "", err
	}
	return "BEGIN TRANSACTION", nil
}

func resetStatement(sql string, toks []parser.Token, s Session) (string, *Result, error) {
	if len(toks) == 1 && isKw(toks[0], "all") {
		for _, p := range params {
			if !p.fixed {
				s.SetParam(p.name, p.def)
			}
		}
		return "", &Result{Tag: "RESET"}, nil
	}
	name, rest := settingName(toks)
	if name == "" || len(rest) != 0 {
		return sql, nil, nil
	}
	lower := strings.ToLower(name)
	if p := params[lower]; p != nil {
		if p.fixed {
			return "", nil, errorf(codeCantChange, "parameter %q cannot be changed", p.name)
		}
		s.SetParam(p.name, p.def)
		return "", &Result{Tag: "RESET"}, nil
	}
	if strings.Contains(lower, ".") {
		s.SetParam(lower, "")
		return "", &Result{Tag: "RESET"}, nil
	}
	return sql, nil, nil
}

func showStatement(sql string, toks []parser.Token, s Session) (string, *Result, error) {
	switch {
	case len(toks) == 1 && isKw(toks[0], "all"):
		return showAll(s), nil, nil
	case len(toks) == 3 && kwsAt(toks, 0, "transaction", "isolation", "level"):
		return showParam(params["transaction_isolation"], s)
	case len(toks) == 2 && kwsAt(toks, 0, "time", "zone"):
		return showDuck("TimeZone"), nil, nil
	case len(toks) == 2 && kwsAt(toks, 0, "session", "authorization"):
		return showParam(params["session_authorization"], s)
	}
	name, rest := settingName(toks)
	if name == "" || len(rest) != 0 {
		return sql, nil, nil
	}
	lower := strings.ToLower(name)
	if p := params[lower]; p != nil {
		return showParam(p, s)
	}
	if n, ok := duckSettings[lower]; ok {
		return showDuck(n), nil, nil
	}
	if strings.Contains(lower, ".") && lower != BackendPIDParam {
		v := s.Param(lower)
		if v == "" {
			return "", nil, errorf(codeUndefined, "unrecognized configuration parameter %s", untrusted.Quote(name))
		}
		return "", textAnswer(lower, v), nil
	}
	return sql, nil, nil // SHOW TABLES, SHOW MODELS, SHOW t: DuckDB's and augur's own
}

func showParam(p *param, s Session) (string, *Result, error) {
	v, _ := ParamValue(s, p.name)
	return "", textAnswer(p.name, v), nil
}

func showDuck(name string) string {
	if name == "search_path" {
		// DuckDB's is empty until set: its default is the current schema.
		return "SELECT coalesce(nullif(current_setting('search_path'), ''), current_schema()) AS search_path"
	}
	return "SELECT current_setting(" + quoteLit(name) + ") AS " + quoteIdent(name)
}

// textAnswer is a one-row, one-text-column answer, as SHOW's.
func textAnswer(col, v string) *Result {
	return &Result{Columns: []Column{{Name: col, OID: oidText}}, Rows: [][]any{{v}}, Tag: "SHOW"}
}

// showAll lists the session-kept settings and DuckDB's, as PostgreSQL's
// SHOW ALL does (name, setting, description).
func showAll(s Session) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("SELECT * FROM (SELECT name, setting, description FROM (VALUES ")
	for i, k := range names {
		p := params[k]
		v, _ := ParamValue(s, p.name)
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%s, %s, %s)", quoteLit(p.name), quoteLit(v), quoteLit(p.desc))
	}
	b.WriteString(") AS ours(name, setting, description) UNION ALL SELECT name, value, description FROM duckdb_settings() WHERE lower(name) NOT IN (")
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteLit(k))
	}
	b.WriteString(")) ORDER BY lower(name)")
	return b.String()
}

func only(allowed string) func(string) (string, error) {
	return func(v string) (string, error) {
		if !strings.EqualFold(v, allowed) {
			return "", fmt.Errorf("augur supports only %s", allowed)
		}
		return allowed, nil
	}
}

func checkEncoding(v string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(v, "-", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", nil
	}
	return "", fmt.Errorf("augur supports only UTF8, not %s", untrusted.Quote(v))
}

// checkDateStyle accepts ISO output (what augur sends) with any of
// PostgreSQL's input orders.
func checkDateStyle(v string) (string, error) {
	style, order := "", "MDY"
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		switch strings.ToUpper(w) {
		case "ISO":
			style = "ISO"
		case "MDY", "US", "NONEURO", "NONEUROPEAN":
			order = "MDY"
		case "DMY", "EURO", "EUROPEAN":
			order = "DMY"
		case "YMD":
			order = "YMD"
		case "POSTGRES", "SQL", "GERMAN":
			return "", fmt.Errorf("augur sends dates in ISO style only, not %s", untrusted.Quote(w))
		default:
			return "", fmt.Errorf("unrecognized DateStyle key word %s", untrusted.Quote(w))
		}
	}
	if style == "" {
		style = "ISO"
	}
	return style + ", " + order, nil
}

func checkFloatDigits(v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < -15 || n > 3 {
		return "", fmt.Errorf("extra_float_digits must be an integer from -15 to 3")
	}
	return strconv.Itoa(n), nil
}

func checkIsolation(v string) (string, error) {
	switch strings.ToLower(v) {
	case "read uncommitted", "read committed", "repeatable read":
		return strings.ToLower(v), nil
	case "serializable":
		return "", fmt.Errorf("augur's transactions are snapshot isolation (repeatable read); serializable is not supported")
	}
	return "", fmt.Errorf("unknown isolation level %s", untrusted.Quote(v))
}
