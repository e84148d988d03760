package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/cli"
	"github.com/augurdb/augur/internal/sqlrows"
	"github.com/augurdb/augur/scaleout"
)

// The test binary is also the pipeline's worker binary when a job
// server runs the job (TestJobServerWithExternalWorkerPool): started
// with Beam's --worker flags, beam.Init runs the harness and exits. A
// PROCESS environment starts it with --id and --provision_endpoint
// (TestJobServerWithProcessEnvironment), as it starts augur-beam.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := processWorker(); err != nil {
		fmt.Fprintf(os.Stderr, "augur-beam: %v\n", err)
		os.Exit(1)
	}
	beam.Init()
	os.Exit(m.Run())
}

var repo, _ = filepath.Abs("../..")

// fixture is an augur database with a scikit-learn forest and an ONNX
// image classifier, and Parquet input: iris flowers repeated into four
// files (the largest of three row groups) and the example digits as
// image bytes.
type fixture struct {
	dir, db, flowers, images string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, db: filepath.Join(dir, "shop.db"), flowers: filepath.Join(dir, "flowers"), images: filepath.Join(dir, "images")}
	os.Mkdir(f.flowers, 0o755)
	os.Mkdir(f.images, 0o755)
	model := filepath.Join(dir, "iris_forest.pkl")
	data, err := os.ReadFile(filepath.Join(repo, "examples/models/iris_forest.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(model, data, 0o644)
	db, err := augur.Open(f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING '" + model + "'",
		"CREATE MODEL digits MODEL_TYPE image_classifier USING '" + filepath.Join(repo, "examples/models/digits.onnx") + "'",
		`CREATE TEMP TABLE flowers AS SELECT c.id + 1000 * r.range AS id, species, sepal_length + r.range / 100 AS sepal_length,
			sepal_width, petal_length, petal_width FROM read_csv('` + filepath.Join(repo, "examples/data/iris.csv") + `') c, range(40) r`,
		"COPY (SELECT * FROM flowers WHERE id < 5000) TO '" + f.flowers + "/a.parquet' (FORMAT parquet)",
		"COPY (SELECT * FROM flowers WHERE id >= 5000 AND id < 8000) TO '" + f.flowers + "/b.parquet' (FORMAT parquet)",
		"COPY (SELECT * FROM flowers WHERE id >= 8000 AND id < 9000) TO '" + f.flowers + "/c.parquet' (FORMAT parquet)",
		"COPY (SELECT * FROM flowers WHERE id >= 9000 ORDER BY id) TO '" + f.flowers + "/d.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048)",
		"COPY (SELECT parse_filename(filename) AS name, content FROM read_blob('" + filepath.Join(repo, "examples/images/*.png") + "') WHERE filename < '" + filepath.Join(repo, "examples/images/digit_005") + "') TO '" + f.images + "/a.parquet' (FORMAT parquet)",
		"COPY (SELECT parse_filename(filename) AS name, content FROM read_blob('" + filepath.Join(repo, "examples/images/*.png") + "') WHERE filename >= '" + filepath.Join(repo, "examples/images/digit_005") + "') TO '" + f.images + "/b.parquet' (FORMAT parquet)",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return f
}

// beamRun runs augur-beam in this process and returns what it printed.
func beamRun(t *testing.T, f *fixture, stmt string, extra ...string) (stdout, stderr string, status int) {
	t.Helper()
	return beamRunContext(context.Background(), t, f, stmt, extra...)
}

func beamRunContext(ctx context.Context, t *testing.T, f *fixture, stmt string, extra ...string) (stdout, stderr string, status int) {
	t.Helper()
	o := options{database: f.db}
	fs := flag.NewFlagSet("augur-beam", flag.ContinueOnError)
	o.register(fs)
	o.sql, o.workers, o.attempts, o.splitSize = stmt, 2, 1, 1<<10
	if err := fs.Parse(extra); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	status = run(ctx, o, &out, &errb)
	return out.String(), errb.String(), status
}

// augurRun runs the embedded augur command line on the same database.
func augurRun(t *testing.T, f *fixture, stmt string, format string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if st := cli.Main([]string{f.db, "-c", stmt, "--format", format}, strings.NewReader(""), &out, &errb); st != 0 {
		t.Fatalf("augur -c %s: %s", stmt, errb.String())
	}
	return out.String()
}

func TestAggregatesPrintAsAugurDoes(t *testing.T) {
	f := newFixture(t)
	in := "read_parquet('" + f.flowers + "/*.parquet')"
	predict := "ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width])"
	for _, tc := range []struct{ sql, format string }{
		{"SELECT species, " + predict + " AS predicted, count(*) AS n, min(id), max(sepal_width), sum(id) FROM " + in + " GROUP BY ALL ORDER BY 1, 2", "table"},
		{"SELECT predicted, count(*) FILTER (WHERE species = predicted) AS right, count(*) AS n FROM (SELECT species, " + predict + " AS predicted FROM " + in + " WHERE id % 7 <> 0) GROUP BY predicted HAVING count(*) > 10 ORDER BY n DESC", "json"},
		{"SELECT count(*), max(id) FROM " + in + " WHERE " + predict + " = 'virginica'", "csv"},
		{"SELECT species, avg(sepal_length::DECIMAL(10,2)) AS mean, sum(sepal_length::DECIMAL(10,2)) FROM " + in + " GROUP BY species ORDER BY species", "csv"},
		{"SELECT " + predict + " AS predicted, count(DISTINCT species) AS species, count(DISTINCT sepal_length) FROM " + in + " GROUP BY predicted ORDER BY predicted", "table"},
		{"SELECT id % 5 AS k, bool_or(" + predict + " = 'setosa') AS any_setosa FROM " + in + " GROUP BY k ORDER BY k LIMIT 3", "markdown"},
	} {
		want := augurRun(t, f, tc.sql, tc.format)
		got, stderr, st := beamRun(t, f, tc.sql, "--format", tc.format)
		if st != 0 || got != want {
			t.Errorf("%s\naugur-beam (status %d, %s):\n%s\naugur:\n%s", tc.sql, st, stderr, got, want)
		}
	}
}

func TestAverageEqualsAugur(t *testing.T) {
	f := newFixture(t)
	q := "SELECT species, avg(petal_length * length(ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]))) AS a, avg(sepal_length) AS b FROM read_parquet('" + f.flowers + "/*.parquet') GROUP BY species ORDER BY species"
	want := parseCSV(augurRun(t, f, q, "csv"))
	got, stderr, st := beamRun(t, f, q, "--format", "csv")
	if st != 0 {
		t.Fatal(stderr)
	}
	sameNumbers(t, parseCSV(got), want)
}

func TestCopyWritesShardsEqualToAugur(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "out")
	q := "SELECT id, species, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS predicted FROM read_parquet('" + f.flowers + "/*.parquet') WHERE id % 3 <> 0"
	want := augurRun(t, f, "COPY ("+q+") TO '"+filepath.Join(f.dir, "one.parquet")+"' (FORMAT parquet)", "table")
	got, stderr, st := beamRun(t, f, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)")
	if st != 0 || got != want {
		t.Fatalf("augur-beam printed (status %d, %s)\n%s\naugur printed\n%s", st, stderr, got, want)
	}
	parts := partFiles(t, out)
	if len(parts) != 6 {
		t.Fatalf("want one part a split: a, b, c and d.parquet's 3 row groups, got %v", parts)
	}
	sameResult(t, f, "SELECT * FROM read_parquet('"+out+"/*.parquet')", q)
}

func TestImageModelEqualsAugur(t *testing.T) {
	f := newFixture(t)
	in := "read_parquet('" + f.images + "/*.parquet')"
	agg := "SELECT ML_PREDICT(digits, to_image(content)).label AS digit, count(*) AS n, max(name) FROM " + in + " GROUP BY digit ORDER BY digit"
	if got, want := must(beamRun(t, f, agg, "--split_size", "1")), augurRun(t, f, agg, "table"); got != want {
		t.Fatalf("augur-beam printed\n%s\naugur printed\n%s", got, want)
	}
	out := filepath.Join(f.dir, "labels")
	q := "SELECT name, ML_PREDICT(digits, to_image(content)) AS p FROM " + in
	must(beamRun(t, f, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)", "--split_size", "1"))
	if parts := partFiles(t, out); len(parts) != 2 {
		t.Fatalf("want one part per image file, got %v", parts)
	}
	sameResult(t, f, "SELECT * FROM read_parquet('"+out+"/*.parquet')", q)
}

func TestRetriedSplitLeavesNoDuplicateOrPartialOutput(t *testing.T) {
	f := newFixture(t)
	t.Setenv(scaleout.FailOnceEnv, t.TempDir())
	out := filepath.Join(f.dir, "out")
	q := "SELECT id, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS predicted FROM read_parquet('" + f.flowers + "/*.parquet')"
	got, stderr, st := beamRun(t, f, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)", "--attempts", "2")
	if st != 0 {
		t.Fatalf("status %d: %s", st, stderr)
	}
	if !strings.Contains(stderr, "attempt 1 of 2 failed") || !strings.Contains(stderr, "failure injected") {
		t.Fatalf("the injected failure did not happen: %q", stderr)
	}
	if !strings.Contains(got, strconv.Itoa(rowCount(t, f, q))) {
		t.Fatalf("printed %s", got)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "part-") {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
	sameResult(t, f, "SELECT * FROM read_parquet('"+out+"/*.parquet')", q)

	// An aggregate whose split fails once is run again whole.
	agg := "SELECT species, count(*) FROM read_parquet('" + f.flowers + "/*.parquet') GROUP BY species ORDER BY species"
	t.Setenv(scaleout.FailOnceEnv, t.TempDir())
	got, stderr, st = beamRun(t, f, agg, "--attempts", "2")
	if want := augurRun(t, f, agg, "table"); st != 0 || got != want || !strings.Contains(stderr, "attempt 1 of 2 failed") {
		t.Fatalf("status %d, %s\n%s\nwant\n%s", st, stderr, got, want)
	}
	// Without a second attempt the failure is the job's.
	t.Setenv(scaleout.FailOnceEnv, t.TempDir())
	if _, stderr, st = beamRun(t, f, agg); st != 1 || !strings.Contains(stderr, "Error: the job failed") {
		t.Fatalf("status %d, %s", st, stderr)
	}
}

func TestChangedModelFileIsRefusedOnTheWorker(t *testing.T) {
	f := newFixture(t)
	model := filepath.Join(f.dir, "iris_forest.pkl")
	data, _ := os.ReadFile(model)
	data[len(data)-2] ^= 1 // still a file, no longer the one CREATE MODEL hashed
	os.WriteFile(model, data, 0o644)
	out := filepath.Join(f.dir, "out")
	_, stderr, st := beamRun(t, f, "COPY (SELECT ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) FROM read_parquet('"+f.flowers+"/*.parquet')) TO '"+out+"' (FORMAT parquet)")
	if st != 1 || !strings.Contains(stderr, "has changed since CREATE MODEL") {
		t.Fatalf("status %d: %s", st, stderr)
	}
	if parts := partFiles(t, out); len(parts) != 0 {
		t.Fatalf("a refused model wrote %v", parts)
	}
}

func TestEmbeddedModelNeedsNoFile(t *testing.T) {
	f := newFixture(t)
	model := filepath.Join(f.dir, "kept.pkl")
	data, _ := os.ReadFile(filepath.Join(repo, "examples/models/iris_forest.pkl"))
	os.WriteFile(model, data, 0o644)
	db, err := augur.Open(f.db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("CREATE MODEL kept FLAVOR sklearn MODEL_TYPE random_forest_classification OPTIONS (embed = true) RETURNS string USING '" + model + "'")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(model)
	// Workers find the bytes in the job database, not in a cache.
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	q := "SELECT ML_PREDICT(kept, [sepal_length, sepal_width, petal_length, petal_width]) AS p, count(*) AS n FROM read_parquet('" + f.flowers + "/*.parquet') GROUP BY p ORDER BY p"
	got, stderr, st := beamRun(t, f, q)
	if want := augurRun(t, f, q, "table"); st != 0 || got != want {
		t.Fatalf("status %d, %s\n%s\nwant\n%s", st, stderr, got, want)
	}
}

func TestExplainPrintsThePlan(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "never")
	got, stderr, st := beamRun(t, f, "COPY (SELECT id FROM read_parquet('"+f.flowers+"/*.parquet')) TO '"+out+"' (FORMAT parquet)", "--explain")
	if st != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"copy of 6 splits", "worker 0:", "worker 1:", "d.parquet rows [2048, 4096)", "into: " + out, "each split: read_parquet([its files])"} {
		if !strings.Contains(got, want) {
			t.Errorf("--explain printed no %q:\n%s", want, got)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("--explain made the COPY's folder")
	}
}

func TestRefusedStatements(t *testing.T) {
	f := newFixture(t)
	in := "read_parquet('" + f.flowers + "/*.parquet')"
	for q, msg := range map[string]string{
		"SELECT species, sum(DISTINCT id) FROM " + in + " GROUP BY species":       "sum(DISTINCT ...) is not split",
		"SELECT species, quantile_cont(id, 0.5) FROM " + in + " GROUP BY species": "aggregate quantile_cont is not split",
		"SELECT id FROM " + in:                                                              "COPY (SELECT ...) TO 'folder'",
		"CREATE MODEL x USING 'y.pkl'":                                                      "model statements",
		"SELECT count(*) FROM " + in + " GROUP BY ROLLUP (species)":                         "ROLLUP",
		"COPY (SELECT * FROM " + in + " ORDER BY id) TO '" + f.dir + "/o' (FORMAT parquet)": "ORDER BY in COPY",
		"CREATE TABLE t AS SELECT * FROM " + in:                                             "other statements run in augur",
	} {
		_, stderr, st := beamRun(t, f, q)
		if st != 1 || !strings.Contains(stderr, msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s\n  status %d, %q; want one line with %q", q, st, stderr, msg)
		}
	}
}

// TestJobServerWithExternalWorkerPool runs the job on prism as a
// standalone job server, with Beam's worker pool (the boot binary of
// Beam's Go container, as Flink and Spark deployments run it) starting
// this test binary as the worker: the production path, on loopback.
func TestJobServerWithExternalWorkerPool(t *testing.T) {
	js := startJobServer(t)
	if l, err := net.Listen("tcp", ":50000"); err != nil {
		t.Fatalf("Beam's worker pool listens on port 50000, which is taken: %v", err)
	} else {
		l.Close()
	}
	pool := start(t, js.boot, "--worker_pool")
	waitPort(t, 50000)
	js.runQuery(t, "EXTERNAL", "localhost:50000", pool)
	if !strings.Contains(pool.String(), "starting worker") {
		t.Fatalf("the worker pool started no worker:\n%s", pool.String())
	}
}

// TestJobServerWithProcessEnvironment has the prism job server start
// the workers itself (Beam's PROCESS environment) with augur-beam (this
// test binary) as the command. Beam's boot program cannot be that
// command on prism 2.77: prism passes it --id='ID' with the quotes,
// boot sends them on as the worker id, and prism refuses it (see
// processWorker), leaving the job waiting for a worker forever.
func TestJobServerWithProcessEnvironment(t *testing.T) {
	js := startJobServer(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stderr := js.runQuery(t, "PROCESS", `{"command": "`+exe+`"}`)
	if !strings.Contains(stderr, "which is not staged") {
		t.Errorf("the launcher staged its binary for workers that do not fetch it:\n%s", stderr)
	}
	log := js.log.String()
	// prism's own line (environments.go), and the worker's, whose
	// output is prism's: the workers were prism's processes.
	started := "msg=\"starting process\" envID=go cmd=\"" + exe + " --id='"
	if !strings.Contains(log, started) || !strings.Contains(log, " --provision_endpoint=localhost:"+strconv.Itoa(js.port)) {
		t.Fatalf("prism started no process %q:\n%s", started, js.log.tail())
	}
	if !strings.Contains(log, "augur-beam: Beam worker job-") || !strings.Contains(log, "(PROCESS environment") {
		t.Fatalf("no worker started by prism ran:\n%s", js.log.tail())
	}
}

// jobServer is Beam's prism, built from the Beam module this command
// uses and started as a standalone job server on loopback.
type jobServer struct {
	port int
	boot string   // Beam's Go container boot program
	log  *logFile // prism's output (and that of the processes it starts)
}

// startJobServer builds prism and Beam's boot program and starts prism.
func startJobServer(t *testing.T) *jobServer {
	t.Helper()
	if testing.Short() {
		t.Skip("builds prism and Beam's boot binary")
	}
	bin := t.TempDir()
	for _, pkg := range []string{"github.com/apache/beam/sdks/v2/go/cmd/prism", "github.com/apache/beam/sdks/v2/go/container"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	// Beam's boot fetches the staged worker binary into
	// /tmp/staged/N-augur-beam.test and copies it into /tmp/binNNN/worker
	// (a fixed /tmp, never removed): remove what this test wrote there.
	before, _ := filepath.Glob("/tmp/bin*/worker")
	began := time.Now()
	t.Cleanup(func() {
		after, _ := filepath.Glob("/tmp/bin*/worker")
		for _, w := range after {
			if !slices.Contains(before, w) {
				os.RemoveAll(filepath.Dir(w))
			}
		}
		staged, _ := filepath.Glob("/tmp/staged/*-" + filepath.Base(os.Args[0]))
		for _, s := range staged {
			if fi, err := os.Stat(s); err == nil && !fi.ModTime().Before(began) {
				os.Remove(s)
			}
		}
		os.Remove("/tmp/staged") // if empty
	})
	js := &jobServer{port: freePort(t), boot: filepath.Join(bin, "container")}
	// Debug: prism logs the processes it starts.
	js.log = start(t, filepath.Join(bin, "prism"), "--job_port", strconv.Itoa(js.port), "--serve_http=false", "--log_kind=text", "--log_level=debug")
	waitPort(t, js.port)
	return js
}

// runQuery runs a GROUP BY over the model's predictions on the job
// server, in the environment given as Beam's --environment_type and
// --environment_config, and checks that it prints what augur prints.
func (js *jobServer) runQuery(t *testing.T, envType, envConfig string, logs ...*logFile) (stderr string) {
	t.Helper()
	f := newFixture(t)
	q := "SELECT species, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS predicted, count(*) AS n FROM read_parquet('" + f.flowers + "/*.parquet') GROUP BY ALL ORDER BY 1, 2"
	for name, value := range map[string]string{"runner": "universal", "endpoint": "localhost:" + strconv.Itoa(js.port), "environment_type": envType, "environment_config": envConfig} {
		old := flag.Lookup(name).Value.String()
		flag.Set(name, value)
		t.Cleanup(func() { flag.Set(name, old) })
	}
	t.Cleanup(func() { flag.Set("worker_binary", "") })
	// A job whose workers never start waits for them forever.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	got, stderr, st := beamRunContext(ctx, t, f, q, "--verbose")
	if want := augurRun(t, f, q, "table"); st != 0 || got != want {
		var more strings.Builder
		for _, l := range logs {
			fmt.Fprintf(&more, "\n%s: %s", filepath.Base(l.name), l.tail())
		}
		t.Fatalf("status %d: %s\nprism: %s%s\n%s\nwant\n%s", st, stderr, js.log.tail(), more.String(), got, want)
	}
	return stderr
}

// start starts a server in a process group of its own, logging to a
// file (a worker it starts may outlive it holding its output), and
// stops the group at the end of the test.
func start(t *testing.T, name string, args ...string) *logFile {
	t.Helper()
	log := &logFile{name: filepath.Join(t.TempDir(), filepath.Base(name)+".log")}
	f, err := os.Create(log.name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = t.TempDir() // boot writes pipeline_options.json where it runs
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return log
}

type logFile struct{ name string }

func (l *logFile) String() string {
	b, _ := os.ReadFile(l.name)
	return string(b)
}

// tail is the end of the log, for a message (prism's debug log grows by
// a progress report every 100 ms).
func (l *logFile) tail() string {
	s := l.String()
	if len(s) > 32<<10 {
		s = "...\n" + s[len(s)-32<<10:]
	}
	return s
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

func must(out, stderr string, status int) string {
	if status != 0 {
		panic(fmt.Sprintf("augur-beam failed (%d): %s", status, stderr))
	}
	return out
}

func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(dir, "part-*.parquet"))
	return parts
}

// query runs SQL on the fixture's database and returns the rows as text,
// sorted.
func query(t *testing.T, f *fixture, q string) []string {
	t.Helper()
	db, err := sql.Open("augur", f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	all, err := sqlrows.All(rows)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for _, r := range all {
		out = append(out, fmt.Sprint(r...))
	}
	sort.Strings(out)
	return out
}

// sameResult checks that two queries give the same rows in any order.
func sameResult(t *testing.T, f *fixture, got, want string) {
	t.Helper()
	g, w := query(t, f, got), query(t, f, want)
	if len(g) != len(w) {
		t.Fatalf("%d rows, want %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("row %s, want %s", g[i], w[i])
		}
	}
}

func rowCount(t *testing.T, f *fixture, q string) int { return len(query(t, f, q)) }

func parseCSV(s string) [][]string {
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		out = append(out, strings.Split(line, ","))
	}
	return out
}

// sameNumbers compares CSV results, numbers within 1e-12 relative (sums
// of floating-point values in another order).
func sameNumbers(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		for j := range got[i] {
			g, w := got[i][j], want[i][j]
			if g == w {
				continue
			}
			gf, err1 := strconv.ParseFloat(g, 64)
			wf, err2 := strconv.ParseFloat(w, 64)
			if err1 != nil || err2 != nil || math.Abs(gf-wf) > 1e-12*math.Max(1, math.Abs(wf)) {
				t.Fatalf("row %d column %d: got %s, want %s", i, j, g, w)
			}
		}
	}
}

// TestWorkerBinary: only a PROCESS environment whose command is this
// very file skips staging this binary.
func TestWorkerBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "augur-beam")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "boot")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		envType, config string
		staged          bool
	}{
		{"PROCESS", `{"command": "` + exe + `"}`, false},
		{"process", `{"command": "` + link + `", "env": {"A": "1"}}`, false},
		{"PROCESS", `{"command": "` + other + `"}`, true},
		{"PROCESS", `{"command": "/no/such/file"}`, true},
		{"PROCESS", `not json`, true},
		{"EXTERNAL", "localhost:50000", true},
		{"", "", true},
	} {
		got, err := workerBinary(exe, c.envType, c.config)
		if err != nil {
			t.Fatal(err)
		}
		if (got == exe) != c.staged {
			t.Errorf("%s %s: worker binary %s, staged %v", c.envType, c.config, got, c.staged)
		}
		if got != exe {
			if fi, err := os.Stat(got); err != nil || fi.Size() != 0 {
				t.Errorf("%s %s: placeholder %s: %v, %v", c.envType, c.config, got, fi, err)
			}
			os.Remove(got)
		}
	}
}

// A COPY's folder must be new or empty: parts of an earlier job would be
// read back with this one's, and an input inside it could be replaced
// by a part before it was read.
func TestCopyFolderMustBeNewOrEmpty(t *testing.T) {
	f := newFixture(t)
	// Nor does a run leave Beam's empty loopback files in the temporary
	// folder.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	in := "read_parquet('" + f.flowers + "/*.parquet')"
	out := filepath.Join(f.dir, "out")
	must(beamRun(t, f, "COPY (SELECT id FROM "+in+") TO '"+out+"' (FORMAT parquet)"))
	before := partFiles(t, out)
	_, stderr, st := beamRun(t, f, "COPY (SELECT id FROM "+in+" WHERE id < 10) TO '"+out+"' (FORMAT parquet)")
	if st != 1 || !strings.Contains(stderr, "the folder is not empty") {
		t.Fatalf("a second COPY into the same folder: status %d, %s", st, stderr)
	}
	if after := partFiles(t, out); !slices.Equal(before, after) {
		t.Fatalf("the refused COPY changed the folder: %v, then %v", before, after)
	}
	// Reading the folder it writes, even through another name for it.
	rows := rowCount(t, f, "SELECT * FROM "+in)
	_, stderr, st = beamRun(t, f, "COPY (SELECT id FROM read_parquet('"+f.flowers+"/../flowers/*.parquet')) TO '"+f.flowers+"' (FORMAT parquet)")
	if st != 1 || !strings.Contains(stderr, "is inside the folder") {
		t.Fatalf("a COPY into its own input's folder: status %d, %s", st, stderr)
	}
	if n := rowCount(t, f, "SELECT * FROM "+in); n != rows {
		t.Fatalf("the input holds %d rows after the refused COPY, %d before", n, rows)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temporary folder: %s, ...", left[0].Name())
	}
}

// Each run has a job folder of its own inside --job_dir: records of
// another run's finished splits and merged partials are never taken for
// this one's.
func TestJobDirReused(t *testing.T) {
	f := newFixture(t)
	jobs := filepath.Join(f.dir, "jobs")
	in := "read_parquet('" + f.flowers + "/*.parquet')"
	for i, q := range []string{
		"SELECT species, count(*) FROM " + in + " GROUP BY species ORDER BY species",
		"SELECT species, count(*) FROM " + in + " WHERE id < 10 GROUP BY species ORDER BY species",
		"SELECT id % 7 AS k, max(id) FROM " + in + " GROUP BY k ORDER BY k",
	} {
		if got, want := must(beamRun(t, f, q, "--job_dir", jobs, "--workers", strconv.Itoa(2-i%2))), augurRun(t, f, q, "table"); got != want {
			t.Fatalf("%s\naugur-beam printed\n%s\naugur printed\n%s", q, got, want)
		}
	}
	for i, where := range []string{"", " WHERE id < 10"} {
		out := filepath.Join(f.dir, "out"+strconv.Itoa(i))
		q := "SELECT id FROM " + in + where
		must(beamRun(t, f, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)", "--job_dir", jobs))
		sameResult(t, f, "SELECT * FROM read_parquet('"+out+"/*.parquet')", q)
	}
	if left, _ := os.ReadDir(jobs); len(left) != 0 {
		t.Errorf("--job_dir holds %d entries after the runs", len(left))
	}
	// A --job_dir the run made goes with it; a file there is named.
	fresh := filepath.Join(f.dir, "fresh")
	must(beamRun(t, f, "SELECT count(*) FROM "+in, "--job_dir", fresh))
	if _, err := os.Stat(fresh); err == nil {
		t.Errorf("the --job_dir made for the run is left")
	}
	file := filepath.Join(f.flowers, "a.parquet")
	if _, stderr, st := beamRun(t, f, "SELECT count(*) FROM "+in, "--job_dir", file); st != 1 || !strings.Contains(stderr, "--job_dir "+file+": a folder for the job's files") {
		t.Errorf("--job_dir naming a file: status %d, %s", st, stderr)
	}
}

// A split whose query fails as it would again (a conversion error) fails
// the job at once, without submitting it again, and a failed COPY leaves
// no part behind to be taken for the whole result.
func TestFinalErrorsAreNotRetried(t *testing.T) {
	f := newFixture(t)
	in := "read_parquet('" + f.flowers + "/*.parquet')"
	out := filepath.Join(f.dir, "out")
	q := "SELECT id, CAST(CASE WHEN id > 9990 THEN 'x' ELSE id::VARCHAR END AS INTEGER) AS n FROM " + in
	_, stderr, st := beamRun(t, f, "COPY ("+q+") TO '"+out+"' (FORMAT parquet)", "--attempts", "3")
	if st != 1 || !strings.Contains(stderr, "Conversion Error") || strings.Contains(stderr, "attempt 1 of 3 failed") || strings.Contains(stderr, scaleout.Final) {
		t.Fatalf("status %d: %s", st, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("the failed COPY left its folder, with %v", partFiles(t, out))
	}
}

// COPY TO 'x.csv' without FORMAT writes CSV parts, as DuckDB infers the
// format from the name.
func TestCopyFormatFromName(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "out.csv")
	q := "SELECT id, species FROM read_parquet('" + f.flowers + "/*.parquet')"
	must(beamRun(t, f, "COPY ("+q+") TO '"+out+"'"))
	parts, _ := filepath.Glob(filepath.Join(out, "part-*.csv"))
	if len(parts) == 0 {
		t.Fatalf("no CSV parts in %s", out)
	}
	sameResult(t, f, "SELECT * FROM read_csv('"+out+"/*.csv')", q)
	// Compressed, by the name or by COMPRESSION: named as DuckDB names
	// such files, so that read_csv and read_json read them back.
	for i, c := range []struct{ to, opts, glob, read string }{
		{"out.csv.gz", "", "part-*.csv.gz", "read_csv"},
		{"gz", " (FORMAT csv, COMPRESSION gzip)", "part-*.csv.gz", "read_csv"},
		{"out.json.gz", "", "part-*.json.gz", "read_json"},
	} {
		dir := filepath.Join(f.dir, strconv.Itoa(i), c.to)
		must(beamRun(t, f, "COPY ("+q+") TO '"+dir+"'"+c.opts))
		parts, _ := filepath.Glob(filepath.Join(dir, c.glob))
		if len(parts) == 0 {
			t.Fatalf("%s%s: no %s in %s", c.to, c.opts, c.glob, dir)
		}
		data, _ := os.ReadFile(parts[0])
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			t.Fatalf("%s is not gzip", parts[0])
		}
		sameResult(t, f, "SELECT * FROM "+c.read+"('"+dir+"/"+c.glob+"')", q)
	}
	if _, stderr, st := beamRun(t, f, "COPY ("+q+") TO '"+filepath.Join(f.dir, "x")+"' (FORMAT csv, FILE_EXTENSION 'txt')"); st != 1 || !strings.Contains(stderr, "FILE_EXTENSION") {
		t.Fatalf("FILE_EXTENSION: status %d, %s", st, stderr)
	}
}

// A job server that does not answer fails the job at once, naming it.
func TestUnreachableEndpoint(t *testing.T) {
	f := newFixture(t)
	port := freePort(t)
	for name, value := range map[string]string{"runner": "universal", "endpoint": "127.0.0.1:" + strconv.Itoa(port), "environment_type": "EXTERNAL", "environment_config": "127.0.0.1:1"} {
		old := flag.Lookup(name).Value.String()
		flag.Set(name, value)
		t.Cleanup(func() { flag.Set(name, old) })
	}
	start := time.Now()
	_, stderr, st := beamRun(t, f, "SELECT count(*) FROM read_parquet('"+f.flowers+"/*.parquet')")
	if st != 1 || !strings.Contains(stderr, "no job server answers at --endpoint 127.0.0.1:"+strconv.Itoa(port)) || time.Since(start) > time.Minute {
		t.Fatalf("status %d after %v: %s", st, time.Since(start), stderr)
	}
	// Something that answers, but is no job server: an HTTP server, and
	// a listener that never says a word.
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, endpoint := range []string{strings.TrimPrefix(web.URL, "http://"), mute.Addr().String()} {
		flag.Set("endpoint", endpoint)
		start := time.Now()
		_, stderr, st := beamRun(t, f, "SELECT count(*) FROM read_parquet('"+f.flowers+"/*.parquet')")
		if st != 1 || !strings.Contains(stderr, "does not answer as a Beam job server") || time.Since(start) > time.Minute {
			t.Fatalf("%s: status %d after %v: %s", endpoint, st, time.Since(start), stderr)
		}
	}
}

// A file that is no DuckDB database, given as DATABASE, is named as such.
func TestDatabaseIsNotAFile(t *testing.T) {
	f := newFixture(t)
	f.db = filepath.Join(f.flowers, "a.parquet")
	_, stderr, st := beamRun(t, f, "SELECT count(*) FROM read_parquet('"+f.flowers+"/*.parquet')")
	if st != 1 || !strings.Contains(stderr, "a.parquet is not an augur (DuckDB) database") {
		t.Fatalf("status %d: %s", st, stderr)
	}
}
