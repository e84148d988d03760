// Package catalog keeps the registered models. They are stored in the
// database itself, in the table _augur.models, so a database file carries
// its models with its data; an in-memory database has an in-memory
// catalog. One Catalog serves every connection of a process, and it is
// the only writer of that table.
package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/augurdb/augur/types"
)

// Entry is one registered model.
type Entry struct {
	Name      string            // as written in CREATE MODEL
	Flavor    string            // resolved ("" = none)
	ModelType string            // resolved ("" = none)
	URI       string            // USING as written ("" = none)
	Location  string            // where USING resolved to (absolute), "" = none
	Options   map[string]string // in effect
	Returns   types.Type        // the result type ML_PREDICT produces
	ShownType string            // Returns as DuckDB's typeof() spells it
	Requested *types.Type       // RETURNS or YAML schema, nil = model type's own
	Labels    []string          // labels from a YAML spec
	Details   map[string]any    // what the flavor says about the model (inputs, outputs, estimator)
	Created   time.Time
	SHA256    string // of the artifact's bytes at CREATE MODEL, "" when it has none of its own (a folder, TorchHub)
	Embedded  int64  // the size of the artifact's bytes kept in the database (OPTIONS embed), 0 if not kept
}

// Key is the case-insensitive identity of a model name.
func Key(name string) string { return strings.ToLower(name) }

// OptionsJSON renders the options as a compact JSON object with sorted
// keys; "{}" when there are none.
func (e *Entry) OptionsJSON() string {
	if len(e.Options) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(e.Options) // encoding/json sorts map keys
	return string(b)
}

// DetailJSON renders Details[key] as JSON text, or returns nil (SQL NULL)
// when the flavor did not say; DESCRIBE MODEL shows "inputs" and
// "outputs" this way.
func (e *Entry) DetailJSON(key string) any {
	v, ok := e.Details[key]
	if !ok || v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// DetailsJSON renders Details as a JSON object ("{}" when empty), with
// the location USING resolved to.
func (e *Entry) DetailsJSON() string {
	d := map[string]any{}
	for k, v := range e.Details {
		d[k] = v
	}
	if e.Location != "" {
		d["location"] = e.Location
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// stored is the JSON form of the fields that have no column of their own.
type stored struct {
	Location  string         `json:"location,omitempty"`
	Returns   types.Type     `json:"returns"`
	Requested *types.Type    `json:"requested,omitempty"`
	Labels    []string       `json:"labels,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
	SHA256    string         `json:"sha256,omitempty"`
	Embedded  int64          `json:"embedded,omitempty"`
}

// Catalog is the in-process view of _augur.models. Reads are served from
// memory; writes go to the table first, inside a transaction, and reach
// memory only after the commit, so a failed statement changes nothing.
type Catalog struct {
	db *sql.DB

	mu      sync.RWMutex
	entries map[string]*Entry
	types   []types.Type // result types stored when the catalog was opened
}

const schemaSQL = `CREATE SCHEMA IF NOT EXISTS _augur;
CREATE TABLE IF NOT EXISTS _augur.models (
	key        VARCHAR PRIMARY KEY,
	name       VARCHAR NOT NULL,
	flavor     VARCHAR,
	model_type VARCHAR,
	uri        VARCHAR,
	options    VARCHAR NOT NULL,
	returns    VARCHAR NOT NULL,
	detail     VARCHAR NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS _augur.result_types (
	sql  VARCHAR PRIMARY KEY,
	type VARCHAR NOT NULL
)`

// Open loads the catalog of db. The table is created by the first CREATE
// MODEL, so opening a plain DuckDB file for queries does not change it.
func Open(ctx context.Context, db *sql.DB) (*Catalog, error) {
	c := &Catalog{db: db, entries: map[string]*Entry{}}
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = '_augur' AND table_name = 'models'`).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("read model catalog: %w", err)
	}
	if n == 0 {
		return c, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT name, flavor, model_type, uri, options, returns, detail, created_at FROM _augur.models`)
	if err != nil {
		return nil, fmt.Errorf("read model catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		c.entries[Key(e.Name)] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return c, c.readTypes(ctx)
}

// readTypes loads the result types models of this database have had.
// Views and tables may name their predict functions long after the
// model changed or went; their functions must exist for a clear error.
func (c *Catalog) readTypes(ctx context.Context) error {
	rows, err := c.db.QueryContext(ctx, `SELECT type FROM _augur.result_types`)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil // a catalog from before result_types
		}
		return fmt.Errorf("read model catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var js string
		var t types.Type
		if err := rows.Scan(&js); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(js), &t); err != nil {
			return fmt.Errorf("model catalog: result type %s: %w", js, err)
		}
		c.types = append(c.types, t)
	}
	return rows.Err()
}

// ResultTypes returns the result types models of this database had when
// it was opened (the engine registers later ones as models are created).
func (c *Catalog) ResultTypes() []types.Type {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]types.Type(nil), c.types...)
}

func scan(rows *sql.Rows) (*Entry, error) {
	var (
		e                  Entry
		flavor, mtype, uri sql.NullString
		options, detail    string
	)
	if err := rows.Scan(&e.Name, &flavor, &mtype, &uri, &options, &e.ShownType, &detail, &e.Created); err != nil {
		return nil, fmt.Errorf("read model catalog: %w", err)
	}
	e.Flavor, e.ModelType, e.URI = flavor.String, mtype.String, uri.String
	if err := json.Unmarshal([]byte(options), &e.Options); err != nil {
		return nil, fmt.Errorf("model catalog entry %q: options: %w", e.Name, err)
	}
	var s stored
	if err := json.Unmarshal([]byte(detail), &s); err != nil {
		return nil, fmt.Errorf("model catalog entry %q: %w", e.Name, err)
	}
	e.Location, e.Returns, e.Requested, e.Labels, e.Details, e.SHA256, e.Embedded = s.Location, s.Returns, s.Requested, s.Labels, s.Details, s.SHA256, s.Embedded
	return &e, nil
}

// Get returns the model named name (case-insensitive).
func (c *Catalog) Get(name string) (*Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[Key(name)]
	return e, ok
}

// List returns every model, ordered by name.
func (c *Catalog) List() []*Entry {
	c.mu.RLock()
	out := make([]*Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := Key(out[i].Name), Key(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Put stores e, replacing any model of the same name, atomically.
func (c *Catalog) Put(ctx context.Context, e *Entry) error { return c.PutEmbedded(ctx, e, nil) }

// artifactsSQL keeps embedded artifacts (OPTIONS embed), by sha256, so
// that models sharing bytes share one copy.
const artifactsSQL = `CREATE TABLE IF NOT EXISTS _augur.artifacts (
	sha256 VARCHAR PRIMARY KEY,
	bytes  BLOB NOT NULL
)`

// PutEmbedded is Put that also keeps data, the artifact's bytes (whose
// sha256 is e.SHA256), in the database, in the same transaction; nil
// keeps none. Artifacts no model refers to any more are removed.
func (c *Catalog) PutEmbedded(ctx context.Context, e *Entry, data []byte) error {
	detail, err := json.Marshal(stored{Location: e.Location, Returns: e.Returns, Requested: e.Requested, Labels: e.Labels, Details: e.Details, SHA256: e.SHA256, Embedded: e.Embedded})
	if err != nil {
		return fmt.Errorf("encode model %q: %w", e.Name, err)
	}
	typeJSON, err := json.Marshal(e.Returns)
	if err != nil {
		return fmt.Errorf("encode model %q: %w", e.Name, err)
	}
	err = c.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM _augur.models WHERE key = ?`, Key(e.Name)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO _augur.models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			Key(e.Name), e.Name, nullable(e.Flavor), nullable(e.ModelType), nullable(e.URI),
			e.OptionsJSON(), e.ShownType, string(detail), e.Created)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO _augur.result_types VALUES (?, ?)`, e.Returns.SQL(), string(typeJSON)); err != nil {
			return err
		}
		if data != nil {
			if _, err := tx.ExecContext(ctx, artifactsSQL); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO _augur.artifacts VALUES (?, ?)`, e.SHA256, data); err != nil {
				return err
			}
		}
		return c.pruneArtifacts(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("store model %q in the catalog: %w", e.Name, err)
	}
	c.mu.Lock()
	c.entries[Key(e.Name)] = e
	c.mu.Unlock()
	return nil
}

// Delete removes the model named name; it reports whether one existed.
func (c *Catalog) Delete(ctx context.Context, name string) (bool, error) {
	if _, ok := c.Get(name); !ok {
		return false, nil
	}
	err := c.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM _augur.models WHERE key = ?`, Key(name)); err != nil {
			return err
		}
		return c.pruneArtifacts(ctx, tx, &Entry{Name: name})
	})
	if err != nil {
		return false, fmt.Errorf("remove model %q from the catalog: %w", name, err)
	}
	c.mu.Lock()
	delete(c.entries, Key(name))
	c.mu.Unlock()
	return true, nil
}

// pruneArtifacts removes the embedded artifacts that no model keeps once
// changed (replaced by e, or dropped when e has no bytes) is gone.
func (c *Catalog) pruneArtifacts(ctx context.Context, tx *sql.Tx, changed *Entry) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = '_augur' AND table_name = 'artifacts'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	keep := []any{}
	marks := []string{}
	c.mu.RLock()
	for k, e := range c.entries {
		if k != Key(changed.Name) && e.Embedded > 0 {
			keep, marks = append(keep, e.SHA256), append(marks, "?")
		}
	}
	c.mu.RUnlock()
	if changed.Embedded > 0 {
		keep, marks = append(keep, changed.SHA256), append(marks, "?")
	}
	q := `DELETE FROM _augur.artifacts`
	if len(keep) > 0 {
		q += ` WHERE sha256 NOT IN (` + strings.Join(marks, ", ") + `)`
	}
	_, err := tx.ExecContext(ctx, q, keep...)
	return err
}

// Artifact returns the embedded bytes of the artifact whose sha256 is
// sha.
func (c *Catalog) Artifact(ctx context.Context, sha string) ([]byte, error) {
	var data []byte
	if err := c.db.QueryRowContext(ctx, `SELECT bytes FROM _augur.artifacts WHERE sha256 = ?`, sha).Scan(&data); err != nil {
		return nil, fmt.Errorf("read the embedded artifact %s: %w", sha, err)
	}
	return data, nil
}

func (c *Catalog) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
