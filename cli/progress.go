package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"
	"golang.org/x/term"

	"github.com/augurdb/augur/engine"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/source"
)

// progressAfter is how long a download runs before its progress line
// shows: short ones never draw it.
const progressAfter = 2 * time.Second

// downloadProgress draws one line on a terminal for a model download
// that takes more than progressAfter: the URI, the megabytes so far and
// the rate; the line is cleared when the download ends.
func downloadProgress(w io.Writer, after time.Duration) source.Progress {
	var (
		mu    sync.Mutex
		start = map[string]time.Time{}
		drawn bool
	)
	return func(uri string, done int64, finished bool) {
		mu.Lock()
		defer mu.Unlock()
		t0, ok := start[uri]
		if !ok {
			t0 = time.Now()
			start[uri] = t0
		}
		if finished {
			delete(start, uri)
			if drawn {
				fmt.Fprint(w, "\r\x1b[K")
				drawn = false
			}
			return
		}
		elapsed := time.Since(t0)
		if elapsed < after {
			return
		}
		fmt.Fprint(w, "\r\x1b[K"+downloadText(uri, done, elapsed))
		drawn = true
	}
}

// downloadText is the progress of one download: the URI, the megabytes
// so far and the rate.
func downloadText(uri string, done int64, elapsed time.Duration) string {
	mb := float64(done) / 1e6
	return fmt.Sprintf("downloading %s: %.1f MB (%.1f MB/s)", untrusted.Clean(uri), mb, mb/elapsed.Seconds())
}

// The query progress line of the interactive shell.
//
// While a statement runs longer than queryProgressAfter, the shell draws
// one line on the terminal and clears it when DuckDB has finished the
// statement, before its rows print:
//
//	 47% ▕██████████████                ▏ cancer_rf 120,000 rows 40,000/s · 4s left
//
// The percentage is DuckDB's own (duckdb_query_progress, the number its
// CLI's progress bar shows). The per-model part is the difference of the
// engine's ModelStats rows since the statement started. The time left
// comes from the percentage; when DuckDB has none, from the rows the
// models still have to predict out of the row count of the table the
// statement reads (FROM name), which DuckDB estimates in duckdb_tables().
// While a model downloads for more than two seconds, the same line shows
// the download instead (the shell routes downloads to the watcher), so
// that two lines never fight over the terminal's last row.

// Timing of the query progress line.
const (
	queryProgressAfter = 2 * time.Second        // shorter statements never draw it
	queryProgressEvery = 250 * time.Millisecond // at most four redraws a second
)

// queryWatchKey is the context key of the shell's queryWatcher.
type queryWatchKey struct{}

// withQueryWatcher makes the statements run with ctx report to w.
func withQueryWatcher(ctx context.Context, w *queryWatcher) context.Context {
	return context.WithValue(ctx, queryWatchKey{}, w)
}

// watchQuery is called by Runner.Exec as a statement starts; the function
// it returns, when DuckDB has finished the statement. Outside the shell
// (scripts, pipes, -c) it does nothing.
func watchQuery(ctx context.Context, conn *sql.Conn, query string) (stop func()) {
	w, _ := ctx.Value(queryWatchKey{}).(*queryWatcher)
	if w == nil {
		return func() {}
	}
	return w.watch(ctx, conn, query)
}

// queryWatcher draws the progress line of the statements of one shell.
type queryWatcher struct {
	w            io.Writer     // the terminal
	width        func() int    // the terminal's width in columns (0: unknown)
	after, every time.Duration // delay before the first draw, between draws
	seen         map[any]bool  // driver connections set up for progress

	mu        sync.Mutex
	downloads map[string]*download // running downloads, by URI
}

// download is the state of one running download.
type download struct {
	start time.Time
	done  int64
}

// downloadProgress is the shell's source.Progress: it records downloads
// for the line that the running statement's watcher draws.
func (qw *queryWatcher) downloadProgress(uri string, done int64, finished bool) {
	qw.mu.Lock()
	defer qw.mu.Unlock()
	if finished {
		delete(qw.downloads, uri)
		return
	}
	d := qw.downloads[uri]
	if d == nil {
		d = &download{start: time.Now()}
		qw.downloads[uri] = d
	}
	d.done = done
}

// downloadLine returns the text for the download that has run longest,
// if it has run more than the watcher's delay.
func (qw *queryWatcher) downloadLine() (string, bool) {
	qw.mu.Lock()
	defer qw.mu.Unlock()
	var (
		uri    string
		oldest *download
	)
	for u, d := range qw.downloads {
		if oldest == nil || d.start.Before(oldest.start) {
			uri, oldest = u, d
		}
	}
	if oldest == nil || time.Since(oldest.start) < qw.after {
		return "", false
	}
	return downloadText(uri, oldest.done, time.Since(oldest.start)), true
}

// newQueryWatcher draws on the terminal out. It returns nil, and no line
// is ever drawn, when out is not a terminal.
func newQueryWatcher(out io.Writer) *queryWatcher {
	f, ok := out.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	width := func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
	return &queryWatcher{w: out, width: width, after: queryProgressAfter, every: queryProgressEvery,
		seen: map[any]bool{}, downloads: map[string]*download{}}
}

// progressProbe is what can be measured of a running statement; each
// function may be nil.
type progressProbe struct {
	percent func() float64             // DuckDB's percentage; < 0 when it has none
	stats   func() []engine.ModelStats // the engine's per-model statistics
}

// probe finds, through the connection, DuckDB's progress and the engine's
// statistics. It runs before the statement, while the connection is free:
// database/sql holds it while a statement runs.
func (qw *queryWatcher) probe(ctx context.Context, conn *sql.Conn) progressProbe {
	var p progressProbe
	first := false
	conn.Raw(func(dc any) error {
		ec, ok := dc.(*engine.Conn)
		if !ok {
			return nil
		}
		first = !qw.seen[ec]
		p.stats = ec.Engine().ModelStats
		p.percent = duckdbPercent(ec.Unwrap())
		return nil
	})
	if first && p.percent != nil {
		// DuckDB measures progress only with its progress bar on; augur
		// draws the line itself, so DuckDB's own printing stays off.
		if _, err := conn.ExecContext(ctx, "SET enable_progress_bar = true; SET enable_progress_bar_print = false"); err != nil {
			p.percent = nil // tried again at the next statement
		} else {
			conn.Raw(func(dc any) error { qw.seen[dc] = true; return nil })
		}
	}
	return p
}

// duckdbPercent returns a function that reads duckdb_query_progress of a
// duckdb-go connection, or nil if dc is not one. duckdb-go wraps that C
// function (mapping.QueryProgress) but keeps the connection handle it
// needs unexported, so the handle is read by reflection; the type check
// makes a duckdb-go that changes the field lose the percentage, not crash
// (TestDuckDBPercent fails then, to say so).
func duckdbPercent(dc any) func() float64 {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeOf(mapping.Connection{}) {
		return nil
	}
	c := *(*mapping.Connection)(unsafe.Pointer(f.UnsafeAddr()))
	if c.Ptr == nil {
		return nil
	}
	return func() float64 {
		qp := mapping.QueryProgress(c)
		pct, _, _ := mapping.QueryProgressTypeMembers(&qp)
		return pct
	}
}

// watch starts watching one statement; stop clears the line, if drawn,
// before it returns.
func (qw *queryWatcher) watch(ctx context.Context, conn *sql.Conn, query string) (stop func()) {
	p := qw.probe(ctx, conn)
	start := time.Now()
	base := modelRows(p.stats)
	var total int64
	if p.stats != nil && hasPredict(query) {
		total = inputRows(ctx, conn, query)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		wait := time.NewTimer(qw.after)
		defer wait.Stop()
		select {
		case <-done:
			return
		case <-wait.C:
		}
		tick := time.NewTicker(qw.every)
		defer tick.Stop()
		for {
			st := progressState{Elapsed: time.Since(start), Percent: -1, Total: total}
			if p.percent != nil {
				st.Percent = p.percent()
			}
			st.Models = modelDeltas(base, p.stats)
			text := st.line(qw.width())
			if dl, ok := qw.downloadLine(); ok {
				text = fitWidth(dl, qw.width())
			}
			fmt.Fprint(qw.w, "\r"+text+"\x1b[K")
			select {
			case <-done:
				fmt.Fprint(qw.w, "\r\x1b[K")
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// modelRows returns the rows predicted so far by each model.
func modelRows(stats func() []engine.ModelStats) map[string]int64 {
	m := map[string]int64{}
	if stats == nil {
		return m
	}
	for _, s := range stats() {
		m[s.Model] = s.Rows
	}
	return m
}

// modelDelta is what one model predicted during the statement.
type modelDelta struct {
	Model string
	Rows  int64
}

// modelDeltas returns the models that predicted rows since base, in the
// engine's order (by name).
func modelDeltas(base map[string]int64, stats func() []engine.ModelStats) []modelDelta {
	if stats == nil {
		return nil
	}
	var out []modelDelta
	for _, s := range stats() {
		if d := s.Rows - base[s.Model]; d > 0 {
			out = append(out, modelDelta{s.Model, d})
		}
	}
	return out
}

var (
	predictCall = regexp.MustCompile(`(?i)\bML_PREDICT\s*\(`)
	fromTable   = regexp.MustCompile(`(?i)\bFROM\s+([A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")+")\s*(?:$|[^A-Za-z0-9_.(])`)
)

func hasPredict(query string) bool { return predictCall.MatchString(query) }

// inputRows returns DuckDB's estimate of the rows of the first table the
// statement reads FROM, or 0 when there is none or it is not a table.
func inputRows(ctx context.Context, conn *sql.Conn, query string) int64 {
	m := fromTable.FindStringSubmatch(query)
	if m == nil {
		return 0
	}
	name, cmp := m[1], "lower(table_name) = lower(?)"
	if strings.HasPrefix(name, `"`) {
		name, cmp = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`), "table_name = ?"
	}
	var n sql.NullInt64
	q := "SELECT max(estimated_size) FROM duckdb_tables() WHERE " + cmp + " AND schema_name = current_schema() AND database_name = current_database()"
	if err := conn.QueryRowContext(ctx, q, name).Scan(&n); err != nil || !n.Valid {
		return 0
	}
	return n.Int64
}

// progressState is one drawing of the progress line.
type progressState struct {
	Elapsed time.Duration
	Percent float64 // DuckDB's; < 0 when unknown
	Models  []modelDelta
	Total   int64 // rows of the input table; 0 when unknown
}

// progressBarWidth is the bar's width in cells, as DuckDB's CLI draws it.
const progressBarWidth = 30

// line renders the state in at most width columns (0: no limit).
func (st progressState) line(width int) string {
	var b strings.Builder
	if st.Percent >= 0 {
		pct := min(st.Percent, 100)
		full := int(pct / 100 * progressBarWidth)
		fmt.Fprintf(&b, "%3.0f%% ▕%s%s▏", pct, strings.Repeat("█", full), strings.Repeat(" ", progressBarWidth-full))
	} else {
		fmt.Fprintf(&b, "running %s", st.Elapsed.Truncate(time.Second))
	}
	secs := st.Elapsed.Seconds()
	var most modelDelta
	for _, m := range st.Models {
		fmt.Fprintf(&b, " %s %s rows %s/s", untrusted.Clean(m.Model), groupDigits(m.Rows), groupDigits(int64(float64(m.Rows)/secs)))
		if m.Rows > most.Rows {
			most = m
		}
	}
	if left, ok := st.left(most.Rows); ok {
		fmt.Fprintf(&b, " · %s left", left)
	}
	return fitWidth(b.String(), width)
}

// fitWidth shortens s to less than width columns (0: no limit): a line
// that wraps could not be cleared with "\r".
func fitWidth(s string, width int) string {
	if width > 1 && utf8.RuneCountInString(s) >= width {
		s = string([]rune(s)[:width-2]) + "…"
	}
	return s
}

// left estimates the time left from DuckDB's percentage or, without one,
// from the rows predicted out of the input's.
func (st progressState) left(rows int64) (time.Duration, bool) {
	var secs float64
	switch {
	case st.Percent > 0 && st.Percent < 100:
		secs = st.Elapsed.Seconds() * (100 - st.Percent) / st.Percent
	case st.Percent < 0 && st.Total > 0 && rows > 0 && rows < st.Total:
		secs = st.Elapsed.Seconds() * float64(st.Total-rows) / float64(rows)
	default:
		return 0, false
	}
	return time.Duration(secs+0.5) * time.Second, true
}

// groupDigits writes n with thousands separators, as DuckDB's CLI does in
// row counts.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
