package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/augurdb/augur/server"
	"github.com/augurdb/augur/server/auth"
)

func TestParseServeArgs(t *testing.T) {
	def := ServeOptions{Listen: DefaultListen, ShutdownTimeout: 30 * time.Second, LogFormat: "text"}
	with := func(f func(*ServeOptions)) ServeOptions { o := def; f(&o); return o }
	for _, c := range []struct {
		args []string
		want ServeOptions
	}{
		{nil, def},
		{[]string{"shop.db"}, with(func(o *ServeOptions) { o.Database = "shop.db" })},
		{[]string{"--listen", "0.0.0.0:6000", "--users=u.txt", "shop.db", "--model-root", "a", "-model-root=b", "--readonly"},
			with(func(o *ServeOptions) {
				o.Listen, o.Users, o.Database, o.ModelRoots, o.ReadOnly = "0.0.0.0:6000", "u.txt", "shop.db", []string{"a", "b"}, true
			})},
		{[]string{"--tls-cert", "c.pem", "--tls-key=k.pem", "--require-tls", "--shutdown-timeout", "2m", "--log-format=json"},
			with(func(o *ServeOptions) {
				o.TLSCert, o.TLSKey, o.RequireTLS, o.ShutdownTimeout, o.LogFormat = "c.pem", "k.pem", true, 2*time.Minute, "json"
			})},
		{[]string{"--listen=localhost:0", "--", "-odd.db"}, with(func(o *ServeOptions) { o.Listen, o.Database = "localhost:0", "-odd.db" })},
		{[]string{"-h"}, with(func(o *ServeOptions) { o.Help = true })},
	} {
		got, err := ParseServeArgs(c.args)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseServeArgs(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"a.db", "b.db"}, "more than one database"},
		{[]string{"--listen"}, "needs a value"},
		{[]string{"--bogus"}, "unknown flag"},
		{[]string{"--readonly=yes", "a.db"}, "takes no value"},
		{[]string{"--tls-cert", "c.pem"}, "go together"},
		{[]string{"--require-tls"}, "--require-tls needs"},
		{[]string{"--readonly"}, "needs a database file"},
		{[]string{"--shutdown-timeout", "soon"}, "duration"},
		{[]string{"--log-format", "xml"}, "text or json"},
		{[]string{"--listen", "5433"}, "HOST:PORT"},
		{[]string{"--listen", "0.0.0.0:5433"}, "without --users"},
		{[]string{"--listen", ":5433"}, "without --users"},
		{[]string{"--listen", "db.example.com:5433"}, "without --users"},
	} {
		if _, err := ParseServeArgs(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseServeArgs(%q): %v, want %q", c.args, err, c.want)
		}
	}
	var out, errb bytes.Buffer
	if st := Serve([]string{"--listen", "0.0.0.0:0"}, &out, &errb); st != 2 || !strings.Contains(errb.String(), "only listens on loopback") {
		t.Errorf("non-loopback trust: status %d, %q", st, errb.String())
	}
	if st := Serve([]string{"--help"}, &out, &errb); st != 0 || !strings.Contains(out.String(), "--model-root") {
		t.Errorf("--help: status %d", st)
	}
}

func passwd(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	st := Passwd(args, strings.NewReader(stdin), &out, &errb)
	return st, out.String() + errb.String()
}

func TestPasswd(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users")
	if st, out := passwd(t, "s3cret\n", file, "alice", "--role", "admin"); st != 0 || !strings.Contains(out, "alice (admin)") {
		t.Fatalf("passwd alice: %d %s", st, out)
	}
	if st, out := passwd(t, "pw\r\n", "--role=reader", file, "bob"); st != 0 {
		t.Fatalf("passwd bob: %d %s", st, out)
	}
	// A new password keeps alice's role.
	if st, out := passwd(t, "n3w", file, "alice"); st != 0 || !strings.Contains(out, "alice (admin)") {
		t.Fatalf("passwd alice again: %d %s", st, out)
	}
	if st, out := passwd(t, "x\n", file, "carol"); st != 0 || !strings.Contains(out, "carol (reader)") {
		t.Fatalf("passwd carol: %d %s", st, out)
	}
	u, err := auth.LoadUsers(file)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]server.Role{"alice": server.RoleAdmin, "bob": server.RoleReader, "carol": server.RoleReader} {
		if r, ok := u.Role(name); !ok || r != want {
			t.Errorf("%s: %v %v", name, r, ok)
		}
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), "s3cret") || strings.Contains(string(data), "n3w") {
		t.Fatal("a password is in the users file")
	}
	for _, c := range []struct {
		stdin string
		args  []string
		st    int
		want  string
	}{
		{"x\n", []string{file}, 2, "want a users file and a user name"},
		{"x\n", []string{file, "dave", "--role", "root"}, 2, "unknown role"},
		{"x\n", []string{file, "da ve"}, 2, "bad user name"},
		{"\n", []string{file, "dave"}, 1, "empty password"},
		{strings.Repeat("x", 2000), []string{file, "dave"}, 1, "longer than"},
	} {
		if st, out := passwd(t, c.stdin, c.args...); st != c.st || !strings.Contains(out, c.want) {
			t.Errorf("passwd %q: %d %q, want %d %q", c.args, st, out, c.st, c.want)
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "augur test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// serveLog is a log that the server goroutines and the test share.
type serveLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is an augur serve running in-process.
type served struct {
	addr string
	log  *serveLog
	stop func() int // shuts down as SIGTERM does; returns the exit status
	done chan int
}

// startServe runs augur serve in-process on 127.0.0.1:0.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	o, err := ParseServeArgs(append([]string{"--listen", "127.0.0.1:0", "--shutdown-timeout", "5s"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{log: &serveLog{}, done: make(chan int, 1)}
	ready := make(chan net.Addr, 1)
	go func() { s.done <- runServe(ctx, o, s.log, func(a net.Addr) { ready <- a }) }()
	var once sync.Once
	status := 0
	s.stop = func() int {
		once.Do(func() {
			cancel()
			status = <-s.done
		})
		return status
	}
	t.Cleanup(func() { s.stop() })
	select {
	case a := <-ready:
		s.addr = a.String()
	case st := <-s.done:
		s.done <- st
		s.checkStub(t)
		t.Fatalf("augur serve exited with %d:\n%s", st, s.log)
	}
	return s
}

// checkStub skips the test when serve stopped because the server or the
// engine's file policy is still a stub (it waits a little for serve to
// stop after a failed connection).
func (s *served) checkStub(t *testing.T) {
	t.Helper()
	select {
	case <-time.After(2 * time.Second):
	case st := <-s.done:
		s.done <- st
		if strings.Contains(s.log.String(), "not implemented") {
			t.Skipf("the server or the engine is still a stub: %s", s.log)
		}
	}
}

// connect connects with pgconn; a failure without an ErrorResponse skips
// the test when the server is a stub.
func (s *served) connect(t *testing.T, url string) (*pgconn.PgConn, error) {
	t.Helper()
	c, err := pgConnect(t, url)
	if err != nil && sqlState(err) == "" {
		s.checkStub(t) // no answer from the server: perhaps a stub
	}
	return c, err
}

func pgConnect(t *testing.T, url string) (*pgconn.PgConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, url)
	if err == nil {
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	return c, err
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestServeAuthAndTLS(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if st, out := passwd(t, "right pw\n", users, "alice", "--role=admin"); st != 0 {
		t.Fatal(out)
	}
	if st, out := passwd(t, "reader pw\n", users, "bob"); st != 0 {
		t.Fatal(out)
	}
	cert, key := writeCert(t)
	s := startServe(t, filepath.Join(dir, "shop.db"), "--users", users, "--tls-cert", cert, "--tls-key", key)
	addr, log := s.addr, s.log
	for _, want := range []string{"augur serve listening", addr, "shop.db", "auth=scram-sha-256", "users=2", "tls=optional", "no local model files"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, log)
		}
	}
	url := "postgres://alice:right%20pw@" + addr + "/shop"
	c, err := s.connect(t, url+"?sslmode=disable")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	if _, err := c.Exec(context.Background(), "CREATE TABLE t AS SELECT 42 AS x").ReadAll(); err != nil {
		t.Fatalf("admin CREATE TABLE: %v", err)
	}
	if _, err := s.connect(t, "postgres://alice:wrong@"+addr+"/shop?sslmode=disable"); sqlState(err) != "28P01" {
		t.Fatalf("wrong password: %v, want 28P01", err)
	}
	if _, err := s.connect(t, "postgres://nobody:x@"+addr+"/shop?sslmode=disable"); sqlState(err) != "28P01" {
		t.Fatalf("unknown user: %v, want 28P01", err)
	}
	if _, err := s.connect(t, url+"?sslmode=require"); err != nil {
		t.Fatalf("TLS: %v", err)
	}
	rc, err := s.connect(t, "postgres://bob:reader%20pw@"+addr+"/shop?sslmode=require")
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	if _, err := rc.Exec(context.Background(), "SELECT x FROM t").ReadAll(); err != nil {
		t.Fatalf("reader SELECT: %v", err)
	}
	if _, err := rc.Exec(context.Background(), "INSERT INTO t VALUES (1)").ReadAll(); sqlState(err) != "42501" {
		t.Errorf("reader INSERT: %v, want 42501 (the reader role reaching Conn.SetReadOnly)", err)
	}
	for _, q := range []string{
		"CREATE MODEL m FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING 'models/m.pkl'",
		"DROP MODEL IF EXISTS m",
	} {
		if _, err := rc.Exec(context.Background(), q).ReadAll(); sqlState(err) != "42501" {
			t.Errorf("reader %s: %v, want 42501", q, err)
		}
	}
	if _, err := rc.Exec(context.Background(), "SHOW MODELS").ReadAll(); err != nil {
		t.Errorf("reader SHOW MODELS: %v", err)
	}
	if st := s.stop(); st != 0 {
		t.Fatalf("shutdown: status %d\n%s", st, log)
	}
	if !strings.Contains(log.String(), "database closed") {
		t.Fatalf("no clean close in the log:\n%s", log)
	}
}

func TestServeRequireTLS(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if st, out := passwd(t, "pw\n", users, "alice"); st != 0 {
		t.Fatal(out)
	}
	cert, key := writeCert(t)
	s := startServe(t, "--users", users, "--tls-cert", cert, "--tls-key", key, "--require-tls", "--log-format", "json")
	addr := s.addr
	if _, err := s.connect(t, "postgres://alice:pw@"+addr+"/db?sslmode=disable"); err == nil {
		t.Fatal("plaintext client accepted with --require-tls")
	}
	if _, err := s.connect(t, "postgres://alice:pw@"+addr+"/db?sslmode=require"); err != nil {
		t.Fatalf("TLS client: %v", err)
	}
}

func TestServeTrustMode(t *testing.T) {
	s := startServe(t)
	addr, log := s.addr, s.log
	if !strings.Contains(log.String(), "trust mode") || !strings.Contains(log.String(), "only loopback") {
		t.Errorf("no trust-mode warning:\n%s", log)
	}
	c, err := s.connect(t, "postgres://anyone@"+addr+"/anything?sslmode=disable")
	if err != nil {
		t.Fatalf("trust mode: %v", err)
	}
	// DuckDB's configuration is locked: the TimeZone stays the server's.
	// A SET of it is accepted, of another zone refused.
	zone := c.ParameterStatus("TimeZone")
	if _, err := c.Exec(context.Background(), "SET TIME ZONE '"+zone+"'").ReadAll(); err != nil {
		t.Errorf("SET TIME ZONE to the server's zone %s: %v", zone, err)
	}
	other := "Asia/Kolkata"
	if zone == other {
		other = "America/New_York"
	}
	if _, err := c.Exec(context.Background(), "SET TIME ZONE '"+other+"'").ReadAll(); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("SET TIME ZONE to another zone: %v, want DuckDB's refusal (configuration locked)", err)
	}
	if st := s.stop(); st != 0 {
		t.Fatalf("shutdown: %d", st)
	}
}

// TestServeModelRoots checks that serve always confines the files that
// clients' SQL reads: to --model-root, or to nothing without it.
func TestServeModelRoots(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	for _, d := range []string{root, outside} {
		if err := os.WriteFile(filepath.Join(d, "data.csv"), []byte("x\n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	query := func(s *served, dir string) error {
		c, err := s.connect(t, "postgres://u@"+s.addr+"/db?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(context.Background(), "SELECT * FROM read_csv('"+filepath.Join(dir, "data.csv")+"')").ReadAll()
		return err
	}
	s := startServe(t, "--model-root", root)
	if !strings.Contains(s.log.String(), "model_roots="+root) {
		t.Errorf("start-up log lacks the model root:\n%s", s.log)
	}
	if err := query(s, root); err != nil {
		t.Errorf("reading inside the model root: %v", err)
	}
	if err := query(s, outside); sqlState(err) != "42501" {
		t.Errorf("reading outside the model root: %v, want SQLSTATE 42501", err)
	}
	s.stop()
	s = startServe(t)
	if err := query(s, root); sqlState(err) != "42501" {
		t.Errorf("reading a local file with no model root: %v, want SQLSTATE 42501", err)
	}
	if st, out := passwd(t, "", "--help"); st != 0 || !strings.Contains(out, "--role") {
		t.Errorf("passwd --help: %d", st)
	}
	var out, errb bytes.Buffer
	if st := Serve([]string{"--model-root", filepath.Join(outside, "missing")}, &out, &errb); st != 1 || !strings.Contains(errb.String(), "--model-root") {
		t.Errorf("missing model root: %d %q", st, errb.String())
	}
}

// TestServePsql authenticates with the real psql (libpq): SCRAM over TLS
// and plain connections, a wrong password, and a password that
// SASLprep normalises (libpq and PostgreSQL map U+FB01 to "fi").
func TestServePsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (scripts/test.sh installs postgresql-client)")
	}
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if st, out := passwd(t, "\ufb01sh\n", users, "alice", "--role", "admin"); st != 0 {
		t.Fatal(out)
	}
	cert, key := writeCert(t)
	s := startServe(t, "--users", users, "--tls-cert", cert, "--tls-key", key)
	host, port, _ := net.SplitHostPort(s.addr)
	runCB := func(password, sslmode, binding string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "alice", "-d", "shop", "-c", "SELECT 40 + 2")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE="+sslmode, "PGCONNECT_TIMEOUT=30", "PGCHANNELBINDING="+binding)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	run := func(password, sslmode string) (string, error) { return runCB(password, sslmode, "prefer") }
	for _, c := range []struct{ password, sslmode string }{
		{"\ufb01sh", "require"}, {"fish", "require"}, {"\ufb01sh", "disable"},
	} {
		if out, err := run(c.password, c.sslmode); err != nil || out != "42" {
			s.checkStub(t)
			t.Errorf("psql sslmode=%s password %q: %v: %s", c.sslmode, c.password, err, out)
		}
	}
	if out, err := run("wrong", "require"); err == nil || !strings.Contains(out, `password authentication failed for user "alice"`) {
		t.Errorf("psql with a wrong password: %v: %s", err, out)
	}
	// SCRAM-SHA-256-PLUS: libpq binds the exchange to the server's
	// certificate (tls-server-end-point) and refuses to go on without.
	if out, err := runCB("fish", "require", "require"); err != nil || out != "42" {
		t.Errorf("psql channel_binding=require sslmode=require: %v: %s", err, out)
	}
	if out, err := runCB("fish", "disable", "require"); err == nil || !strings.Contains(out, "channel binding") {
		t.Errorf("psql channel_binding=require on a plain connection: %v: %s, want libpq's refusal", err, out)
	}
	if mechs := saslMechanisms(t, s.addr, "alice"); !reflect.DeepEqual(mechs, []string{"SCRAM-SHA-256"}) {
		t.Errorf("mechanisms offered on a plain connection: %q, want SCRAM-SHA-256 only", mechs)
	}
}

// saslMechanisms sends a plain startup message and returns the SASL
// mechanisms the server offers.
func saslMechanisms(t *testing.T, addr, user string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": user, "database": "shop"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	sasl, ok := msg.(*pgproto3.AuthenticationSASL)
	if !ok {
		t.Fatalf("answer to a startup message: %T, want AuthenticationSASL", msg)
	}
	return sasl.AuthMechanisms
}
