// Package engine is augur's database session layer: it opens DuckDB,
// owns the model catalog, runs model statements, rewrites ML_PREDICT
// calls and registers the functions that run models. The database/sql
// driver in the root package is a thin shell around it.
package engine

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/sqlext"
)

// Engine is one open database and its models. Every connection of a
// process to the same database file shares one Engine.
type Engine struct {
	key       string // absolute path, or "" for an in-memory database
	connector *duckdb.Connector
	db        *sql.DB // augur's own connections: catalog writes, UDF registration
	cat       *catalog.Catalog

	ddl sync.Mutex // serialises CREATE/DROP MODEL

	mu      sync.Mutex
	handles map[string]*handle // loaded (or loading) models by catalog key
	// precise: the regressors that return FLOAT, loaded again to return
	// DOUBLE for ML_EVALUATE (see evaluate.go), by catalog key
	precise  map[string]*handle
	predicts map[string]string // result type SQL -> registered function name
	// probaReady: probaFunc is registered (ML_EVALUATE of a classifier)
	probaReady bool
	refs       int

	spin spinGuard // ML_PREDICT queries' client threads

	files filePolicy // RestrictFiles' roots (policy.go)
}

// open engines by absolute path, so that every connection of a process
// sees the same catalog. This is the package's one piece of shared state.
var (
	openMu sync.Mutex
	opened = map[string]*Engine{}
)

// Open opens (or creates) the database named by dsn: a file path, optionally
// with DuckDB's ?key=value settings, or "" / ":memory:" for an in-memory
// database. Opening a file that is already open in this process returns
// the same Engine; Close it once per Open.
func Open(ctx context.Context, dsn string) (*Engine, error) {
	path, query := splitDSN(dsn)
	key := ""
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		key = abs
		if st, err := os.Stat(abs); err == nil && st.IsDir() {
			return nil, fmt.Errorf("open %s: is a directory, not a database file", path)
		}
	}
	openMu.Lock()
	defer openMu.Unlock()
	if key != "" {
		if e, ok := opened[key]; ok {
			e.refs++
			return e, nil
		}
	}
	e, err := newEngine(ctx, key, query)
	if err != nil {
		return nil, err
	}
	e.refs = 1
	if key != "" {
		opened[key] = e
	}
	return e, nil
}

func splitDSN(dsn string) (path, query string) {
	path = dsn
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		path, query = dsn[:i], dsn[i+1:]
	}
	if path == ":memory:" {
		path = ""
	}
	return path, query
}

func newEngine(ctx context.Context, key, query string) (*Engine, error) {
	dsn := key
	if query != "" {
		dsn += "?" + query
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		where := key
		if where == "" {
			where = "in-memory database"
		}
		return nil, openError(where, query, err)
	}
	e := &Engine{
		key:       key,
		connector: connector,
		db:        sql.OpenDB(connector),
		handles:   map[string]*handle{},
		precise:   map[string]*handle{},
		predicts:  map[string]string{},
		spin:      spinGuard{off: os.Getenv("AUGUR_SPIN_GUARD") == "off"},
	}
	if err := e.init(ctx); err != nil {
		_ = e.db.Close()
		_ = connector.Close()
		return nil, err
	}
	return e, nil
}

// lockHolder finds the process DuckDB names in its lock error.
var lockHolder = regexp.MustCompile(`Conflicting lock is held in (.*) \(PID (\d+)\)`)

// openError explains DuckDB's error for a database file that another
// process holds: which process, and how several processes can share the
// file (DuckDB lets one process write it, or many read it).
func openError(where, query string, err error) error {
	m := lockHolder.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("open %s: %w", where, err)
	}
	holder := fmt.Sprintf("process %s (%s)", m[2], untrusted.Clean(m[1]))
	if strings.Contains(strings.ToLower(query), "access_mode=read_only") {
		return fmt.Errorf("open %s: the database is locked for writing by %s; a read-only open succeeds only while no process has it open for writing; wait for that process to finish (DuckDB lets one process write a database file, or many read it)", where, holder)
	}
	return fmt.Errorf("open %s: the database is in use by %s, and DuckDB lets only one process write a database file; "+
		"to share it, open it read-only in every process (augur -readonly DB, or DB?access_mode=READ_ONLY in the Go library), "+
		"or let one process own it and serve the others (augur serve)", where, holder)
}

func (e *Engine) init(ctx context.Context) error {
	// Offline machines cannot download extensions; fail fast with
	// DuckDB's own message instead of hanging on the network.
	if _, err := e.db.ExecContext(ctx, "SET autoinstall_known_extensions = false"); err != nil {
		return fmt.Errorf("configure DuckDB: %w", err)
	}
	cat, err := catalog.Open(ctx, e.db)
	if err != nil {
		return err
	}
	e.cat = cat
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := registerModelsTable(conn, e); err != nil {
		return err
	}
	for _, name := range sqlext.Extensions.Names() {
		setup, _ := sqlext.Extensions.Lookup(name)
		if err := setup(ctx, conn); err != nil {
			return fmt.Errorf("install SQL extension %s: %w", name, err)
		}
	}
	for _, t := range e.cat.ResultTypes() {
		if _, err := e.predictFunc(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// Catalog returns the engine's model catalog.
func (e *Engine) Catalog() *catalog.Catalog { return e.cat }

// Close releases one Open. The last Close unloads the models and closes
// the database, which checkpoints it so the file alone holds everything.
func (e *Engine) Close() error {
	openMu.Lock()
	e.refs--
	last := e.refs == 0
	if last && e.key != "" {
		delete(opened, e.key)
	}
	openMu.Unlock()
	if !last {
		return nil
	}
	e.mu.Lock()
	for _, hs := range []map[string]*handle{e.handles, e.precise} {
		for k, h := range hs {
			h.retire()
			delete(hs, k)
		}
	}
	e.mu.Unlock()
	err := e.db.Close()
	if cerr := e.connector.Close(); err == nil {
		err = cerr
	}
	return err
}
