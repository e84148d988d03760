package scaleout

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/augurdb/augur/source"
)

// jobCatalog is the name the job database is attached under while it is
// written.
const jobCatalog = "__augur_job"

// WriteJobDB writes the job database into the plan's Temp folder: a new
// DuckDB file holding the model catalog of conn's database (schema
// _augur, with the bytes of embedded models) and nothing else. It
// travels with the job; workers open it read-only, so that every model
// resolves, and is verified, exactly as it would in the user's database.
func (p *Plan) WriteJobDB(ctx context.Context, conn *sql.Conn) error {
	path := filepath.Join(p.Temp, "job.duckdb")
	os.Remove(path)
	var cur string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&cur); err != nil {
		return fmt.Errorf("job database: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "ATTACH "+quoteString(path)+" AS "+jobCatalog+" (READ_WRITE)"); err != nil {
		return fmt.Errorf("job database: %w", err)
	}
	attached := true
	defer func() {
		if attached {
			conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+jobCatalog)
		}
	}()
	rows, err := conn.QueryContext(ctx, "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = ? AND schema_name = '_augur' ORDER BY table_name", cur)
	if err != nil {
		return fmt.Errorf("job database: %w", err)
	}
	type table struct{ name, sql string }
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.sql); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+jobCatalog+"._augur"); err != nil {
		return fmt.Errorf("job database: %w", err)
	}
	for _, t := range tables {
		const prefix = "CREATE TABLE _augur."
		if !strings.HasPrefix(t.sql, prefix) {
			return fmt.Errorf("job database: unexpected definition of _augur.%s: %s", t.name, t.sql)
		}
		create := "CREATE TABLE " + jobCatalog + "._augur." + strings.TrimPrefix(t.sql, prefix)
		if _, err := conn.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("job database: %w", err)
		}
		copyRows := fmt.Sprintf("INSERT INTO %s._augur.%s SELECT * FROM %s._augur.%s", jobCatalog, quoteIdent(t.name), quoteIdent(cur), quoteIdent(t.name))
		if _, err := conn.ExecContext(ctx, copyRows); err != nil {
			return fmt.Errorf("job database: %w", err)
		}
	}
	attached = false
	if _, err := conn.ExecContext(ctx, "DETACH "+jobCatalog); err != nil {
		return fmt.Errorf("job database: %w", err)
	}
	sha, err := source.FileSHA256(path)
	if err != nil {
		return err
	}
	p.JobDB, p.JobSHA256 = path, sha
	return nil
}
