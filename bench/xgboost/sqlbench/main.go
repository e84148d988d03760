// Command sqlbench times ML_PREDICT over the xgboost benchmark data (the
// augur side of bench/xgboost/run.sh).
//
//	go run ./bench/xgboost/sqlbench -dir .cache/bench/xgboost
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/augurdb/augur"
)

func main() {
	dir := flag.String("dir", ".cache/bench/xgboost", "folder written by bench.py")
	runs := flag.Int("runs", 3, "runs per query; the best is reported")
	threads := flag.Int("threads", 0, "DuckDB threads (0: DuckDB's default)")
	flag.Parse()
	if err := run(*dir, *runs, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "sqlbench:", err)
		os.Exit(1)
	}
}

func run(dir string, runs, threads int) error {
	db, err := augur.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	abs, _ := filepath.Abs(dir)
	setup := []string{
		fmt.Sprintf(`CREATE TABLE d AS SELECT * FROM read_csv('%s/data.csv', nullstr = 'nan', types = {'x0': 'DOUBLE', 'x1': 'DOUBLE', 'x2': 'DOUBLE', 'x3': 'DOUBLE', 'x4': 'DOUBLE', 'x5': 'DOUBLE', 'x6': 'DOUBLE', 'x7': 'DOUBLE'})`, abs),
		// NaN, not NULL, is XGBoost's missing value.
		`UPDATE d SET x0 = coalesce(x0, 'NaN'), x1 = coalesce(x1, 'NaN'), x2 = coalesce(x2, 'NaN'), x3 = coalesce(x3, 'NaN'),
			x4 = coalesce(x4, 'NaN'), x5 = coalesce(x5, 'NaN'), x6 = coalesce(x6, 'NaN'), x7 = coalesce(x7, 'NaN')`,
		`CREATE TABLE l AS SELECT [x0, x1, x2, x3, x4, x5, x6, x7] AS f FROM d`,
		fmt.Sprintf(`CREATE MODEL binary USING '%s/binary.ubj'`, abs),
		fmt.Sprintf(`CREATE MODEL multi USING '%s/multi.ubj'`, abs),
	}
	if threads > 0 {
		setup = append(setup, fmt.Sprintf("SET threads = %d", threads))
	}
	for _, q := range setup {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	var rows int64
	if err := db.QueryRow(`SELECT count(*) FROM d`).Scan(&rows); err != nil {
		return err
	}
	for _, c := range []struct{ name, q string }{
		{"binary (list column)", `SELECT sum(ML_PREDICT(binary, f)) FROM l`},
		{"binary (8 columns)", `SELECT sum(ML_PREDICT(binary, x0, x1, x2, x3, x4, x5, x6, x7)) FROM d`},
		{"multi (list column)", `SELECT sum(ML_PREDICT(multi, f)) FROM l`},
		{"multi (8 columns)", `SELECT sum(ML_PREDICT(multi, x0, x1, x2, x3, x4, x5, x6, x7)) FROM d`},
	} {
		best, err := timeQuery(db, c.q, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.q, err)
		}
		fmt.Printf("augur %-22s rows=%d seconds=%.3f rows_per_s=%.0f\n", c.name, rows, best.Seconds(), float64(rows)/best.Seconds())
	}
	return nil
}

func timeQuery(db *sql.DB, q string, runs int) (time.Duration, error) {
	best := time.Duration(0)
	for range runs {
		start := time.Now()
		var v any
		if err := db.QueryRow(q).Scan(&v); err != nil {
			return 0, err
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	return best, nil
}
