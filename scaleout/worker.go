package scaleout

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/engine"
	"github.com/augurdb/augur/source"
)

// Worker runs splits of one plan: the job database open read-only, the
// plan's models loaded once.
type Worker struct {
	plan *Plan
	db   *sql.DB
}

// FailOnceEnv names a folder: when set, the first attempt at split 0
// (and at merge shard 0) fails halfway, once per folder, leaving a
// temporary file behind as a crash would. Tests use it to check that a
// retried split leaves neither a duplicate nor a partial output.
const FailOnceEnv = "AUGUR_SCALEOUT_FAIL_ONCE"

// SetupFailed starts the message of a worker that could not start: its
// job database or a model could not be read. Such errors do not go away
// when the job is submitted again (the text is all that reaches the
// launcher through a runner).
const SetupFailed = "worker setup failed: "

// Final marks the message of a split whose query failed in a way that
// running it again cannot mend (DuckDB's binder, a conversion, a model
// refusing its input: the same rows fail the same way), so that the
// launcher does not submit the job again. Errors of I/O, the network,
// memory or an interruption may pass, and are retried.
const Final = "[final] "

// queryError wraps the error of a split's (or merge's) SQL, marked
// Final when retrying cannot help.
func queryError(what string, err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeIO, duckdb.ErrorTypeHTTP, duckdb.ErrorTypeConnection, duckdb.ErrorTypeInterrupt,
			duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeFatal, duckdb.ErrorTypeInternal, duckdb.ErrorTypeInvalid:
		default:
			return fmt.Errorf("%s%s: %w", Final, what, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// OpenWorker opens the plan's job database, checking that it is the one
// the launcher wrote, and loads the plan's models: a model whose file
// changed since CREATE MODEL is refused here, before any row is read.
func OpenWorker(ctx context.Context, p *Plan) (*Worker, error) {
	sha, err := source.FileSHA256(p.JobDB)
	if err != nil {
		return nil, fmt.Errorf(SetupFailed+"the job database: %w", err)
	}
	if sha != p.JobSHA256 {
		return nil, fmt.Errorf(SetupFailed+"the job database %s has sha256 %s, the launcher wrote %s", p.JobDB, sha, p.JobSHA256)
	}
	db, err := augur.Open(p.JobDB + "?access_mode=READ_ONLY")
	if err != nil {
		return nil, fmt.Errorf(SetupFailed+"%w", err)
	}
	w := &Worker{plan: p, db: db}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		return dc.(*engine.Conn).Engine().Preload(ctx, p.Models...)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf(SetupFailed+"%w", err)
	}
	return w, nil
}

// Close releases the worker's database and models.
func (w *Worker) Close() error { return w.db.Close() }

// session is a connection with the split's view defined.
func (w *Worker) session(ctx context.Context, s Split) (*sql.Conn, error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, w.plan.SplitView(s)); err != nil {
		conn.Close()
		return nil, queryError(fmt.Sprintf("split %d (%s)", s.Index, strings.Join(s.Files, ", ")), err)
	}
	return conn, nil
}

// PartName is the output file of a split in a COPY's folder.
func (p *Plan) PartName(index int) string {
	return filepath.Join(p.Target, fmt.Sprintf("part-%05d.%s", index, p.Ext))
}

const tmpPrefix = ".augur-tmp-"

func tmpName(dir, what, ext string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return filepath.Join(dir, tmpPrefix+what+"-"+hex.EncodeToString(b)+"."+ext)
}

// Copy writes a split's rows into the COPY's folder: under a temporary
// name, renamed to part-NNNNN when complete, so that a split run twice
// leaves one file. It returns the rows written.
func (w *Worker) Copy(ctx context.Context, s Split) (int64, error) {
	p := w.plan
	conn, err := w.session(ctx, s)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	tmp := tmpName(p.Target, fmt.Sprintf("%05d", s.Index), p.Ext)
	res, err := conn.ExecContext(ctx, "COPY ("+p.Query+") TO "+quoteString(tmp)+" ("+p.CopyOptions+")")
	if err != nil {
		os.Remove(tmp)
		return 0, queryError(fmt.Sprintf("split %d", s.Index), err)
	}
	if err := failOnce(s.Index, "split"); err != nil {
		return 0, err // the temporary file stays, as after a crash
	}
	n, _ := res.RowsAffected()
	if err := os.Rename(tmp, p.PartName(s.Index)); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := writeAtomic(p.doneName(s.Index), []byte(strconv.FormatInt(n, 10))); err != nil {
		return 0, err
	}
	return n, nil
}

func (p *Plan) doneName(index int) string {
	return filepath.Join(p.Temp, fmt.Sprintf("done-%05d", index))
}

// Shard is one merge shard's partial aggregates from one split, as the
// bytes of a Parquet file.
type Shard struct {
	Shard int
	Data  []byte
}

// Partials computes a split's partial aggregates, one Parquet file a
// shard (shards without groups are left out).
func (w *Worker) Partials(ctx context.Context, s Split) ([]Shard, error) {
	conn, err := w.session(ctx, s)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	dir, err := os.MkdirTemp("", "augur-partials-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "p")
	q := "COPY (" + w.plan.Query + ") TO " + quoteString(out) + " (FORMAT parquet, PARTITION_BY (" + shardColumn + "))"
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return nil, queryError(fmt.Sprintf("split %d", s.Index), err)
	}
	if err := failOnce(s.Index, "split"); err != nil {
		return nil, err
	}
	dirs, err := os.ReadDir(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var shards []Shard
	for _, d := range dirs {
		v, ok := strings.CutPrefix(d.Name(), shardColumn+"=")
		if !ok {
			continue
		}
		shard, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("split %d: unexpected partial folder %s", s.Index, d.Name())
		}
		files, err := filepath.Glob(filepath.Join(out, d.Name(), "*.parquet"))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			shards = append(shards, Shard{Shard: shard, Data: data})
		}
	}
	return shards, nil
}

// MergedName is the merged partials of one shard in the job's folder.
func (p *Plan) MergedName(shard int) string {
	return filepath.Join(p.Temp, fmt.Sprintf("merged-%05d.parquet", shard))
}

// Merge combines one shard's partial aggregates from every split into
// one row a group, written to MergedName(shard) under a temporary name
// and renamed when complete.
func (w *Worker) Merge(ctx context.Context, shard int, parts [][]byte) error {
	p := w.plan
	dir, err := os.MkdirTemp("", "augur-merge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var names []string
	for i, data := range parts {
		f := filepath.Join(dir, fmt.Sprintf("%05d.parquet", i))
		if err := os.WriteFile(f, data, 0o600); err != nil {
			return err
		}
		names = append(names, quoteString(f))
	}
	if len(names) == 0 {
		return nil
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tmp := tmpName(p.Temp, fmt.Sprintf("merged-%05d", shard), "parquet")
	q := strings.Replace(p.Merge, Placeholder, "["+strings.Join(names, ", ")+"]", 1)
	if _, err := conn.ExecContext(ctx, "COPY ("+q+") TO "+quoteString(tmp)+" (FORMAT parquet)"); err != nil {
		os.Remove(tmp)
		return queryError(fmt.Sprintf("merging shard %d", shard), err)
	}
	if err := failOnce(shard, "merge"); err != nil {
		return err
	}
	return os.Rename(tmp, p.MergedName(shard))
}

// failOnce is the failure FailOnceEnv injects.
func failOnce(index int, what string) error {
	dir := os.Getenv(FailOnceEnv)
	if dir == "" || index != 0 {
		return nil
	}
	marker := filepath.Join(dir, "failed-"+what)
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil // failed before: this is the retry
	}
	f.Close()
	return fmt.Errorf("%s %d: failure injected by %s (once)", what, index, FailOnceEnv)
}

// writeAtomic writes a file under a temporary name and renames it.
func writeAtomic(name string, data []byte) error {
	tmp := tmpName(filepath.Dir(name), filepath.Base(name), "tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
