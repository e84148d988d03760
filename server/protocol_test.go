package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/augurdb/augur/engine"
	_ "github.com/augurdb/augur/flavor/sklearn"
)

// endless never finishes on its own: a cross join that DuckDB computes
// for minutes.
const endless = "SELECT count(*) FROM range(1000000000) a, range(1000000) b WHERE a.range + b.range = -1"

func TestErrorsKeepSessionServing(t *testing.T) {
	c := connect(t, startServer(t, Config{}))
	ctx := context.Background()
	for _, tc := range []struct{ sql, code string }{
		{"SELEC 1", "42601"},
		{"SELECT * FROM nope", "42P01"},
		{"SELECT nope FROM range(1)", "42703"},
		{"SELECT 'x'::INTEGER", "22P02"},
		{"SELECT 1/0::INTEGER + nosuchfunc(1)", "42883"},
		{"SELECT ML_PREDICT(nomodel, [1])", "42704"},
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
			_, err := c.Exec(ctx, tc.sql, mode)
			if got := sqlState(err); got != tc.code {
				t.Errorf("%s (mode %v): SQLSTATE %q (%v), want %s", tc.sql, mode, got, err, tc.code)
			}
			var n int
			if err := c.QueryRow(ctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
				t.Fatalf("after %s: %d, %v", tc.sql, n, err)
			}
		}
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	c := connect(t, startServer(t, Config{}))
	// A model statement is parsed by augur: its parser.Error position is
	// sent, counted in characters of the whole query text.
	_, err := c.Exec(context.Background(), "SELECT 'é'; CREATE MODEL m FLAVOR", pgx.QueryExecModeSimpleProtocol)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" {
		t.Fatalf("got %v, want a 42601 error", err)
	}
	if pe.Position < 13 || pe.Position > 34 {
		t.Errorf("position %d, want one inside the CREATE MODEL statement (13..34)", pe.Position)
	}
}

func TestTransactionStatus(t *testing.T) {
	c := connect(t, startServer(t, Config{})).PgConn()
	ctx := context.Background()
	exec := func(sql string) error {
		_, err := c.Exec(ctx, sql).ReadAll()
		return err
	}
	steps := []struct {
		sql     string
		wantErr string
		status  byte
	}{
		{"CREATE TABLE tx (a INTEGER)", "", 'I'},
		{"BEGIN", "", 'T'},
		{"INSERT INTO tx VALUES (1)", "", 'T'},
		{"SELECT * FROM nope", "42P01", 'E'},
		{"INSERT INTO tx VALUES (2)", "25P02", 'E'},
		{"COMMIT", "", 'I'}, // rolls back
		{"BEGIN; INSERT INTO tx VALUES (3); COMMIT", "", 'I'},
	}
	for _, s := range steps {
		err := exec(s.sql)
		if sqlState(err) != s.wantErr {
			t.Fatalf("%s: %v, want SQLSTATE %q", s.sql, err, s.wantErr)
		}
		if got := c.TxStatus(); got != s.status {
			t.Fatalf("after %s: status %c, want %c", s.sql, got, s.status)
		}
	}
	res, err := c.Exec(ctx, "SELECT list(a ORDER BY a)::VARCHAR FROM tx").ReadAll()
	if err != nil || string(res[0].Rows[0][0]) != "[3]" {
		t.Fatalf("table holds %q (%v), want [3]: the failed transaction must have rolled back", res[0].Rows, err)
	}
}

func TestParametersTextAndBinary(t *testing.T) {
	c := connect(t, startServer(t, Config{}))
	ctx := context.Background()
	if _, err := c.Exec(ctx, `CREATE TABLE p (i INTEGER, b BIGINT, f DOUBLE, d DECIMAL(10,2), s VARCHAR, ok BOOLEAN,
		dt DATE, ts TIMESTAMP, blob BLOB, u UUID, l INTEGER[])`); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 3, 5, 1, 2, 3, 456000, time.UTC)
	args := []any{int32(-5), int64(1) << 40, 2.5, "12.34", "it's", true, time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), ts,
		[]byte{0, 1, 0xff}, pgtype.UUID{Bytes: [16]byte{1, 2, 3}, Valid: true}, []int32{1, 2}}
	const ins = "INSERT INTO p VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
	// pgx sends each parameter in the format its type prefers (binary for
	// numbers, dates, bytea, arrays); the simple protocol inlines them as
	// text; the text-only mode sends every parameter as text.
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		if _, err := c.Exec(ctx, ins, append([]any{mode}, args...)...); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
	}
	textArgs := []string{"-5", "1099511627776", "2.5", "12.34", "it's", "t", "2024-03-05", "2024-03-05 01:02:03.000456", `\x0001ff`, "01020300-0000-0000-0000-000000000000", "{1,2}"}
	params := make([][]byte, len(textArgs))
	for i, a := range textArgs {
		params[i] = []byte(a)
	}
	if _, err := c.PgConn().ExecParams(ctx, ins, params, nil, nil, nil).Close(); err != nil {
		t.Fatalf("text parameters: %v", err)
	}
	rows, err := c.Query(ctx, "SELECT DISTINCT i, b, f, d::VARCHAR, s, ok, dt, ts, blob, u::VARCHAR, l::VARCHAR FROM p")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(got) != 1 {
		t.Fatalf("the three inserts differ: %v", got)
	}
	want := "[-5 1099511627776 2.5 12.34 it's true 2024-03-05 00:00:00 +0000 UTC 2024-03-05 01:02:03.000456 +0000 UTC [0 1 255] 01020300-0000-0000-0000-000000000000 [1, 2]]"
	if s := fmt.Sprint(got[0]); s != want {
		t.Errorf("row\n%s\nwant\n%s", s, want)
	}
}

func TestNamedStatementsAndPortals(t *testing.T) {
	c := connect(t, startServer(t, Config{})).PgConn()
	ctx := context.Background()
	sd, err := c.Prepare(ctx, "byten", "SELECT range * $1::INTEGER AS x FROM range(10)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != 23 || len(sd.Fields) != 1 || sd.Fields[0].DataTypeOID != 20 || sd.Fields[0].Name != "x" {
		t.Fatalf("description %+v %+v", sd.ParamOIDs, sd.Fields)
	}
	// A portal read 4 rows at a time: Execute with a row limit suspends.
	var fe = c.Frontend()
	fe.Send(&pgproto3.Bind{DestinationPortal: "p1", PreparedStatement: "byten", Parameters: [][]byte{[]byte("3")}})
	for range 3 {
		fe.Send(&pgproto3.Execute{Portal: "p1", MaxRows: 4})
	}
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var trace []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			trace = append(trace, string(m.Values[0]))
		case *pgproto3.PortalSuspended:
			trace = append(trace, "|")
		case *pgproto3.CommandComplete:
			trace = append(trace, string(m.CommandTag))
		case *pgproto3.ErrorResponse:
			t.Fatalf("error %s", m.Message)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if got := strings.Join(trace, " "); got != "0 3 6 9 | 12 15 18 21 | 24 27 SELECT 2" {
		t.Errorf("got %s", got)
	}
	// The statement stays after Sync; Describe does not run it.
	res := c.ExecPrepared(ctx, "byten", [][]byte{[]byte("2")}, nil, []int16{1}).Read()
	if res.Err != nil || len(res.Rows) != 10 || len(res.Rows[9][0]) != 8 || res.Rows[9][0][7] != 18 {
		t.Fatalf("ExecPrepared: %v %v", res.Rows, res.Err)
	}
	if err := c.Deallocate(ctx, "byten"); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecPrepared(ctx, "byten", nil, nil, nil).Read().Err; sqlState(err) != "26000" {
		t.Errorf("after Close: %v, want 26000", err)
	}
}

func TestEmptyQuery(t *testing.T) {
	c := connect(t, startServer(t, Config{})).PgConn()
	res, err := c.Exec(context.Background(), " ; -- nothing").ReadAll()
	if err != nil || len(res) != 1 || res[0].CommandTag.String() != "" {
		t.Fatalf("got %+v, %v", res, err)
	}
}

func TestCommandTags(t *testing.T) {
	c := connect(t, startServer(t, Config{})).PgConn()
	res, err := c.Exec(context.Background(), `CREATE TABLE tags (a INTEGER); INSERT INTO tags SELECT * FROM range(3);
		UPDATE tags SET a = a + 1 WHERE a > 0; DELETE FROM tags WHERE a = 0; SELECT * FROM tags;
		INSERT INTO tags VALUES (7) RETURNING a; CREATE OR REPLACE VIEW v AS SELECT 1; DROP VIEW v`).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range res {
		tags = append(tags, r.CommandTag.String())
	}
	want := "CREATE TABLE,INSERT 0 3,UPDATE 2,DELETE 1,SELECT 2,INSERT 0 1,CREATE VIEW,DROP VIEW"
	if got := strings.Join(tags, ","); got != want {
		t.Errorf("tags %s\nwant %s", got, want)
	}
}

func TestModelThroughServer(t *testing.T) {
	c := connect(t, startServer(t, Config{}))
	ctx := context.Background()
	model, _ := filepath.Abs("../examples/models/iris_forest.pkl")
	data, _ := filepath.Abs("../examples/data/iris.csv")
	for _, q := range []string{
		"CREATE TABLE flowers AS SELECT * FROM read_csv('" + data + "')",
		"CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING '" + model + "'",
	} {
		if tag, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		} else if strings.HasPrefix(q, "CREATE MODEL") && tag.String() != "CREATE MODEL" {
			t.Errorf("tag %q, want CREATE MODEL", tag)
		}
	}
	const q = "SELECT species, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS p FROM flowers WHERE id = $1"
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		var species, p string
		if err := c.QueryRow(ctx, q, mode, 1).Scan(&species, &p); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if species != "setosa" || p != "setosa" {
			t.Errorf("mode %v: predicted %q for %q", mode, p, species)
		}
	}
	// Features as a parameter: pgx sends a float8[] in binary.
	var p string
	if err := c.QueryRow(ctx, "SELECT ML_PREDICT(iris, $1::DOUBLE[])", []float64{6.7, 3.0, 5.2, 2.3}).Scan(&p); err != nil || p != "virginica" {
		t.Fatalf("ML_PREDICT of a parameter: %q, %v", p, err)
	}
	rows, err := c.Query(ctx, "SHOW MODELS")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToMap)
	if err != nil || len(got) != 1 || got[0]["name"] != "iris" {
		t.Fatalf("SHOW MODELS: %v, %v", got, err)
	}
}

// cancelUntilDone sends CancelRequests for c until result delivers.
func cancelUntilDone(t *testing.T, c *pgconn.PgConn, result <-chan error) error {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-result:
			return err
		case <-tick.C:
			if err := c.CancelRequest(context.Background()); err != nil {
				t.Fatalf("CancelRequest: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the query was not cancelled")
		}
	}
}

func TestCancelRequest(t *testing.T) {
	c := connect(t, startServer(t, Config{}))
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		done := make(chan error, 1)
		go func() { _, err := c.Exec(context.Background(), endless, mode); done <- err }()
		if err := cancelUntilDone(t, c.PgConn(), done); sqlState(err) != "57014" {
			t.Fatalf("mode %v: %v, want SQLSTATE 57014", mode, err)
		}
		var n int
		if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&n); err != nil {
			t.Fatalf("after the cancel: %v", err)
		}
	}
}

// waitSessions waits until the server has n sessions, none busy.
func waitSessions(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ss := s.sessions()
		busy := false
		for _, x := range ss {
			busy = busy || x.busy.Load()
		}
		if len(ss) == n && !busy {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server still has %d sessions, want %d", len(s.sessions()), n)
}

// waitBusy waits until a session of the server runs a query.
func waitBusy(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, x := range s.sessions() {
			if x.busy.Load() {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no query started")
}

func TestDisconnectMidQueryFreesSession(t *testing.T) {
	srv, addr := startTestServer(t, Config{})
	c := connect(t, addr)
	go func() { _, _ = c.Exec(context.Background(), endless) }()
	waitBusy(t, srv)
	_ = c.PgConn().Conn().Close()
	waitSessions(t, srv, 0)
}

// blockingUDF registers wait_release(x), which returns x once release
// is closed, so that a test controls how long a query runs.
func blockingUDF(t *testing.T, e *engine.Engine) (release func()) {
	t.Helper()
	db := sql.OpenDB(rawConnector{e})
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	intType, _ := duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
	ch := make(chan struct{})
	f := udf{cfg: duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{intType}, ResultTypeInfo: intType, Volatile: true},
		fn: func(v []driver.Value) (any, error) { <-ch; return v[0], nil }}
	if err := duckdb.RegisterScalarUDF(conn, "wait_release", f); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

type rawConnector struct{ e *engine.Engine }

func (r rawConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.e.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return c.Unwrap(), nil
}
func (r rawConnector) Driver() driver.Driver { return nil }

type udf struct {
	cfg duckdb.ScalarFuncConfig
	fn  func([]driver.Value) (any, error)
}

func (u udf) Config() duckdb.ScalarFuncConfig { return u.cfg }
func (u udf) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: u.fn}
}

func TestShutdownWaitsForRunningQuery(t *testing.T) {
	e, err := engine.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	release := blockingUDF(t, e)
	defer release()
	srv, addr := startTestServer(t, Config{Engine: e, ShutdownTimeout: time.Minute})
	c := connect(t, addr)
	idle := connect(t, addr)
	got := make(chan error, 1)
	var n int
	// One request (the simple protocol): Shutdown waits for it. (An
	// extended-protocol query of two requests may be refused between them.)
	go func() {
		got <- c.QueryRow(context.Background(), "SELECT wait_release(7)", pgx.QueryExecModeSimpleProtocol).Scan(&n)
	}()
	waitBusy(t, srv)
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	// New connections are refused while the query runs.
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
		time.Sleep(5 * time.Millisecond)
	}
	release()
	if err := <-got; err != nil || n != 7 {
		t.Fatalf("the running query got %d, %v; want 7: Shutdown must let it finish", n, err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := idle.Ping(context.Background()); err == nil {
		t.Error("an idle session survived Shutdown")
	}
}

func TestShutdownCancelsAfterTimeout(t *testing.T) {
	srv, addr := startTestServer(t, Config{ShutdownTimeout: time.Millisecond})
	c := connect(t, addr)
	got := make(chan error, 1)
	go func() { _, err := c.Exec(context.Background(), endless); got <- err }()
	waitBusy(t, srv)
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-got; err == nil {
		t.Fatal("the endless query succeeded")
	}
}
