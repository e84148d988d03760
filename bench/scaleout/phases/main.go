// Command phases times what augur-beam does for one statement, phase by
// phase, without Beam: package scaleout's planning, job database, worker
// setup (model load), each split, the merge and the final query, in one
// process, as bench/scaleout/run.sh reports them next to augur-beam's
// wall time (the rest is Beam's: pipeline submission, worker startup,
// staging, the runner's scheduling).
//
//	go run ./bench/scaleout/phases -db DB -c SQL [-workers N] [-split_size BYTES] [-parallel N] [-plan_only]
//
// It prints one JSON object. Splits run one after another (-parallel 1,
// as one Beam worker runs its bundle's splits) or N at a time on one
// worker's models.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/cli"
	"github.com/augurdb/augur/scaleout"
)

type splitTime struct {
	Index   int      `json:"index"`
	Files   int      `json:"files"`
	Rows    [2]int64 `json:"rows,omitempty"`
	Bytes   int64    `json:"bytes"`
	Seconds float64  `json:"seconds"`
	// Partials: the shards' Parquet files this split emits (the bytes
	// Beam shuffles); COPY: rows written.
	PartialBytes int   `json:"partial_bytes,omitempty"`
	PartialFiles int   `json:"partial_files,omitempty"`
	RowsWritten  int64 `json:"rows_written,omitempty"`
}

type report struct {
	Kind              string      `json:"kind"`
	Splits            int         `json:"splits"`
	Shards            int         `json:"shards"`
	Groups            int         `json:"groups"`
	OpenSeconds       float64     `json:"open_seconds"`
	PrepareSeconds    float64     `json:"prepare_seconds"`
	JobDBSeconds      float64     `json:"job_db_seconds"`
	JobDBBytes        int64       `json:"job_db_bytes"`
	PlanJSONBytes     int         `json:"plan_json_bytes"`
	WorkerNoModels    float64     `json:"worker_open_no_models_seconds"`
	WorkerOpenSeconds float64     `json:"worker_open_seconds"`
	SplitsSeconds     float64     `json:"splits_seconds"`
	SplitTimes        []splitTime `json:"split_times"`
	ShuffleBytes      int         `json:"shuffle_bytes"`
	ShuffleFiles      int         `json:"shuffle_files"`
	MergeSeconds      float64     `json:"merge_seconds"`
	FinishSeconds     float64     `json:"finish_seconds"`
	TotalSeconds      float64     `json:"total_seconds"`
}

func main() {
	dbPath := flag.String("db", "", "augur database")
	stmt := flag.String("c", "", "statement")
	workers := flag.Int("workers", 1, "workers the plan is made for")
	splitSize := flag.Int64("split_size", 0, "target bytes per split")
	parallel := flag.Int("parallel", 1, "splits at a time")
	planOnly := flag.Bool("plan_only", false, "stop after planning and the job database")
	flag.Parse()
	if err := run(*dbPath, *stmt, *workers, *splitSize, *parallel, *planOnly); err != nil {
		fmt.Fprintln(os.Stderr, "phases:", err)
		os.Exit(1)
	}
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }

func run(dbPath, stmt string, workers int, splitSize int64, parallel int, planOnly bool) error {
	ctx := context.Background()
	var r report
	start := time.Now()
	t := start
	db, err := augur.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	r.OpenSeconds = since(t)
	tmp, err := os.MkdirTemp("", "augur-phases-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	t = time.Now()
	plan, err := scaleout.Prepare(ctx, conn, stmt, scaleout.Options{Workers: workers, SplitBytes: splitSize, Temp: tmp})
	if err != nil {
		return err
	}
	if err := plan.PrepareTarget(); err != nil {
		return err
	}
	r.PrepareSeconds = since(t)
	r.Kind, r.Splits, r.Shards, r.Groups = string(plan.Kind), len(plan.Splits), plan.Shards, plan.Groups

	t = time.Now()
	if err := plan.WriteJobDB(ctx, conn); err != nil {
		return err
	}
	r.JobDBSeconds = since(t)
	if st, err := os.Stat(plan.JobDB); err == nil {
		r.JobDBBytes = st.Size()
	}
	if b, err := json.Marshal(plan); err == nil {
		r.PlanJSONBytes = len(b)
	}
	if planOnly {
		r.TotalSeconds = since(start)
		out, _ := json.MarshalIndent(r, "", " ")
		fmt.Println(string(out))
		return nil
	}

	// A worker without models (what the merge DoFn opens), then one with
	// them (the split DoFns' setup).
	t = time.Now()
	bare := *plan
	bare.Models = nil
	w0, err := scaleout.OpenWorker(ctx, &bare)
	if err != nil {
		return err
	}
	r.WorkerNoModels = since(t)
	t = time.Now()
	w, err := scaleout.OpenWorker(ctx, plan)
	if err != nil {
		return err
	}
	r.WorkerOpenSeconds = since(t)

	t = time.Now()
	var (
		mu     sync.Mutex
		shards = map[int][][]byte{}
		first  error
		wg     sync.WaitGroup
		next   = make(chan scaleout.Split)
	)
	for i := 0; i < max(parallel, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				st := splitTime{Index: s.Index, Files: len(s.Files), Rows: s.Rows, Bytes: s.Bytes}
				t0 := time.Now()
				var err error
				if plan.Kind == scaleout.Copy {
					st.RowsWritten, err = w.Copy(ctx, s)
				} else {
					var out []scaleout.Shard
					out, err = w.Partials(ctx, s)
					for _, sh := range out {
						st.PartialBytes += len(sh.Data)
						st.PartialFiles++
					}
					mu.Lock()
					for _, sh := range out {
						shards[sh.Shard] = append(shards[sh.Shard], sh.Data)
					}
					mu.Unlock()
				}
				st.Seconds = since(t0)
				mu.Lock()
				r.SplitTimes = append(r.SplitTimes, st)
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range plan.Pending() {
		next <- s
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	r.SplitsSeconds = since(t)
	sort.Slice(r.SplitTimes, func(i, j int) bool { return r.SplitTimes[i].Index < r.SplitTimes[j].Index })
	for _, s := range r.SplitTimes {
		r.ShuffleBytes += s.PartialBytes
		r.ShuffleFiles += s.PartialFiles
	}

	t = time.Now()
	keys := make([]int, 0, len(shards))
	for k := range shards {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		if err := w0.Merge(ctx, k, shards[k]); err != nil {
			return err
		}
	}
	r.MergeSeconds = since(t)
	w.Close()
	w0.Close()

	t = time.Now()
	final, err := plan.Finish(ctx, conn)
	if err != nil {
		return err
	}
	if err := printTo(ctx, conn, final, io.Discard); err != nil {
		return err
	}
	r.FinishSeconds = since(t)
	r.TotalSeconds = since(start)
	out, _ := json.MarshalIndent(r, "", " ")
	fmt.Println(string(out))
	return nil
}

// printTo runs the final statement as augur-beam prints it.
func printTo(ctx context.Context, conn *sql.Conn, q string, w io.Writer) error {
	format, err := cli.ParseFormat("table")
	if err != nil {
		return err
	}
	r := &cli.Runner{Conn: conn, Printer: cli.NewPrinter(w, format), Help: w}
	err = r.Exec(ctx, q)
	r.Printer.Flush()
	return err
}
