package server

import (
	"context"
	"database/sql/driver"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/augurdb/augur/engine"
)

// TestSessionIdentity: the session is the user who connected (current_user,
// session_authorization, pg_get_userbyid, psql's Owner column), no
// superuser, and pg_backend_pid() is the process id of BackendKeyData.
func TestSessionIdentity(t *testing.T) {
	addr := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://alice@"+addr+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	pc := c.PgConn()
	if got := pc.ParameterStatus("session_authorization"); got != "alice" {
		t.Errorf("ParameterStatus session_authorization = %q, want alice", got)
	}
	if got := pc.ParameterStatus("is_superuser"); got != "off" {
		t.Errorf("ParameterStatus is_superuser = %q, want off", got)
	}
	var user, sessUser, owner, shown string
	var pid int64
	err = c.QueryRow(ctx, "SELECT current_user, session_user, pg_catalog.pg_get_userbyid(10), pg_backend_pid()").Scan(&user, &sessUser, &owner, &pid)
	if err != nil {
		t.Fatal(err)
	}
	if user != "alice" || sessUser != "alice" || owner != "alice" {
		t.Errorf("current_user, session_user, pg_get_userbyid = %q, %q, %q; want alice", user, sessUser, owner)
	}
	if pid == 0 || uint32(pid) != pc.PID() {
		t.Errorf("pg_backend_pid() = %d, BackendKeyData's process id %d", pid, pc.PID())
	}
	if err := c.QueryRow(ctx, "SHOW session_authorization", pgx.QueryExecModeSimpleProtocol).Scan(&shown); err != nil || shown != "alice" {
		t.Errorf("SHOW session_authorization = %q, %v", shown, err)
	}
	out, errOut, code := psqlRun(t, addr, "-A", "-t", "-c", "CREATE TABLE t(a INTEGER)", "-c", `\dt`)
	// psqlRun connects as augur: its session's owner is augur.
	if code != 0 || errOut != "" || !strings.Contains(out, "main|t|table|augur") {
		t.Errorf("psql \\dt: exit %d, %q, %q", code, out, errOut)
	}
}

// TestRefusalSQLSTATE: what pgcompat refuses reaches the client with
// pgcompat's SQLSTATE, and the session goes on.
func TestRefusalSQLSTATE(t *testing.T) {
	addr := startServer(t, Config{})
	c := connect(t, addr)
	ctx := context.Background()
	for _, q := range []struct{ sql, code string }{
		{"SET DateStyle = 'SQL, DMY'", "22023"},
		{"SET client_encoding = 'LATIN1'", "22023"},
		{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "0A000"},
		{"BEGIN READ ONLY", "0A000"},
		{"SET server_version = '16'", "55P02"},
		{"SHOW myapp.missing", "42704"},
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
			if _, err := c.Exec(ctx, q.sql, mode); sqlState(err) != q.code {
				t.Errorf("%s (mode %v): %v, want SQLSTATE %s", q.sql, mode, err, q.code)
			}
		}
	}
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("after the refusals: %d, %v", one, err)
	}
}

// TestTimeZone: the session's TimeZone is DuckDB's setting of its
// connection: reported at startup and after SET TIME ZONE, honoured by
// timestamptz text output (PostgreSQL's offsets, +05:30 included), the
// same instant in binary. (augur serve locks DuckDB's configuration,
// where only a SET of the zone the session has succeeds: cli's tests.)
func TestTimeZone(t *testing.T) {
	ctx := context.Background()
	e, err := engine.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ec, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ec.QueryContext(ctx, "SELECT current_setting('TimeZone')", nil)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	ec.Close()
	addr := startServer(t, Config{Engine: e})
	conn := connect(t, addr)
	if got := conn.PgConn().ParameterStatus("TimeZone"); got != v[0] {
		t.Errorf("ParameterStatus TimeZone at startup = %q, want DuckDB's %q", got, v[0])
	}
	const instant = "'2024-03-05 01:02:03.5+00'::TIMESTAMPTZ"
	want := time.Date(2024, 3, 5, 1, 2, 3, 500_000_000, time.UTC)
	for _, c := range []struct{ zone, text string }{
		{"America/New_York", "2024-03-04 20:02:03.5-05"},
		{"Asia/Kolkata", "2024-03-05 06:32:03.5+05:30"},
		{"UTC", "2024-03-05 01:02:03.5+00"},
	} {
		if _, err := conn.Exec(ctx, "SET TIME ZONE '"+c.zone+"'"); err != nil {
			t.Fatalf("SET TIME ZONE %s: %v", c.zone, err)
		}
		if got := conn.PgConn().ParameterStatus("TimeZone"); got != c.zone {
			t.Errorf("ParameterStatus TimeZone after SET = %q, want %q", got, c.zone)
		}
		var text, shown string
		var bin time.Time
		if err := conn.QueryRow(ctx, "SELECT "+instant+"::TIMESTAMPTZ", pgx.QueryExecModeSimpleProtocol).Scan(&text); err != nil || text != c.text {
			t.Errorf("%s: timestamptz text %q, %v; want %q", c.zone, text, err, c.text)
		}
		if err := conn.QueryRow(ctx, "SELECT "+instant).Scan(&bin); err != nil || !bin.Equal(want) {
			t.Errorf("%s: timestamptz binary %v, %v; want %v", c.zone, bin, err, want)
		}
		if err := conn.QueryRow(ctx, "SHOW TimeZone", pgx.QueryExecModeSimpleProtocol).Scan(&shown); err != nil || shown != c.zone {
			t.Errorf("SHOW TimeZone = %q, %v; want %q", shown, err, c.zone)
		}
	}
}
