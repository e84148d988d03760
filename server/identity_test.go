package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
