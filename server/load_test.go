package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	_ "github.com/augurdb/augur" // every flavor and SQL function, as augur serve has them
	"github.com/augurdb/augur/internal/peakrss"
	"github.com/augurdb/augur/runtime/onnx"
)

// loadClients is how many clients the load test runs at once.
const loadClients = 32

// loadQuery is one kind of query of the load test.
type loadQuery struct {
	name string
	sql  string
}

// TestLoad runs loadClients clients against one server for AUGUR_LOAD
// (a duration: scripts/test.sh runs 10s; bench/README.md reports longer
// runs), each issuing ML_PREDICT queries of a scikit-learn forest and an
// ONNX image classifier in turn. It fails on any error or wrong answer,
// and when the resident memory grows between the middle and the end of
// the run by more than allowed; it logs throughput, p50/p99 latency per
// query kind and the resident memory at start, middle and end.
//
//	AUGUR_LOAD=60s go test ./server -run TestLoad -v
func TestLoad(t *testing.T) {
	spec := os.Getenv("AUGUR_LOAD")
	if spec == "" {
		t.Skip("the load test runs with AUGUR_LOAD=<duration> (scripts/test.sh sets 10s)")
	}
	dur, err := time.ParseDuration(spec)
	if err != nil || dur <= 0 {
		t.Fatalf("AUGUR_LOAD=%q is not a positive duration such as 10s", spec)
	}
	if err := onnx.Init(); err != nil {
		t.Fatalf("the load test predicts with an ONNX model: %v", err)
	}
	addr := startServer(t, Config{})
	queries := loadSetup(t, addr)
	want := loadAnswers(t, addr, queries)

	rss := func() int64 {
		n, err := peakrss.Current()
		if err != nil {
			t.Fatalf("resident memory: %v", err)
		}
		return n
	}
	start := rss()
	var mid atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	go func() {
		select {
		case <-time.After(dur / 2):
			mid.Store(rss())
		case <-ctx.Done():
		}
	}()

	lat := make([][]time.Duration, len(queries))
	var (
		mu     sync.Mutex
		errs   []string
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	began := time.Now()
	for client := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine, err := loadClient(ctx, addr, client, queries, want)
			mu.Lock()
			defer mu.Unlock()
			for i := range lat {
				lat[i] = append(lat[i], mine[i]...)
			}
			if err != nil {
				failed.Add(1)
				errs = append(errs, fmt.Sprintf("client %d: %v", client, err))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	end := rss()
	if len(errs) > 0 {
		t.Fatalf("%d of %d clients failed:\n%s", failed.Load(), loadClients, strings.Join(errs, "\n"))
	}
	total := 0
	for i, q := range queries {
		total += len(lat[i])
		p50, p99 := percentiles(lat[i])
		t.Logf("%-7s %6d queries  %7.1f/s  p50 %6.1f ms  p99 %6.1f ms", q.name, len(lat[i]),
			float64(len(lat[i]))/elapsed.Seconds(), ms(p50), ms(p99))
	}
	t.Logf("%d clients, %s: %d queries, %.1f/s, 0 errors; RSS start %d MB, middle %d MB, end %d MB",
		loadClients, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds(),
		start>>20, mid.Load()>>20, end>>20)
	if total == 0 {
		t.Fatal("no query finished")
	}
	// Stable memory: after the first half has warmed every session,
	// cache and arena up, the second half must not keep growing.
	if m := mid.Load(); m > 0 && end > m+m/4+64<<20 {
		t.Errorf("resident memory grew from %d MB in the middle of the run to %d MB at its end", m>>20, end>>20)
	}
}

// loadSetup creates the table and the two models, and returns the
// queries the clients run.
func loadSetup(t *testing.T, addr string) []loadQuery {
	t.Helper()
	abs := func(p string) string {
		a, err := filepath.Abs(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(a, "'", "''")
	}
	c := connect(t, addr)
	for _, q := range []string{
		"CREATE TABLE flowers AS SELECT * FROM read_csv('" + abs("examples/data/iris.csv") + "')",
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING '" + abs("examples/models/iris_forest.pkl") + "'",
		"CREATE MODEL digits MODEL_TYPE image_classifier USING '" + abs("examples/models/digits.onnx") + "'",
	} {
		if _, err := c.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return []loadQuery{
		{"forest", "SELECT species || ':' || ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) FROM flowers ORDER BY id"},
		{"digits", "SELECT ML_PREDICT(digits, image(file)).label::text FROM glob('" + abs("examples/images") + "/*.png') ORDER BY file"},
	}
}

// loadAnswers runs each query once and returns its rows, which every
// later run must reproduce.
func loadAnswers(t *testing.T, addr string, queries []loadQuery) [][]string {
	t.Helper()
	c := connect(t, addr)
	var want [][]string
	for _, q := range queries {
		got, err := loadRun(context.Background(), c, q.sql)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		if len(got) < 10 {
			t.Fatalf("%s: %d rows, want at least 10", q.name, len(got))
		}
		want = append(want, got)
	}
	return want
}

// loadClient runs queries in turn on its own connection until ctx ends,
// and returns each kind's latencies.
func loadClient(ctx context.Context, addr string, client int, queries []loadQuery, want [][]string) ([][]time.Duration, error) {
	lat := make([][]time.Duration, len(queries))
	c, err := pgx.Connect(context.Background(), "postgres://load@"+addr+"/db?sslmode=disable")
	if err != nil {
		return lat, err
	}
	defer c.Close(context.Background())
	for i := client; ctx.Err() == nil; i++ {
		k := i % len(queries)
		t0 := time.Now()
		got, err := loadRun(ctx, c, queries[k].sql)
		if ctx.Err() != nil {
			break // the run ended during this query: neither a result nor a failure
		}
		if err != nil {
			return lat, fmt.Errorf("%s: %w", queries[k].name, err)
		}
		lat[k] = append(lat[k], time.Since(t0))
		if !slices.Equal(got, want[k]) {
			return lat, fmt.Errorf("%s: the answer changed under load", queries[k].name)
		}
	}
	return lat, nil
}

func loadRun(ctx context.Context, c *pgx.Conn, q string) ([]string, error) {
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
