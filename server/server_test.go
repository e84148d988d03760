package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// connect opens a pgx connection to addr as user augur.
func connect(t *testing.T, addr string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://augur@"+addr+"/db?sslmode=disable&application_name=tests")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestSimpleAndExtended(t *testing.T) {
	addr := startServer(t, Config{})
	c := connect(t, addr)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE t (a INTEGER, b VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	tag, err := c.Exec(ctx, "INSERT INTO t VALUES ($1, $2), ($3, $4)", 1, "one", 2, "two")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "INSERT 0 2" {
		t.Errorf("tag %q, want INSERT 0 2", tag)
	}
	var b string
	if err := c.QueryRow(ctx, "SELECT b FROM t WHERE a = $1", 2).Scan(&b); err != nil || b != "two" {
		t.Fatalf("got %q, %v", b, err)
	}
	rows, err := c.Query(ctx, "SELECT a, b FROM t ORDER BY a", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var a int32
		var b string
		if err := rows.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s", a, b))
	}
	if rows.Err() != nil || fmt.Sprint(got) != "[1 one 2 two]" {
		t.Fatalf("got %v, %v", got, rows.Err())
	}
}

func TestIsLoopback(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("127.8.9.10")}, true},
		{&net.TCPAddr{IP: net.ParseIP("::1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1")}, false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.1")}, false},
		{&net.TCPAddr{IP: net.ParseIP("0.0.0.0")}, false},
		{&net.UnixAddr{Name: "/tmp/.s.PGSQL.5433", Net: "unix"}, true},
		{nil, false},
	} {
		if got := isLoopback(c.addr); got != c.want {
			t.Errorf("isLoopback(%v) = %v, want %v", c.addr, got, c.want)
		}
	}
}
