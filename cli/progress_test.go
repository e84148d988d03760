package cli

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurdb/augur/engine"
)

// TestDownloadProgress: nothing is drawn for a download shorter than the
// delay; a longer one draws its escaped URI and size on one line, which
// the end clears.
func TestDownloadProgress(t *testing.T) {
	var b strings.Builder
	quick := downloadProgress(&b, time.Hour)
	quick("https://h/m.onnx", 1e6, false)
	quick("https://h/m.onnx", 2e6, true)
	if b.Len() != 0 {
		t.Fatalf("a quick download drew %q", b.String())
	}
	slow := downloadProgress(&b, 0)
	slow("https://h/\x1b[2Jm.onnx", 25e6, false)
	if s := b.String(); !strings.Contains(s, "downloading https://h/\\x1b[2Jm.onnx: 25.0 MB") || strings.Contains(s, "\x1b[2J") {
		t.Fatalf("progress line %q", s)
	}
	slow("https://h/\x1b[2Jm.onnx", 50e6, true)
	if s := b.String(); !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("the line was not cleared: %q", s)
	}
}

// TestDuckDBPercent: the percentage read through duckdb-go's connection
// handle is DuckDB's, and moves while a table scan runs (polling only;
// the statement is cancelled once it has moved). It fails if a duckdb-go
// upgrade hides the handle differently.
func TestDuckDBPercent(t *testing.T) {
	conn := testConn(t, "CREATE TABLE big AS SELECT range AS x FROM range(2000000)")
	ctx := context.Background()
	var percent func() float64
	conn.Raw(func(dc any) error {
		percent = duckdbPercent(dc.(*engine.Conn).Unwrap())
		return nil
	})
	if percent == nil {
		t.Fatal("duckdb-go's connection handle was not found: the shell shows no percentage")
	}
	if duckdbPercent(struct{}{}) != nil || duckdbPercent((*sql.Conn)(nil)) != nil {
		t.Error("a value that is no duckdb-go connection gave a percentage")
	}
	if _, err := conn.ExecContext(ctx, "SET enable_progress_bar = true; SET enable_progress_bar_print = false"); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(qctx, "SELECT sum(hash(x::VARCHAR || repeat('a', 2000))) FROM big")
		done <- err
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			t.Fatalf("the scan ended (%v) before DuckDB reported progress", err)
		case <-tick.C:
		}
		if p := percent(); p > 0 {
			if p > 100 {
				t.Errorf("percentage %v", p)
			}
			cancel()
			<-done
			return
		}
	}
}

// TestProgressLine: the line's parts (DuckDB's bar, rows per model with
// their rate, the time left from the percentage or from the input's row
// count), fitted to the terminal's width, names escaped.
func TestProgressLine(t *testing.T) {
	cases := []struct {
		st    progressState
		width int
		want  string
	}{
		{progressState{Elapsed: 3 * time.Second, Percent: 25}, 0,
			" 25% ▕███████                       ▏ · 9s left"},
		{progressState{Elapsed: 2500 * time.Millisecond, Percent: -1}, 0,
			"running 2s"},
		{progressState{Elapsed: 4 * time.Second, Percent: 50, Models: []modelDelta{{"cancer_rf", 1200000}}}, 0,
			" 50% ▕███████████████               ▏ cancer_rf 1,200,000 rows 300,000/s · 4s left"},
		// no percentage: the input table's rows give the time left
		{progressState{Elapsed: 2 * time.Second, Percent: -1, Total: 3000, Models: []modelDelta{{"a", 1000}, {"b\x1b[2J", 500}}}, 0,
			"running 2s a 1,000 rows 500/s b\\x1b[2J 500 rows 250/s · 4s left"},
		{progressState{Elapsed: 4 * time.Second, Percent: 50, Models: []modelDelta{{"cancer_rf", 1200000}}}, 40,
			" 50% ▕███████████████               ▏ …"},
	}
	for _, tc := range cases {
		if got := tc.st.line(tc.width); got != tc.want {
			t.Errorf("%+v width %d:\n got %q\nwant %q", tc.st, tc.width, got, tc.want)
		}
	}
}

// TestWatchQuery: outside the shell (no watcher in the context) nothing
// happens; a watcher draws nothing for a statement shorter than its delay,
// and clears the line it drew for a longer one before stop returns.
func TestWatchQuery(t *testing.T) {
	conn := testConn(t)
	ctx := context.Background()
	watchQuery(ctx, conn, "SELECT 1")() // no watcher: a no-op

	var b syncBuffer
	qw := &queryWatcher{w: &b, width: func() int { return 80 }, after: time.Hour, every: time.Millisecond,
		seen: map[any]bool{}, downloads: map[string]*download{}}
	stop := watchQuery(withQueryWatcher(ctx, qw), conn, "SELECT 1")
	stop()
	if b.String() != "" {
		t.Errorf("a quick statement drew %q", b.String())
	}
	qw.after = 0
	stop = watchQuery(withQueryWatcher(ctx, qw), conn, "SELECT 1")
	for !strings.Contains(b.String(), "%") && !strings.Contains(b.String(), "running") {
		time.Sleep(time.Millisecond)
	}
	stop()
	if s := b.String(); !strings.HasPrefix(s, "\r") || !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("drawn %q: not one line cleared at the end", s)
	}
	if n := b.Len(); n != len(b.String()) || func() bool { time.Sleep(5 * time.Millisecond); return b.Len() != n }() {
		t.Error("the line was drawn after stop returned")
	}
	// A download during the statement takes the line while it runs.
	b = syncBuffer{}
	stop = watchQuery(withQueryWatcher(ctx, qw), conn, "SELECT 1")
	qw.downloadProgress("https://h/\x1b[2Jm.onnx", 5e6, false)
	for !strings.Contains(b.String(), "downloading https://h/\\x1b[2Jm.onnx: 5.0 MB") {
		time.Sleep(time.Millisecond)
	}
	qw.downloadProgress("https://h/\x1b[2Jm.onnx", 9e6, true)
	n := b.Len()
	for !strings.Contains(b.String()[n:], "running") && !strings.Contains(b.String()[n:], "%") {
		time.Sleep(time.Millisecond)
	}
	stop()
	if strings.Contains(b.String(), "\x1b[2J") {
		t.Errorf("the URI was drawn unescaped: %q", b.String())
	}

	if newQueryWatcher(&b) != nil {
		t.Error("a watcher for a writer that is no terminal")
	}
}

// syncBuffer is a strings.Builder safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int { return len(s.String()) }

// TestInputRows: the row count of the table a statement reads FROM (for
// the time left when DuckDB has no percentage); 0 for what is no table.
func TestInputRows(t *testing.T) {
	conn := testConn(t, "CREATE TABLE Penguins AS SELECT range AS x FROM range(1234)")
	ctx := context.Background()
	for q, want := range map[string]int64{
		"SELECT ML_PREDICT(m, x) FROM penguins":                  1234,
		"SELECT ML_PREDICT(m, x)\nFROM \"Penguins\" WHERE x > 1": 1234,
		"SELECT ML_PREDICT(m, x) FROM \"penguins\"":              0, // quoted: exact case
		"SELECT ML_PREDICT(m, x) FROM read_csv('p.csv')":         0,
		"SELECT ML_PREDICT(m, x) FROM missing":                   0,
		"SELECT 1":                                               0,
	} {
		if got := inputRows(ctx, conn, q); got != want {
			t.Errorf("%q: %d, want %d", q, got, want)
		}
	}
	if !hasPredict("select ml_predict (m, x)") || hasPredict("SELECT my_ml_predict(x)") {
		t.Error("hasPredict")
	}
}
