package pgcompat

import (
	"os"
	"sort"
	"strings"

	"github.com/augurdb/augur/internal/version"
)

// PGVersion is the PostgreSQL version augur claims: psql 15, pgx and JDBC
// choose their catalog queries by it, and those of 15 are the ones
// translated here.
const (
	PGVersion    = "15.0"
	PGVersionNum = "150000"
)

// BackendPIDParam is the session parameter pg_backend_pid() answers: the
// server sets it to the process ID it sent in BackendKeyData.
const BackendPIDParam = "augur.backend_pid"

// param is a PostgreSQL setting that augur keeps in the session because
// DuckDB has no such setting.
type param struct {
	name string // PostgreSQL's spelling, as SHOW names its column
	def  string // the value when the session has none
	desc string
	// check validates and normalizes a value from SET; nil accepts any.
	check func(v string) (string, error)
	// fixed settings cannot be changed by SET (server_version, ...);
	// the server may still set some (session_authorization).
	fixed bool
	// report: PostgreSQL sends ParameterStatus at startup and on change.
	report bool
}

// params are indexed by lower-case name.
var params = func() map[string]*param {
	list := []*param{
		{name: "application_name", desc: "Sets the application name to be reported in statistics and logs.", report: true},
		{name: "client_encoding", def: "UTF8", desc: "Sets the client's character set encoding.", check: checkEncoding, report: true},
		{name: "DateStyle", def: "ISO, MDY", desc: "Sets the display format for date and time values.", check: checkDateStyle, report: true},
		{name: "IntervalStyle", def: "postgres", desc: "Sets the display format for interval values.", check: only("postgres"), report: true},
		{name: "extra_float_digits", def: "1", desc: "Sets the number of digits displayed for floating-point values.", check: checkFloatDigits},
		{name: "standard_conforming_strings", def: "on", desc: "Causes '...' strings to treat backslashes literally.", check: only("on"), report: true},
		{name: "integer_datetimes", def: "on", desc: "Shows whether datetimes are integer based.", fixed: true, report: true},
		{name: "server_version", def: PGVersion + " (augur " + version.String() + ")", desc: "Shows the server version.", fixed: true, report: true},
		{name: "server_version_num", def: PGVersionNum, desc: "Shows the server version as an integer.", fixed: true},
		{name: "server_encoding", def: "UTF8", desc: "Shows the server (database) character set encoding.", fixed: true, report: true},
		{name: "is_superuser", def: "off", desc: "Shows whether the current user is a superuser.", fixed: true, report: true},
		{name: "session_authorization", def: "augur", desc: "Sets the session user name.", fixed: true, report: true},
		{name: "default_transaction_read_only", def: "off", desc: "Sets the default read-only status of new transactions.", check: only("off"), report: true},
		{name: "in_hot_standby", def: "off", desc: "Shows whether hot standby is currently active.", fixed: true, report: true},
		{name: "transaction_isolation", def: "repeatable read", desc: "Sets the current transaction's isolation level (DuckDB's snapshot isolation).", check: checkIsolation},
		{name: "default_transaction_isolation", def: "repeatable read", desc: "Sets the transaction isolation level of each new transaction.", check: checkIsolation},
		{name: "transaction_read_only", def: "off", desc: "Sets the current transaction's read-only status.", check: only("off")},
		{name: "transaction_deferrable", def: "off", desc: "Whether to defer a read-only serializable transaction."},
		{name: "default_transaction_deferrable", def: "off", desc: "Sets the default deferrable status of new transactions."},
		{name: "statement_timeout", def: "0", desc: "Kept for clients; augur does not time statements out by it."},
		{name: "lock_timeout", def: "0", desc: "Kept for clients; augur does not use it."},
		{name: "idle_in_transaction_session_timeout", def: "0", desc: "Kept for clients; augur does not use it."},
		{name: "idle_session_timeout", def: "0", desc: "Kept for clients; augur does not use it."},
		{name: "bytea_output", def: "hex", desc: "Sets the output format for bytea.", check: only("hex")},
		{name: "client_min_messages", def: "notice", desc: "Sets the message levels that are sent to the client."},
		{name: "synchronous_commit", def: "on", desc: "Kept for clients; augur commits synchronously."},
		{name: "row_security", def: "on", desc: "Kept for clients; augur has no row security."},
		{name: "max_identifier_length", def: "63", desc: "Shows the maximum identifier length.", fixed: true},
		{name: "max_index_keys", def: "32", desc: "Shows the maximum number of index keys.", fixed: true},
		{name: "block_size", def: "8192", desc: "Shows the size of a disk block.", fixed: true},
		{name: "lc_collate", def: "C", desc: "Shows the collation order locale.", fixed: true},
		{name: "lc_ctype", def: "C", desc: "Shows the character classification and case conversion locale.", fixed: true},
		{name: "lc_messages", def: "C", desc: "Sets the language in which messages are displayed."},
		{name: "lc_monetary", def: "C", desc: "Sets the locale for formatting monetary amounts."},
		{name: "lc_numeric", def: "C", desc: "Sets the locale for formatting numbers."},
		{name: "lc_time", def: "C", desc: "Sets the locale for formatting date and time values."},
		{name: "geqo", def: "on", desc: "Kept for clients; augur plans with DuckDB."},
		{name: "jit", def: "off", desc: "Kept for clients; augur plans with DuckDB."},
	}
	m := make(map[string]*param, len(list))
	for _, p := range list {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// duckSettings are PostgreSQL settings DuckDB has itself (same meaning):
// SET passes to DuckDB, SHOW reads current_setting. Keys are lower case,
// values PostgreSQL's spelling.
var duckSettings = map[string]string{
	"timezone":    "TimeZone",
	"search_path": "search_path",
}

// StartupParams are the ParameterStatus values sent after authentication.
// The server should override application_name (and session_authorization,
// is_superuser) with what the client sent and who it is.
func StartupParams() map[string]string {
	m := map[string]string{"TimeZone": localZone()}
	for _, p := range params {
		if p.report {
			m[p.name] = p.def
		}
	}
	return m
}

// ReportedParams are the settings whose change PostgreSQL reports with a
// ParameterStatus message: after Translate answers a SET or RESET (Tag
// "SET" or "RESET"), the server sends ParameterStatus for each of them
// whose ParamValue changed. TimeZone is DuckDB's own setting: the server
// reads it with current_setting('TimeZone') after a SET TimeZone it ran.
func ReportedParams() []string {
	var names []string
	for _, p := range params {
		if p.report {
			names = append(names, p.name)
		}
	}
	sort.Strings(names)
	return names
}

// ParamValue is the value of a session-kept setting (its default when
// the session has none), by any case of its name; ok is false for a
// name augur does not keep.
func ParamValue(s Session, name string) (value string, ok bool) {
	p := params[strings.ToLower(name)]
	if p == nil {
		return "", false
	}
	if v := s.Param(p.name); v != "" {
		return v, true
	}
	return p.def, true
}

// localZone is the time zone DuckDB starts a session in: ICU's default,
// which is $TZ or the zone /etc/localtime links to. The server may send
// DuckDB's current_setting('TimeZone') instead.
func localZone() string {
	if tz := os.Getenv("TZ"); tz != "" && !strings.ContainsAny(tz, ":/") {
		return tz
	}
	if dest, err := os.Readlink("/etc/localtime"); err == nil {
		if i := strings.Index(dest, "zoneinfo/"); i >= 0 {
			return dest[i+len("zoneinfo/"):]
		}
	}
	return "UTC"
}
