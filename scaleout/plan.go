// Package scaleout runs one augur statement over many machines: it plans
// the statement into splits of its Parquet input, runs each split on a
// worker (DuckDB with augur's models: scan, predict, filter, partial
// aggregate), merges partial aggregates, and finishes on the launcher.
//
// The package knows nothing of the engine that moves the work: augur-beam
// (cmd/augur-beam) drives it with Apache Beam, RunLocal runs it in one
// process. The plan is data (JSON), so that it travels with a job.
//
// Two statement shapes are planned:
//
//	COPY (SELECT ... ML_PREDICT(...) ... FROM read_parquet(...) [WHERE ...]) TO 'folder' (FORMAT parquet)
//	SELECT keys, aggregates FROM (... ML_PREDICT ... read_parquet(...) ...) GROUP BY keys [HAVING] [ORDER BY] [LIMIT]
//
// The first writes one file per split into the folder, each under a
// temporary name renamed into place when complete, so that a split run
// twice (a runner's retry) leaves one copy. The second computes partial
// aggregates per split (count, sum, min, max, avg; bool_and, bool_or),
// which are shuffled by a hash of the group keys, merged per shard, and
// finished on the launcher by the user's own query over the merged
// partials.
package scaleout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/augurdb/augur/engine"
	"github.com/augurdb/augur/parser"
)

// Kind is the shape of a planned statement.
type Kind string

const (
	// Copy is COPY (row-wise query) TO folder: one output file per split.
	Copy Kind = "copy"
	// Aggregate is a GROUP BY query (or one written with COPY): partial
	// aggregates per split, merged by shard, finished on the launcher.
	Aggregate Kind = "aggregate"
)

// Plan is a statement prepared for a distributed run. Workers need only
// the plan and the job database it names.
type Plan struct {
	Kind      Kind
	Statement string   // as the user wrote it
	Models    []string // the models the statement predicts with
	Splits    []Split

	// JobDB is the job database: the catalog of the user's database
	// (models, and the bytes of embedded ones) and nothing else. Workers
	// open it read-only. JobSHA256 is its sha256, checked by workers.
	JobDB     string
	JobSHA256 string
	// Temp is the job's folder for the job database, partial aggregates
	// and the records of finished splits; on a cluster it must be a
	// folder every worker and the launcher see.
	Temp string

	// Scan is the read_parquet call of the input, with Placeholder for
	// its files; View is the name the worker query reads the split from.
	Scan string
	View string
	// Query is what a worker runs on its split (reading View): the rows
	// (Copy) or the partial aggregates with their shard (Aggregate).
	Query string

	// COPY's folder and options, and the output files' extension.
	Target      string
	madeTarget  bool // PrepareTarget made the folder
	CopyOptions string
	Ext         string

	// Aggregate: the partial aggregates' columns (group keys first), the
	// number of merge shards, the merge of partials and the final query.
	Partials []Column
	Groups   int
	Shards   int
	Merge    string // reads Placeholder (a list of partial files)
	Final    string // reads Placeholder (a list of merged files)
	Empty    string // the merged partials when there are none
}

// Column is a column and its DuckDB type.
type Column struct {
	Name string
	Type string
}

// Split is the unit of work: some whole files, or a range of rows (whole
// row groups) of one file.
type Split struct {
	Index int
	Files []string
	// Rows is the half-open range [Rows[0], Rows[1]) of rows of the one
	// file; {0, 0} reads the files whole.
	Rows  [2]int64
	Bytes int64 // the size the split was balanced by
	// Select, when not empty, is the select list that reads the split's
	// columns as DuckDB reads them over all the input (see unify).
	Select string `json:",omitempty"`
}

// Options tunes Prepare.
type Options struct {
	Workers    int    // how many workers will run splits (balancing), default 1
	SplitBytes int64  // target bytes per split; 0 = total / (4 * Workers), at least 1 MiB
	Shards     int    // merge shards of partial aggregates; 0 = Workers
	Temp       string // the job's folder (must exist)
}

// Placeholder stands in the plan's SQL for a list of files, filled in per
// split, shard or run.
const Placeholder = "'augur-scaleout-files'"

const (
	groupPrefix = "__augur_g"
	aggPrefix   = "__augur_a"
	shardColumn = "__augur_shard"
	viewName    = "__augur_split"
)

// Prepare plans stmt, which runs on conn (an augur connection to the
// user's database). Statements of other shapes are refused with the
// reason.
func Prepare(ctx context.Context, conn *sql.Conn, stmt string, opt Options) (*Plan, error) {
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	if opt.Shards < 1 {
		opt.Shards = opt.Workers
	}
	p := &Plan{Statement: stmt, Temp: opt.Temp, View: viewName, Shards: opt.Shards}
	query, err := p.parseCopy(stmt)
	if err != nil {
		return nil, err
	}
	// The statement as the user wrote it must bind (prepared, not run),
	// so that its errors are DuckDB's about their SQL, not the plan's.
	st, err := conn.PrepareContext(ctx, query)
	if err != nil {
		if !isQuery(query) {
			return nil, errNotQuery
		}
		return nil, err
	}
	st.Close()
	rewritten, models, err := rewriteOn(ctx, conn, query)
	if err != nil {
		return nil, err
	}
	if !isQuery(query) {
		return nil, errNotQuery
	}
	p.Models = models
	tree, err := serialize(ctx, conn, rewritten)
	if err != nil {
		return nil, err
	}
	top := child(tree, "node")
	if str(top, "type") != "SELECT_NODE" {
		return nil, unsupported("UNION, INTERSECT, EXCEPT and VALUES are not split; write one SELECT over read_parquet(...)")
	}
	aggs, err := aggregateNames(ctx, conn)
	if err != nil {
		return nil, err
	}
	scan, err := findScan(tree)
	if err != nil {
		return nil, err
	}
	if err := checkRowWise(tree, top, aggs); err != nil {
		return nil, err
	}
	if isAggregate(top, aggs) {
		p.Kind = Aggregate
	} else {
		if p.Target == "" {
			return nil, unsupported("a SELECT without GROUP BY or aggregates returns every row to one place; write it as COPY (SELECT ...) TO 'folder' (FORMAT parquet), which each worker writes its part of")
		}
		if err := checkTopRowWise(top); err != nil {
			return nil, err
		}
		p.Kind = Copy
	}
	if p.Splits, err = planSplits(ctx, conn, scan, opt); err != nil {
		return nil, err
	}
	if p.Scan, err = scanCall(ctx, conn, scan); err != nil {
		return nil, err
	}
	if err := p.unify(ctx, conn); err != nil {
		return nil, err
	}
	replaceScan(tree, scan)
	if p.Kind == Copy {
		p.Query, err = deserialize(ctx, conn, tree)
		return p, err
	}
	if err := p.planAggregate(ctx, conn, tree, aggs); err != nil {
		return nil, err
	}
	return p, nil
}

// errNotQuery refuses a statement that is no query (INSERT, CREATE
// TABLE, DESCRIBE, ...): it is said before DuckDB's binder speaks of the
// statement's tables.
var errNotQuery = unsupported("augur-beam runs one SELECT with aggregates, or one COPY (SELECT ...) TO 'folder'; other statements run in augur")

// isQuery reports whether a statement starts as a query does.
func isQuery(stmt string) bool {
	for _, t := range parser.Tokens(stmt, parser.Pos{Line: 1, Col: 1}) {
		switch strings.ToUpper(t.Text) {
		case "SELECT", "WITH", "FROM", "VALUES", "(":
			return true
		}
		return false
	}
	return false
}

// errUnsupported marks a statement augur's planner does not split.
var errUnsupported = errors.New("augur-beam cannot split this statement")

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUnsupported, fmt.Sprintf(format, a...))
}

// IsUnsupported reports whether err says that a statement's shape cannot
// be split (as opposed to an error in the statement or its data).
func IsUnsupported(err error) bool { return errors.Is(err, errUnsupported) }

// rewriteOn rewrites the statement's ML_PREDICT calls on the user's
// connection, as the embedded engine would before running it.
func rewriteOn(ctx context.Context, conn *sql.Conn, query string) (out string, models []string, err error) {
	err = conn.Raw(func(dc any) error {
		ec, ok := dc.(*engine.Conn)
		if !ok {
			return errors.New("scaleout needs a connection of augur's driver")
		}
		out, models, err = ec.Rewrite(ctx, query)
		return err
	})
	return out, models, err
}

// parseCopy takes COPY (query) TO 'target' [(options)] apart; another
// statement is returned as it is.
func (p *Plan) parseCopy(stmt string) (string, error) {
	toks := parser.Tokens(stmt, parser.Pos{Line: 1, Col: 1})
	if last := toks[len(toks)-1]; last.Kind == parser.Illegal {
		return "", fmt.Errorf("%s: %s", last.Pos, last.Err)
	}
	for len(toks) > 1 && toks[len(toks)-2].Text == ";" {
		toks = append(toks[:len(toks)-2], toks[len(toks)-1])
	}
	if len(toks) == 0 || !strings.EqualFold(toks[0].Text, "copy") || toks[0].Kind != parser.PlainIdent {
		return strings.TrimRight(strings.TrimSpace(stmt), ";"), nil
	}
	if len(toks) < 2 || toks[1].Text != "(" {
		return "", unsupported("COPY of a table copies what is in the database; augur-beam runs COPY (SELECT ...) TO 'folder'")
	}
	depth, end := 0, -1
	for i := 1; i < len(toks); i++ {
		switch toks[i].Text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth == 0 {
			end = i
			break
		}
	}
	if end < 0 || end+2 >= len(toks) || !strings.EqualFold(toks[end+1].Text, "to") || toks[end+2].Kind != parser.String {
		return "", unsupported("expected COPY (query) TO 'folder' (FORMAT parquet)")
	}
	base := toks[0].Pos.Offset
	query := stmt[toks[1].End-base : toks[end].Pos.Offset-base]
	target, err := unquote(toks[end+2].Text)
	if err != nil {
		return "", err
	}
	rest := toks[end+3:]
	opts := ""
	if len(rest) > 1 {
		if rest[0].Text != "(" || rest[len(rest)-2].Text != ")" {
			return "", unsupported("expected COPY (query) TO 'folder' (options)")
		}
		opts = stmt[rest[0].End-base : rest[len(rest)-2].Pos.Offset-base]
	}
	if err := p.copyOptions(opts, target); err != nil {
		return "", err
	}
	if !strings.Contains(target, "://") {
		if target, err = filepath.Abs(target); err != nil {
			return "", err
		}
	}
	p.Target = target
	return query, nil
}

// copyOptions checks COPY's options: the format names the files'
// extension; options that decide file names themselves are refused.
// Without FORMAT (or COMPRESSION), the target's name says it, as DuckDB's
// COPY infers it: 'out.csv' writes CSV parts into the folder out.csv,
// 'out.csv.gz' gzipped CSV parts named part-NNNNN.csv.gz. CSV and JSON
// parts compressed by COMPRESSION are named as DuckDB names such files,
// so that read_csv and read_json recognise them.
func (p *Plan) copyOptions(opts, target string) error {
	format, compression := "", ""
	toks := parser.Tokens(opts, parser.Pos{Line: 1, Col: 1})
	for i, t := range toks {
		if t.Kind != parser.PlainIdent {
			continue
		}
		value := ""
		if i+1 < len(toks) && toks[i+1].Kind != parser.EOF {
			value = strings.ToLower(strings.Trim(toks[i+1].Text, `'"`))
		}
		switch strings.ToLower(t.Text) {
		case "format":
			switch value {
			case "parquet", "csv", "json":
				format = value
			default:
				return unsupported("COPY FORMAT %s: augur-beam writes parquet, csv or json", toks[i+1].Text)
			}
		case "compression":
			compression = value
		case "partition_by", "per_thread_output", "file_size_bytes", "filename_pattern", "file_extension", "use_tmp_file", "overwrite", "overwrite_or_ignore", "append":
			return unsupported("COPY option %s: augur-beam names the files itself (one part-NNNNN file per split, written under a temporary name and renamed when complete)", strings.ToUpper(t.Text))
		}
	}
	var extra []string
	name := strings.ToLower(filepath.Base(target))
	if c, ok := compressionOf(name); ok {
		name = strings.TrimSuffix(name, filepath.Ext(name))
		if compression == "" {
			compression = c
			extra = append(extra, "COMPRESSION "+c)
		}
	}
	if format == "" {
		switch filepath.Ext(name) {
		case ".csv", ".tsv":
			format = "csv"
		case ".json", ".ndjson", ".jsonl":
			format = "json"
		default:
			format = "parquet"
		}
		extra = append([]string{"FORMAT " + format}, extra...)
	}
	p.Ext = format
	if format != "parquet" {
		switch compression {
		case "gzip":
			p.Ext += ".gz"
		case "zstd":
			p.Ext += ".zst"
		}
	}
	if opts != "" {
		extra = append(extra, opts)
	}
	p.CopyOptions = strings.Join(extra, ", ")
	return nil
}

// compressionOf is the compression a file name's last extension names.
func compressionOf(name string) (string, bool) {
	switch filepath.Ext(name) {
	case ".gz", ".gzip":
		return "gzip", true
	case ".zst":
		return "zstd", true
	}
	return "", false
}

// unquote reads an SQL string literal.
func unquote(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", fmt.Errorf("expected a quoted file name, got %s", lit)
	}
	return strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"), nil
}
