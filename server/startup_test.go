package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// selfSigned is a TLS configuration with a fresh certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "augur test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestTLS(t *testing.T) {
	addr := startServer(t, Config{TLS: selfSigned(t), RequireTLS: true})
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://augur@"+addr+"/db?sslmode=require")
	if err != nil {
		t.Fatalf("TLS connection: %v", err)
	}
	defer c.Close(ctx)
	if _, ok := c.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("the connection is %T, not TLS", c.PgConn().Conn())
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT 5").Scan(&n); err != nil || n != 5 {
		t.Fatalf("query over TLS: %d, %v", n, err)
	}
	_, err = pgx.Connect(ctx, "postgres://augur@"+addr+"/db?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28000" || !strings.Contains(pe.Message, "TLS") {
		t.Fatalf("plaintext connection: %v, want FATAL 28000 about TLS", err)
	}
}

// rawStartup writes a startup packet (length, then body).
func rawStartup(t *testing.T, c net.Conn, body []byte) {
	t.Helper()
	buf := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	if _, err := c.Write(append(buf, body...)); err != nil {
		t.Fatal(err)
	}
}

func TestRequestsWithoutTLSOrGSS(t *testing.T) {
	addr := startServer(t, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, code := range []uint32{80877104, 80877103} { // GSSENCRequest, SSLRequest
		rawStartup(t, c, binary.BigEndian.AppendUint32(nil, code))
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("request %d: answer %q, %v; want N", code, b[0], err)
		}
	}
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u", "options": "-c search_path=main"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.AuthenticationOk:
			seen = append(seen, "ok")
		case *pgproto3.BackendKeyData:
			seen = append(seen, "key")
		case *pgproto3.ParameterStatus:
			if m.Name == "server_version" {
				seen = append(seen, "version")
			}
		case *pgproto3.ReadyForQuery:
			seen = append(seen, "ready "+string(m.TxStatus))
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if got := strings.Join(seen, ","); got != "ok,version,key,ready I" {
		t.Errorf("startup answers %s", got)
	}
}

// TestMalformedMessages sends broken messages; each client is closed
// (or answered with an error) and the server keeps serving others.
func TestMalformedMessages(t *testing.T) {
	addr := startServer(t, Config{})
	startup := func(c net.Conn) *pgproto3.Frontend {
		fe := pgproto3.NewFrontend(c, c)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		for {
			msg, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
				return fe
			}
		}
	}
	msg := func(typ byte, body []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(len(body)+4)), body...)
	}
	cases := map[string][]byte{
		"unknown type":         msg('z', nil),
		"short length":         {'Q', 0, 0, 0, 1},
		"huge length":          {'Q', 0x7f, 0xff, 0xff, 0xff},
		"unterminated query":   msg('Q', []byte("SELECT 1")),
		"bind to nothing":      msg('B', []byte{0, 0, 0, 1, 0, 1, 0, 0}),
		"truncated bind":       msg('B', []byte{0, 0, 0}),
		"parse bad count":      msg('P', append([]byte("\x00SELECT $1\x00"), 0xff, 0xff)),
		"describe bad kind":    append(msg('D', []byte("X\x00")), msg('S', nil)...),
		"execute no portal":    append(msg('E', []byte("nope\x00\x00\x00\x00\x00")), msg('S', nil)...),
		"function call":        msg('F', []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0}),
		"garbage startup only": bytes.Repeat([]byte{0xff}, 64),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if name != "garbage startup only" {
				startup(c)
			}
			if _, err := c.Write(data); err != nil {
				t.Fatal(err)
			}
			// Either an error and the connection still usable, or closed:
			// read until EOF or ReadyForQuery.
			fe := pgproto3.NewFrontend(c, c)
			for {
				m, err := fe.Receive()
				if err != nil {
					break
				}
				if _, ok := m.(*pgproto3.ReadyForQuery); ok {
					break
				}
			}
		})
	}
	// The server still serves.
	var n int
	if err := connect(t, addr).QueryRow(context.Background(), "SELECT 3").Scan(&n); err != nil || n != 3 {
		t.Fatalf("after malformed messages: %d, %v", n, err)
	}
}

type failingAuth struct{}

func (failingAuth) Authenticate(ctx context.Context, be *pgproto3.Backend, user string) (Role, error) {
	return 0, &sqlStateErr{"28P01", `password authentication failed for user "` + user + `"`}
}

type sqlStateErr struct{ code, msg string }

func (e *sqlStateErr) Error() string    { return e.msg }
func (e *sqlStateErr) SQLState() string { return e.code }

func TestAuthenticatorFailure(t *testing.T) {
	addr := startServer(t, Config{Auth: failingAuth{}})
	_, err := pgx.Connect(context.Background(), "postgres://bob@"+addr+"/db?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Severity != "FATAL" || !strings.Contains(pe.Message, `"bob"`) {
		t.Fatalf("got %v, want FATAL 28P01 naming bob", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

func TestLogs(t *testing.T) {
	buf := &syncBuffer{mu: make(chan struct{}, 1)}
	addr := startServer(t, Config{Logger: slog.New(slog.NewJSONHandler(buf, nil))})
	c := connect(t, addr)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "SELECT '\x1b[31mred' AS x"); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Exec(ctx, "CREATE SECRET s (TYPE s3, KEY_ID 'AKIAEXAMPLE', SECRET 'hunter2-secret')")
	_, _ = c.Exec(ctx, "SELECT * FROM nope")
	_ = c.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), "connection closed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	logs := buf.String()
	for _, want := range []string{`"msg":"connection opened"`, `"application_name":"tests"`, `"msg":"statement"`,
		`"sql":"SELECT '\\x1b[31mred' AS x"`, `"sqlstate":"42P01"`, `"msg":"connection closed"`, `CREATE SECRET (text redacted)`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"hunter2", "AKIAEXAMPLE", "\x1b"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs show %q:\n%s", secret, logs)
		}
	}
}

func TestSetReportsParameter(t *testing.T) {
	c := connect(t, startServer(t, Config{}))
	if got := c.PgConn().ParameterStatus("application_name"); got != "tests" {
		t.Fatalf("application_name at startup %q, want tests", got)
	}
	if _, err := c.Exec(context.Background(), "SET application_name = 'other'"); err != nil {
		t.Fatal(err)
	}
	if got := c.PgConn().ParameterStatus("application_name"); got != "other" {
		t.Errorf("application_name after SET %q, want other", got)
	}
}

// TestPipelinedStartup sends the startup message and a query in one
// write: the query must not be lost when the session starts.
func TestPipelinedStartup(t *testing.T) {
	addr := startServer(t, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	fe.Send(&pgproto3.Query{String: "SELECT 'pipelined'"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("no answer to the pipelined query: %v", err)
		}
		if d, ok := msg.(*pgproto3.DataRow); ok {
			if string(d.Values[0]) != "pipelined" {
				t.Fatalf("got %q", d.Values[0])
			}
			return
		}
	}
}
