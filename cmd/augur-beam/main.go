// Command augur-beam runs one augur statement on Apache Beam: the same
// SQL and models as augur, over input too large for one machine.
//
//	augur-beam DATABASE -c "SQL" [--format table|json|csv|...] [--runner=prism|universal|flink|spark|dataflow]
//	           [--workers N] [--split_size BYTES] [--job_dir DIR] [--attempts N] [Beam's runner flags]
//
// It lives in a module of its own, so that the augur binary and
// `go build ./...` of augur never link Beam. The statement is planned by
// package scaleout; this command builds the Beam pipeline, runs it, and
// prints the result exactly as `augur DATABASE -c "SQL"` would.
//
// The same binary is the pipeline's worker: a runner starts it with
// --worker (Beam's harness flags), or a PROCESS environment with --id
// and --provision_endpoint, and beam.Init never returns then.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/cli"
	_ "github.com/augurdb/augur/internal/glibctune" // glibc on huge pages, as augur runs: launcher and workers load models
	"github.com/augurdb/augur/scaleout"
)

const usage = `Usage: augur-beam DATABASE -c SQL [flags] [Beam runner flags]

Runs one statement with augur's models on Apache Beam. DATABASE is an augur
database: its models (and their files, or the bytes embedded in it) travel
to the workers; its tables do not. The statement reads its input with
read_parquet('files, globs or a list') and is one of

  COPY (SELECT ... ML_PREDICT(m, ...) ... FROM read_parquet(...) [WHERE ...])
      TO 'folder' (FORMAT parquet)      one part-NNNNN file per split
  SELECT keys, aggregates FROM (... ML_PREDICT ... read_parquet(...) ...)
      GROUP BY keys [HAVING ...] [ORDER BY ...] [LIMIT ...]
                                        count, count(DISTINCT x), sum, avg,
                                        min, max, bool_and, bool_or, bit_and,
                                        bit_or (also in COPY)

and prints what augur DATABASE -c SQL prints.

Flags:
  -c SQL              the statement (required)
  --format FORMAT     table (default), csv, json, jsonl, markdown, box, line,
                      list or tsv, as augur prints them
  --runner NAME       prism (default: in-process, no Java or Docker),
                      universal (a job server: --endpoint HOST:PORT and
                      --environment_type EXTERNAL|PROCESS|DOCKER), flink,
                      spark or dataflow
  --workers N         the splits are dealt to N workers (default: the CPUs,
                      at most 8); the input is cut into about 4 splits a
                      worker. On a cluster each worker is a process of the
                      runner's; in-process prism may run several splits of
                      a worker at once, each loading the models
  --split_size BYTES  target size of a split instead (a large Parquet file
                      is cut between row groups)
  --job_dir DIR       where the job's folder (job database, partial
                      aggregates, records of finished splits) is made, a
                      new one for each run, removed at the end; on a
                      cluster, a folder every worker and the launcher see.
                      Default: the system's temporary folder
  --attempts N        submit the job up to N times (default 3); a COPY job
                      run again does only the splits that did not finish. A
                      worker that cannot start (a model file changed since
                      CREATE MODEL, say) or a split whose query fails as it
                      would again (a conversion, a model refusing its
                      input) fails the job at once
  --explain           print the plan (splits, what each worker runs, the
                      final query) instead of running it
  --verbose           show the runner's log

Workers on a job server (--runner universal, flink or spark), as Beam's
--environment_type and --environment_config:
  EXTERNAL, HOST:50000
                      a worker pool (Beam's Go container: boot --worker_pool)
                      on each worker machine starts the workers
  PROCESS, '{"command": "/path/to/augur-beam"}'
                      the runner starts each worker itself by running this
                      command (prism: on the job server's machine; Flink,
                      Spark: beside their task managers or executors), the same
                      augur-beam as the launcher's, at that path there;
                      "env": {"NAME": "value"} adds environment variables.
                      Beam's boot cannot be the command on prism 2.77
  DOCKER, IMAGE       the worker image (cmd/augur-beam/Dockerfile)

The launcher passes its own binary as the workers' binary (--worker_binary),
since augur needs cgo and Beam's Go SDK would otherwise compile the pipeline
without it.
`

func main() {
	args := os.Args[1:]
	db := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		db, args = args[0], args[1:]
	}
	var o options
	// ContinueOnError: flag's ExitOnError would exit for --help before
	// the usage is printed.
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	o.register(flag.CommandLine)
	flag.CommandLine.SetOutput(io.Discard)
	if err := flag.CommandLine.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "Error: %v\nTry 'augur-beam --help'.\n", err)
		os.Exit(2)
	}
	// In a worker, the runner's flags start Beam's harness here, which
	// does not return.
	if err := processWorker(); err != nil {
		fmt.Fprintf(os.Stderr, "augur-beam: %v\n", err)
		os.Exit(1)
	}
	beam.Init()
	rest := flag.Args()
	if db == "" && len(rest) > 0 {
		db, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		// Flags after it were not read: flag parsing stops at the first
		// argument that is not a flag.
		fmt.Fprintf(os.Stderr, "Error: unexpected argument %q (one DATABASE only; flags after it are not read)\nTry 'augur-beam --help'.\n", rest[0])
		os.Exit(2)
	}
	o.database = db
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, o, os.Stdout, os.Stderr))
}

// provisionEndpoint is set when a runner's PROCESS environment starts
// this binary as a worker (--environment_config='{"command": "augur-beam"}').
// Beam's Java runners (Flink, Spark) also pass --artifact_endpoint, which
// a worker that is its own binary does not need.
var (
	provisionEndpoint = flag.String("provision_endpoint", "", "Beam's provision service, for a worker started by a PROCESS environment")
	_                 = flag.String("artifact_endpoint", "", "Beam's artifact service (not used: the worker is this binary)")
)

// processWorker makes this binary a worker when a runner's PROCESS
// environment started it. The runner passes --id and
// --provision_endpoint (prism only these; Beam's Java runners the other
// endpoints too), as Beam's Go container (boot) expects: boot asks the
// provision service for the endpoints and the pipeline options, fetches
// the staged worker binary, and runs it with Beam's harness flags. This
// does the same without the copy (this binary is the worker), and reads
// the worker id as prism 2.77 passes it: --id='ID', single quotes
// included (prism's environments.go hands them to exec, with no shell to
// remove them), which boot sends on as its worker id and prism then
// refuses ("not registered in worker pool"). It sets the harness's
// flags, for beam.Init to run the harness.
func processWorker() error {
	if *provisionEndpoint == "" || flag.Lookup("worker").Value.String() == "true" {
		return nil
	}
	id := flag.Lookup("id").Value.String()
	if len(id) >= 2 && id[0] == '\'' && id[len(id)-1] == '\'' {
		id = id[1 : len(id)-1]
	}
	if id == "" {
		return errors.New("--provision_endpoint without --id: not started by a Beam runner")
	}
	info, err := tools.ProvisionInfo(grpcx.WriteWorkerID(context.Background(), id), *provisionEndpoint)
	if err != nil {
		return fmt.Errorf("Beam worker %s: %w", id, err)
	}
	opts, err := tools.ProtoToJSON(info.GetPipelineOptions())
	if err != nil {
		return fmt.Errorf("Beam worker %s: pipeline options: %w", id, err)
	}
	set := map[string]string{"worker": "true", "id": id, "options": opts}
	// The provision service's endpoints, else the runner's flags (as boot
	// takes them).
	for name, e := range map[string]string{"control_endpoint": info.GetControlEndpoint().GetUrl(), "logging_endpoint": info.GetLoggingEndpoint().GetUrl()} {
		if e == "" {
			e = flag.Lookup(name).Value.String()
		}
		if e == "" {
			return fmt.Errorf("Beam worker %s: neither the provision service at %s nor the runner named the %s", id, *provisionEndpoint, strings.ReplaceAll(name, "_", " "))
		}
		set[name] = e
	}
	for name, value := range set {
		if err := flag.Set(name, value); err != nil {
			return fmt.Errorf("Beam worker %s: --%s: %w", id, name, err)
		}
	}
	if caps := info.GetRunnerCapabilities(); len(caps) > 0 {
		os.Setenv("RUNNER_CAPABILITIES", strings.Join(caps, " "))
	}
	if s := info.GetStatusEndpoint().GetUrl(); s != "" {
		os.Setenv("STATUS_ENDPOINT", s)
	}
	fmt.Fprintf(os.Stderr, "augur-beam: Beam worker %s (PROCESS environment, pid %d) provisioned by %s\n", id, os.Getpid(), *provisionEndpoint)
	return nil
}

// workerBinary is the binary to stage for the workers: this one (exe),
// or, when a PROCESS environment's command is this very file, an empty
// placeholder (the caller removes it). Such a worker runs as itself
// (processWorker) and never fetches what was staged, so the 150-200 MB
// upload to the job server would be time lost; a command that is any
// other file (Beam's boot, which fetches and runs the staged binary)
// gets this binary staged, as for the other environments.
func workerBinary(exe, envType, envConfig string) (string, error) {
	if !strings.EqualFold(envType, "process") {
		return exe, nil
	}
	var cfg struct{ Command string }
	if json.Unmarshal([]byte(envConfig), &cfg) != nil || cfg.Command == "" {
		return exe, nil // Beam reports the configuration's errors
	}
	self, err1 := os.Stat(exe)
	cmd, err2 := os.Stat(cfg.Command)
	if err1 != nil || err2 != nil || !os.SameFile(self, cmd) {
		return exe, nil
	}
	f, err := os.CreateTemp("", "augur-beam-unstaged-*")
	if err != nil {
		return "", fmt.Errorf("the placeholder worker binary: %w", err)
	}
	return f.Name(), f.Close()
}

// options are augur-beam's own flags (Beam's are registered by its
// packages on the same flag set).
type options struct {
	database  string
	sql       string
	format    string
	workers   int
	splitSize int64
	jobDir    string
	attempts  int
	explain   bool
	verbose   bool
}

func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.sql, "c", "", "the statement")
	fs.StringVar(&o.format, "format", "table", "output format")
	fs.IntVar(&o.workers, "workers", min(runtime.NumCPU(), 8), "workers")
	fs.Int64Var(&o.splitSize, "split_size", 0, "target bytes per split")
	fs.StringVar(&o.jobDir, "job_dir", "", "the job's folder")
	fs.IntVar(&o.attempts, "attempts", 3, "submissions of the job")
	fs.BoolVar(&o.explain, "explain", false, "print the plan instead of running it")
	fs.BoolVar(&o.verbose, "verbose", false, "show the runner's log")
}

// run plans, submits and finishes one statement; it returns the exit
// status (1 for a failed statement, 2 for a bad command line).
func run(ctx context.Context, o options, stdout, stderr io.Writer) int {
	fail := func(status int, err error) int {
		fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
		return status
	}
	format, err := cli.ParseFormat(o.format)
	if err != nil {
		return fail(2, err)
	}
	if o.sql == "" {
		return fail(2, errors.New("-c SQL is required"))
	}
	if o.database == "" {
		return fail(2, errors.New("DATABASE is required: the augur database whose models the statement uses"))
	}
	if o.workers < 1 || o.attempts < 1 {
		return fail(2, errors.New("--workers and --attempts must be at least 1"))
	}
	if o.splitSize < 0 {
		return fail(2, fmt.Errorf("--split_size %d: a split's size in bytes is at least 1 (0, the default, sizes splits by --workers)", o.splitSize))
	}
	if !o.verbose {
		// The runner's log repeats, at length, the error run prints.
		slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError + 4})))
	}
	runner := *runners.Runner
	switch runner {
	case "":
		runner = "prism"
	case "prism", "universal", "flink", "spark", "dataflow":
	default:
		return fail(2, fmt.Errorf("unknown --runner %q (expected prism, universal, flink, spark or dataflow)", runner))
	}
	if runner == "universal" || runner == "flink" || runner == "spark" {
		if err := reachable(runner, *jobopts.Endpoint); err != nil {
			return fail(1, err)
		}
	}
	if runner != "prism" && *jobopts.WorkerBinary == "" {
		// Beam's Go SDK would compile the pipeline with CGO_ENABLED=0,
		// which cannot build DuckDB: the workers run this binary.
		exe, err := os.Executable()
		if err != nil {
			return fail(1, err)
		}
		worker, err := workerBinary(exe, *jobopts.EnvironmentType, *jobopts.EnvironmentConfig)
		if err != nil {
			return fail(1, err)
		}
		if worker != exe {
			defer os.Remove(worker)
			if o.verbose {
				fmt.Fprintf(stderr, "augur-beam: the PROCESS workers run this binary, which is not staged\n")
			}
		}
		flag.Set("worker_binary", worker)
	}
	if err := isDatabase(o.database); err != nil {
		return fail(1, err)
	}
	// Read-only: augur-beam never writes the database, and other
	// readers (augur -readonly) may have it open meanwhile.
	db, err := augur.Open(o.database + "?access_mode=READ_ONLY")
	if err != nil {
		return fail(1, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fail(1, err)
	}
	defer conn.Close()

	// A folder of this run's own: records of finished splits and merged
	// partials of another run must never be taken for this one's.
	if o.jobDir != "" {
		if _, err := os.Stat(o.jobDir); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(o.jobDir, 0o755); err != nil {
				return fail(1, fmt.Errorf("--job_dir %s: %w", o.jobDir, err))
			}
			defer os.Remove(o.jobDir) // made for this run: removed when left empty
		}
	}
	jobDir, err := os.MkdirTemp(o.jobDir, "augur-beam-")
	if err != nil {
		return fail(1, fmt.Errorf("--job_dir %s: a folder for the job's files is needed there: %w", o.jobDir, err))
	}
	defer os.RemoveAll(jobDir)
	plan, err := scaleout.Prepare(ctx, conn, o.sql, scaleout.Options{Workers: o.workers, SplitBytes: o.splitSize, Temp: jobDir})
	if err != nil {
		return fail(1, err)
	}
	if o.explain {
		explain(stdout, plan, o.workers)
		return 0
	}
	if err := plan.PrepareTarget(); err != nil {
		return fail(1, err)
	}
	done := false
	defer func() {
		if !done {
			plan.Discard() // no partial COPY output is left to be taken for the whole
		}
	}()
	if err := plan.WriteJobDB(ctx, conn); err != nil {
		return fail(1, err)
	}
	for attempt := 1; ; attempt++ {
		err := submit(ctx, plan, o.workers)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fail(1, fmt.Errorf("the job was interrupted: %w", context.Cause(ctx)))
		}
		msg := err.Error()
		if attempt >= o.attempts || strings.Contains(msg, scaleout.SetupFailed) || strings.Contains(msg, scaleout.Final) {
			return fail(1, fmt.Errorf("the job failed: %s", rootCause(err)))
		}
		fmt.Fprintf(stderr, "augur-beam: attempt %d of %d failed (%s); submitting %d unfinished splits again\n",
			attempt, o.attempts, rootCause(err), len(plan.Pending()))
	}
	final, err := plan.Finish(ctx, conn)
	if err != nil {
		return fail(1, err)
	}
	r := &cli.Runner{Conn: conn, Printer: cli.NewPrinter(stdout, format), Help: stdout}
	err = r.Exec(ctx, final)
	r.Printer.Flush()
	if err != nil {
		return fail(1, err)
	}
	done = true
	return 0
}

// isDatabase checks that path is a DuckDB database file (its header's
// magic, "DUCK" at byte 8), so that a Parquet or CSV file given as
// DATABASE gets a word about it rather than DuckDB's about read-only
// in-memory databases.
func isDatabase(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 12)
	if n, _ := io.ReadFull(f, head); n < len(head) || string(head[8:12]) != "DUCK" {
		return fmt.Errorf("%s is not an augur (DuckDB) database: DATABASE is the database whose models the statement uses; the input goes in the statement, read_parquet('files')", path)
	}
	return nil
}

// reachable checks, before a job is submitted, that a Beam job server
// answers at the runner's endpoint (its job service lists its jobs):
// Beam's client would otherwise wait minutes, without a word, for a
// server that is not there or for one that is not a job server.
func reachable(runner, endpoint string) error {
	if endpoint == "" {
		return fmt.Errorf("--runner %s needs --endpoint HOST:PORT, the address of a running job server (see augur-beam's README for starting one)", runner)
	}
	c, err := net.DialTimeout("tcp", endpoint, 10*time.Second)
	if err != nil {
		return fmt.Errorf("no job server answers at --endpoint %s: %w", endpoint, err)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("--endpoint %s: %w", endpoint, err)
	}
	defer cc.Close()
	if _, err := jobpb.NewJobServiceClient(cc).GetJobs(ctx, &jobpb.GetJobsRequest{}); err != nil {
		return fmt.Errorf("the server at --endpoint %s does not answer as a Beam job server: %s", endpoint, oneLine(err.Error()))
	}
	return nil
}

// explain prints a plan for people: its splits as the workers get them,
// and the SQL each stage runs.
func explain(w io.Writer, p *scaleout.Plan, workers int) {
	var total int64
	for _, s := range p.Splits {
		total += s.Bytes
	}
	models := strings.Join(p.Models, ", ")
	if models == "" {
		models = "none"
	}
	fmt.Fprintf(w, "%s of %d splits (%d bytes) on %d workers; models: %s\n", p.Kind, len(p.Splits), total, workers, models)
	for i, b := range scaleout.Buckets(p.Splits, workers) {
		fmt.Fprintf(w, "worker %d:\n", i)
		for _, s := range b {
			rows := ""
			if s.Rows != [2]int64{} {
				rows = fmt.Sprintf(" rows [%d, %d)", s.Rows[0], s.Rows[1])
			}
			fmt.Fprintf(w, "  split %d: %s%s (%d bytes)\n", s.Index, strings.Join(s.Files, ", "), rows, s.Bytes)
		}
	}
	fmt.Fprintf(w, "each split: %s\n", strings.Replace(p.Scan, scaleout.Placeholder, "[its files]", 1))
	fmt.Fprintf(w, "worker query: %s\n", p.Query)
	if p.Kind == scaleout.Aggregate {
		fmt.Fprintf(w, "merge (%d shards): %s\n", p.Shards, p.Merge)
		fmt.Fprintf(w, "final: %s\n", p.Final)
	} else {
		fmt.Fprintf(w, "into: %s (%s)\n", p.Target, p.CopyOptions)
	}
}

// submit runs the pipeline of the plan's pending splits to completion.
func submit(ctx context.Context, plan *scaleout.Plan, workers int) error {
	if plan.Kind == scaleout.Copy && len(plan.Pending()) == 0 {
		return nil
	}
	p, err := buildPipeline(plan, workers)
	if err != nil {
		return err
	}
	// Beam's Go SDK leaves an empty beamloopbackworker-* file in the
	// temporary folder at every in-process run (its TODO, Beam issue
	// 27569): made in the job folder instead, it goes with it.
	if old, had := os.LookupEnv("TMPDIR"); had {
		defer os.Setenv("TMPDIR", old)
	} else {
		defer os.Unsetenv("TMPDIR")
	}
	os.Setenv("TMPDIR", plan.Temp)
	return beamx.Run(ctx, p)
}

// rootCause is what went wrong in a failed job: Beam wraps a DoFn's
// error in the stages, bundles and plans it passed through.
func rootCause(err error) string {
	s := strings.ReplaceAll(err.Error(), scaleout.Final, "")
	if i := strings.LastIndex(s, "caused by:"); i >= 0 {
		s = s[i+len("caused by:"):]
	}
	if i := strings.Index(s, "] failed:"); i >= 0 && strings.HasPrefix(strings.TrimSpace(s), "DoFn[") {
		s = s[i+len("] failed:"):]
	}
	return oneLine(s)
}

// oneLine keeps an error to one line, as augur prints errors.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
