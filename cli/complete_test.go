package cli

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testConn opens an in-memory augur database and one connection to it,
// closed at the test's end.
func testConn(t *testing.T, setup ...string) *sql.Conn {
	t.Helper()
	db, err := OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, q := range setup {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return conn
}

// TestComplete: the candidates for the word before the cursor, from a
// real database, in each context the shell distinguishes.
func TestComplete(t *testing.T) {
	conn := testConn(t,
		"CREATE TABLE penguins (species VARCHAR, bill_length DOUBLE)",
		"CREATE TABLE predictions (id INTEGER)",
		"CREATE VIEW pen_view AS SELECT 1 AS one",
		"CREATE MODEL penmodel FLAVOR test MODEL_TYPE sum",
		"CREATE MODEL other FLAVOR test MODEL_TYPE sum",
	)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data", "sub"), 0o755)
	for _, f := range []string{"data/penguins.csv", "data/pen's.csv", "data/.hidden", "data/pe\x1bvil.csv", "data/other.parquet"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	t.Chdir(dir)
	c := newCompleter(func() *sql.Conn { return conn })
	ctx := context.Background()

	cases := []struct {
		line       string
		head       string   // what stays before the completed word
		want       []string // exactly these candidates (nil: see has)
		has, hasnt []string
	}{
		// after FROM: tables and views only
		{line: "SELECT * FROM pen", head: "SELECT * FROM ", want: []string{"pen_view", "penguins"}},
		{line: "select * from P", head: "select * from ", want: []string{"pen_view", "penguins", "predictions"}},
		{line: "SELECT * FROM a JOIN pr", head: "SELECT * FROM a JOIN ", want: []string{"predictions"}},
		// ML_PREDICT( and MODEL: models
		{line: "SELECT ML_PREDICT(pe", head: "SELECT ML_PREDICT(", want: []string{"penmodel"}},
		{line: "SELECT ml_predict( ", head: "SELECT ml_predict( ", want: []string{"other", "penmodel"}},
		{line: "DESCRIBE MODEL o", head: "DESCRIBE MODEL ", want: []string{"other"}},
		// after name.: columns
		{line: "SELECT p.bill", head: "SELECT p.", want: []string{"bill_length"}},
		// keywords in the case typed, then names and functions
		{line: "SEL", head: "", has: []string{"SELECT"}},
		{line: "sel", head: "", has: []string{"select"}, hasnt: []string{"SELECT"}},
		{line: "CREATE MODEL m FLAV", head: "CREATE MODEL m ", has: []string{"FLAVOR"}},
		{line: "CREATE MODEL m FLAVOR test MODEL_T", head: "CREATE MODEL m FLAVOR test ", has: []string{"MODEL_TYPE"}},
		{line: "SELECT spec", head: "SELECT ", has: []string{"species"}},
		{line: "SELECT read_cs", head: "SELECT ", has: []string{"read_csv", "read_csv_auto"}},
		{line: "SELECT ml_pre", head: "SELECT ", has: []string{"ml_predict"}},
		// internal functions are not proposed
		{line: "SELECT __aug", head: "SELECT ", want: nil},
		// dot commands
		{line: ".ta", head: "", want: []string{".tables"}},
		{line: ".m", head: "", want: []string{".maxrows", ".maxwidth", ".mode", ".models"}},
		{line: ".q", head: "", want: []string{".q", ".quit"}},
		// paths inside quotes: directories with '/', hidden files and
		// names with control characters left out, ' doubled
		{line: "SELECT * FROM 'da", head: "SELECT * FROM '", want: []string{"data/"}},
		{line: "SELECT * FROM 'data/pe", head: "SELECT * FROM '", want: []string{"data/pen''s.csv", "data/penguins.csv"}},
		{line: "SELECT * FROM 'data/", head: "SELECT * FROM '", want: []string{"data/other.parquet", "data/pen''s.csv", "data/penguins.csv", "data/sub/"}},
		{line: "SELECT * FROM 'data/.", head: "SELECT * FROM '", want: []string{"data/.hidden"}},
		{line: "SELECT * FROM '" + dir + "/data/o", head: "SELECT * FROM '", want: []string{dir + "/data/other.parquet"}},
		{line: "SELECT 'it''s', 'data/s", head: "SELECT 'it''s', '", want: []string{"data/sub/"}},
		// no completion inside a closed string's after-text, comments or
		// quoted identifiers; nothing for an empty word in general
		{line: "SELECT 1 -- pen", head: "SELECT 1 -- pen", want: nil},
		{line: `SELECT "pen`, head: `SELECT "pen`, want: nil},
		{line: "SELECT ", head: "SELECT ", want: nil},
	}
	for _, tc := range cases {
		head, got, tail := c.complete(ctx, tc.line, len([]rune(tc.line)))
		if head != tc.head || tail != "" {
			t.Errorf("%q: head %q tail %q, want head %q", tc.line, head, tail, tc.head)
		}
		if tc.has == nil && tc.hasnt == nil {
			if !slices.Equal(got, tc.want) {
				t.Errorf("%q: %q, want %q", tc.line, got, tc.want)
			}
			continue
		}
		for _, w := range tc.has {
			if !slices.Contains(got, w) {
				t.Errorf("%q: %q lacks %q", tc.line, got, w)
			}
		}
		for _, w := range tc.hasnt {
			if slices.Contains(got, w) {
				t.Errorf("%q: %q has %q", tc.line, got, w)
			}
		}
		if len(got) != len(dedupeKeepOrder(slices.Clone(got))) {
			t.Errorf("%q: repeated candidates %q", tc.line, got)
		}
	}

	// The cursor inside the line: the text after it is kept.
	if head, got, tail := c.complete(ctx, "SELECT * FROM pre WHERE x", len("SELECT * FROM pre")); head != "SELECT * FROM " || !slices.Equal(got, []string{"predictions"}) || tail != " WHERE x" {
		t.Errorf("mid-line: %q %q %q", head, got, tail)
	}

	// Names are read again after invalidate (the shell calls it after
	// each statement), not before.
	if _, err := conn.ExecContext(ctx, "CREATE TABLE penultimate (x INT)"); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := c.complete(ctx, "FROM penu", 9); len(got) != 0 {
		t.Errorf("before invalidate: %q", got)
	}
	c.invalidate()
	if _, got, _ := c.complete(ctx, "FROM penu", 9); !slices.Equal(got, []string{"penultimate"}) {
		t.Errorf("after invalidate: %q", got)
	}
	if n := strings.Count(strings.Join(c.keywords, " "), " SELECT "); n != 1 {
		t.Errorf("SELECT is %d times among the keywords", n)
	}
}
