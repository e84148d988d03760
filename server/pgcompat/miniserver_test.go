package pgcompat

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// miniServer is the least of the PostgreSQL simple-query protocol that
// lets the real psql talk to Translate and DuckDB, so that this package's
// translations are checked against psql itself without the server
// package. It serves one connection at a time and records every query.
type miniServer struct {
	db   *sql.DB
	ln   net.Listener
	mu   sync.Mutex
	seen []string
}

type mapSession map[string]string

func (m mapSession) Param(n string) string { return m[strings.ToLower(n)] }
func (m mapSession) SetParam(n, v string)  { m[strings.ToLower(n)] = v }

func startMini(t *testing.T, db *sql.DB) *miniServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &miniServer{db: db, ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m.serve(c)
		}
	}()
	return m
}

func (m *miniServer) queries() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.seen...)
}

func (m *miniServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	be := pgproto3.NewBackend(c, c)
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		if _, ok := msg.(*pgproto3.SSLRequest); ok {
			c.Write([]byte("N"))
			continue
		}
		if _, ok := msg.(*pgproto3.StartupMessage); ok {
			break
		}
		return
	}
	conn, err := m.db.Conn(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	sess := mapSession{}
	be.Send(&pgproto3.AuthenticationOk{})
	for k, v := range StartupParams() {
		sess.SetParam(k, v)
		be.Send(&pgproto3.ParameterStatus{Name: k, Value: v})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: 42, SecretKey: []byte{0, 0, 0, 1}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	be.Flush()
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		q, ok := msg.(*pgproto3.Query)
		if !ok {
			return
		}
		m.mu.Lock()
		m.seen = append(m.seen, q.String)
		m.mu.Unlock()
		if err := m.answer(be, conn, sess, q.String); err != nil {
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "XX000", Message: err.Error()})
		}
		be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		if be.Flush() != nil {
			return
		}
	}
}

func (m *miniServer) answer(be *pgproto3.Backend, conn *sql.Conn, sess Session, q string) error {
	if strings.TrimSpace(strings.TrimRight(strings.TrimSpace(q), ";")) == "" {
		be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	sqlText, res, err := Translate(q, sess)
	if err != nil {
		return err
	}
	if res != nil {
		sendResult(be, res)
		return nil
	}
	rows, err := conn.QueryContext(context.Background(), sqlText)
	if err != nil {
		return err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	r := &Result{Tag: "SELECT"}
	for _, ct := range cts {
		r.Columns = append(r.Columns, Column{Name: ct.Name(), OID: duckOID(ct.DatabaseTypeName())})
	}
	for rows.Next() {
		v := make([]any, len(cts))
		p := make([]any, len(cts))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			return err
		}
		r.Rows = append(r.Rows, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.Tag = fmt.Sprintf("SELECT %d", len(r.Rows))
	sendResult(be, r)
	return nil
}

func duckOID(t string) uint32 {
	switch t {
	case "BOOLEAN":
		return 16
	case "SMALLINT":
		return 21
	case "INTEGER":
		return 23
	case "BIGINT":
		return 20
	case "FLOAT":
		return 700
	case "DOUBLE":
		return 701
	}
	return 25
}

func sendResult(be *pgproto3.Backend, r *Result) {
	if len(r.Columns) > 0 {
		rd := &pgproto3.RowDescription{}
		for _, c := range r.Columns {
			rd.Fields = append(rd.Fields, pgproto3.FieldDescription{Name: []byte(c.Name), DataTypeOID: c.OID, DataTypeSize: -1, TypeModifier: -1})
		}
		be.Send(rd)
		for _, row := range r.Rows {
			dr := &pgproto3.DataRow{}
			for _, v := range row {
				dr.Values = append(dr.Values, textOf(v))
			}
			be.Send(dr)
		}
	}
	be.Send(&pgproto3.CommandComplete{CommandTag: []byte(r.Tag)})
}

func textOf(v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return []byte("t")
		}
		return []byte("f")
	case []byte:
		return x
	case time.Time:
		return []byte(x.Format("2006-01-02 15:04:05.999999"))
	}
	return []byte(fmt.Sprint(v))
}
