// Command sqlbench times ML_PREDICT over the sklearn benchmark data (the
// augur side of bench/sklearn/run.sh) and shows where the time goes.
//
//	go run ./bench/sklearn/sqlbench -dir .cache/bench/sklearn
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/augurdb/augur"
	_ "github.com/augurdb/augur/internal/testflavor"
)

func main() {
	dir := flag.String("dir", ".cache/bench/sklearn", "folder written by bench.py")
	runs := flag.Int("runs", 3, "runs per query; the best is reported")
	threads := flag.Int("threads", 0, "DuckDB threads (0: DuckDB's default)")
	profile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*dir, *runs, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "sqlbench:", err)
		pprof.StopCPUProfile()
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
		fmt.Sprintf(`CREATE TABLE d AS SELECT * FROM read_csv('%s/data.csv')`, abs),
		`CREATE TABLE l AS SELECT [x0, x1, x2, x3, x4, x5, x6, x7] AS f FROM d`,
		fmt.Sprintf(`CREATE MODEL forest USING '%s/forest.joblib'`, abs),
		fmt.Sprintf(`CREATE MODEL logistic USING '%s/logistic.joblib'`, abs),
		`CREATE MODEL trivial FLAVOR test MODEL_TYPE class`,
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
		{"forest (list column)", `SELECT sum(ML_PREDICT(forest, f)) FROM l`},
		{"forest (8 columns)", `SELECT sum(ML_PREDICT(forest, x0, x1, x2, x3, x4, x5, x6, x7)) FROM d`},
		{"logistic (list column)", `SELECT sum(ML_PREDICT(logistic, f)) FROM l`},
		{"logistic (8 columns)", `SELECT sum(ML_PREDICT(logistic, x0, x1, x2, x3, x4, x5, x6, x7)) FROM d`},
		{"trivial model (list column)", `SELECT sum(ML_PREDICT(trivial, f[1])) FROM l`},
		{"scan only (list column)", `SELECT sum(list_sum(f)) FROM l`},
	} {
		best, err := timeQuery(db, c.q, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.q, err)
		}
		fmt.Printf("augur %-28s rows=%d seconds=%.3f rows_per_s=%.0f\n", c.name, rows, best.Seconds(), float64(rows)/best.Seconds())
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
