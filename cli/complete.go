package cli

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/augurdb/augur/internal/untrusted"
)

// Tab completion in the shell.
//
// What is proposed depends on where the cursor is, as far as a look at
// the current line tells:
//
//   - inside a single-quoted string: file paths (relative to the working
//     directory, absolute, or from ~/), directories with a trailing '/';
//   - at the start of a line that begins with '.': the dot commands;
//   - after FROM, JOIN, INTO, UPDATE, TABLE, DESCRIBE, SUMMARIZE: tables
//     and views;
//   - after ML_PREDICT( or MODEL: models;
//   - after name.: the columns;
//   - elsewhere: keywords (DuckDB's and augur's), then tables, columns,
//     models and functions.
//
// Names come from the live database (duckdb_tables(), duckdb_views(),
// duckdb_columns(), duckdb_functions(), augur_models()) and are read again
// at the first Tab after each statement, since it may have created or
// dropped some. Keywords are proposed in the case of what was typed.

// augurKeywords are augur's words that DuckDB's keyword list lacks.
var augurKeywords = []string{
	"MODEL", "MODELS", "FLAVOR", "MODEL_TYPE", "OPTIONS", "RETURNS", "USING",
	"ML_PREDICT", "SHOW", "DESCRIBE", "DROP", "STATS",
}

// maxNames bounds each list of names read from the database, and
// maxPathCandidates the directory entries read for one completion.
const (
	maxNames          = 100000
	maxPathCandidates = 1000
)

// completer proposes completions for the shell's line editor.
type completer struct {
	conn     func() *sql.Conn // the runner's connection, which .open replaces
	keywords []string         // loaded once: DuckDB's keywords and augur's
	names    *dbNames         // nil: read at the next completion
}

// dbNames are the names the database holds.
type dbNames struct {
	tables, columns, models, functions []string
}

func newCompleter(conn func() *sql.Conn) *completer { return &completer{conn: conn} }

// invalidate makes the next completion read the names again.
func (c *completer) invalidate() { c.names = nil }

// load reads what the database holds. A list that cannot be read (no
// augur_models() in a plain DuckDB connection, say) stays empty.
func (c *completer) load(ctx context.Context) *dbNames {
	if c.keywords == nil {
		c.keywords = append(c.list(ctx, "SELECT keyword_name FROM duckdb_keywords()"), augurKeywords...)
		for i, k := range c.keywords {
			c.keywords[i] = strings.ToUpper(k)
		}
		c.keywords = dedupe(c.keywords)
	}
	if c.names == nil {
		c.names = &dbNames{
			tables:  c.list(ctx, "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal"),
			columns: c.list(ctx, "SELECT column_name FROM duckdb_columns() WHERE NOT internal"),
			models:  c.list(ctx, "SELECT name FROM augur_models()"),
			functions: c.list(ctx, `SELECT function_name FROM duckdb_functions()
				WHERE function_name NOT LIKE '\_\_%' ESCAPE '\'`),
		}
	}
	return c.names
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// list runs a query of one text column and returns its distinct values
// that are plain identifiers (operators and names with control
// characters are not worth completing), sorted.
func (c *completer) list(ctx context.Context, query string) []string {
	conn := c.conn()
	if conn == nil {
		return nil
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() && len(out) < maxNames {
		var s sql.NullString
		if rows.Scan(&s) == nil && s.Valid && identifier.MatchString(s.String) {
			out = append(out, s.String)
		}
	}
	return dedupe(out)
}

// dedupe sorts names and drops repeats.
func dedupe(names []string) []string {
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if i == 0 || n != names[i-1] {
			out = append(out, n)
		}
	}
	return out
}

// complete is liner's WordCompleter: it returns the line before the word
// being completed, the candidates for the word and the line after the
// cursor.
func (c *completer) complete(ctx context.Context, line string, pos int) (head string, candidates []string, tail string) {
	rs := []rune(line)
	if pos < 0 || pos > len(rs) {
		pos = len(rs)
	}
	before, tail := string(rs[:pos]), string(rs[pos:])
	start, cands := c.candidates(ctx, before)
	return before[:start], cands, tail
}

// candidates returns where in before the word being completed starts and
// the words that may replace it.
func (c *completer) candidates(ctx context.Context, before string) (int, []string) {
	st := scanLine(before)
	switch {
	case st.comment:
		return len(before), nil
	case st.quote >= 0:
		word := before[st.quote+1:]
		return st.quote + 1, completePath(word)
	case strings.HasPrefix(strings.TrimLeft(before, " \t"), ".") && !strings.ContainsAny(strings.TrimLeft(before, " \t"), " \t"):
		start := strings.Index(before, ".")
		return start, withPrefix(dotNames(), before[start:], false)
	}
	start := wordStart(before)
	word := before[start:]
	if strings.HasPrefix(word, `"`) {
		return len(before), nil // quoted identifiers are left alone
	}
	names := c.load(ctx)
	if dot := strings.LastIndexByte(word, '.'); dot >= 0 {
		return start + dot + 1, withPrefix(names.columns, word[dot+1:], false)
	}
	switch prev := previousWord(before[:start]); prev {
	case "FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE", "SUMMARIZE":
		if cs := withPrefix(names.tables, word, false); len(cs) > 0 || word == "" {
			return start, cs
		}
	case "ML_PREDICT(", "MODEL":
		return start, withPrefix(names.models, word, false)
	}
	if word == "" {
		return start, nil // everything would be too much to show
	}
	var out []string
	out = append(out, withPrefix(c.keywords, word, true)...)
	for _, l := range [][]string{names.tables, names.columns, names.models, names.functions} {
		out = append(out, withPrefix(l, word, false)...)
	}
	return start, dedupeKeepOrder(out)
}

// lineState is what scanLine found at the end of the text.
type lineState struct {
	quote   int  // byte offset of the opening ' of the unclosed string; -1 when none
	comment bool // inside a -- comment
}

// scanLine follows SQL's quoting in the text before the cursor: '...'
// strings (” inside one is a quote), "..." identifiers and -- comments.
func scanLine(s string) lineState {
	st := lineState{quote: -1}
	inDouble := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case st.quote >= 0:
			if ch == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					st.quote = -1
				}
			}
		case inDouble:
			inDouble = ch != '"'
		case ch == '\'':
			st.quote = i
		case ch == '"':
			inDouble = true
		case ch == '-' && i+1 < len(s) && s[i+1] == '-':
			st.comment = true
			return st
		}
	}
	return st
}

// wordStart returns where the identifier (with dots) before the end of s
// begins.
func wordStart(s string) int {
	i := len(s)
	for i > 0 {
		r := rune(s[i-1])
		if r >= 0x80 || r == '_' || r == '.' || r == '$' || r == '"' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			i--
			continue
		}
		break
	}
	return i
}

// previousWord returns the keyword before the word being completed,
// upper-case, with an opening parenthesis right after it kept
// ("ML_PREDICT(").
func previousWord(s string) string {
	s = strings.TrimRight(s, " \t\n")
	paren := strings.HasSuffix(s, "(")
	if paren {
		s = strings.TrimRight(strings.TrimSuffix(s, "("), " \t")
	}
	w := strings.ToUpper(s[wordStart(s):])
	if paren {
		return w + "("
	}
	return w
}

// withPrefix returns the names that start with prefix, ignoring case.
// Keywords take the case of the prefix (lower-case when it has letters
// and none upper-case); names keep the database's.
func withPrefix(names []string, prefix string, keyword bool) []string {
	lower := keyword && prefix != "" && strings.ToLower(prefix) == prefix && strings.ToUpper(prefix) != prefix
	up := strings.ToUpper(prefix)
	var out []string
	for _, n := range names {
		if len(n) >= len(prefix) && strings.ToUpper(n[:len(prefix)]) == up {
			if lower {
				n = strings.ToLower(n)
			}
			out = append(out, n)
		}
	}
	return out
}

// dedupeKeepOrder drops repeated candidates (a keyword that is also a
// function name), keeping the first.
func dedupeKeepOrder(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// completePath returns the files and directories whose path starts with
// word, the text typed inside a SQL string (” stands for '); directories
// end with '/'. Hidden entries show only when the name typed starts with
// '.'; names with control characters are never proposed.
func completePath(word string) []string {
	typed := strings.ReplaceAll(word, "''", "'")
	dir, base := filepath.Split(typed)
	open := dir
	if open == "" {
		open = "."
	} else if rest, ok := strings.CutPrefix(dir, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		open = filepath.Join(home, rest)
	}
	f, err := os.Open(open)
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, _ := f.ReadDir(maxPathCandidates)
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) ||
			untrusted.Clean(name) != name {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(open, name)); err == nil {
				isDir = fi.IsDir()
			}
		}
		if isDir {
			name += "/"
		}
		out = append(out, strings.ReplaceAll(dir+name, "'", "''"))
	}
	sort.Strings(out)
	return out
}
