package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/augurdb/augur/server"
)

// testUsers returns Users holding alice (admin, password "secret") and
// bob (reader, password "hunter2 é").
func testUsers(t *testing.T) *Users {
	t.Helper()
	va, err := NewVerifier("secret")
	if err != nil {
		t.Fatal(err)
	}
	vb, err := NewVerifier("hunter2 é")
	if err != nil {
		t.Fatal(err)
	}
	u, err := parseUsers([]byte("# test users\n\nalice admin " + va + "\nbob reader " + vb + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type outcome struct {
	role server.Role
	err  error
}

// serveOne is a tiny backend: it answers an SSLRequest (with 'S' when
// tlsCfg is set), reads the startup message, runs Authenticate and
// sends AuthenticationOk and ReadyForQuery or the error, as the server
// does.
func serveOne(conn net.Conn, u *Users, tlsCfg *tls.Config) outcome {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	be := pgproto3.NewBackend(conn, conn)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return outcome{err: err}
	}
	if _, ok := msg.(*pgproto3.SSLRequest); ok {
		if tlsCfg == nil {
			conn.Write([]byte("N"))
		} else {
			conn.Write([]byte("S"))
			tc := tls.Server(conn, tlsCfg)
			conn = tc
			be = pgproto3.NewBackend(tc, tc)
		}
		if msg, err = be.ReceiveStartupMessage(); err != nil {
			return outcome{err: err}
		}
	}
	sm, ok := msg.(*pgproto3.StartupMessage)
	if !ok {
		return outcome{err: errors.New("no startup message")}
	}
	ctx := context.Background()
	if _, ok := conn.(*tls.Conn); ok {
		ctx = context.WithValue(ctx, tlsKey{}, true)
	}
	role, err := u.Authenticate(ctx, be, sm.Parameters["user"])
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: ae.SQLState(), Message: ae.Message})
			be.Flush()
		}
		return outcome{err: err}
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := be.Flush(); err != nil {
		return outcome{err: err}
	}
	be.SetMaxBodyLen(0)
	be.Receive() // Terminate or EOF
	return outcome{role: role}
}

// tlsKey marks the context of a TLS connection, as the server does.
type tlsKey struct{}

func isTLS(ctx context.Context) bool { return ctx.Value(tlsKey{}) != nil }

// connect runs pgx's pgconn against serveOne over net.Pipe.
func connect(t *testing.T, u *Users, tlsCfg *tls.Config, connString string) (outcome, error) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan outcome, 4)
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		client, srv := net.Pipe()
		go func() { results <- serveOne(srv, u, tlsCfg) }()
		return client, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, cerr := pgconn.ConnectConfig(ctx, cfg)
	if cerr == nil {
		conn.Close(ctx)
	}
	return <-results, cerr
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestPgxPasswords(t *testing.T) {
	u := testUsers(t)
	cases := []struct {
		name, conn string
		role       server.Role
		code       string
	}{
		{"admin right password", "user=alice password=secret", server.RoleAdmin, ""},
		{"reader non-ASCII password", "user=bob password='hunter2 é'", server.RoleReader, ""},
		{"wrong password", "user=alice password=Secret", 0, CodeInvalidPassword},
		{"other user's password", "user=bob password=secret", 0, CodeInvalidPassword},
		{"unknown user", "user=mallory password=secret", 0, CodeInvalidPassword},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := connect(t, u, nil, "host=127.0.0.1 sslmode=disable "+c.conn)
			if c.code == "" {
				if err != nil || res.err != nil {
					t.Fatalf("connect: %v; server: %v", err, res.err)
				}
				if res.role != c.role {
					t.Fatalf("role %v, want %v", res.role, c.role)
				}
				return
			}
			if pgCode(err) != c.code {
				t.Fatalf("client error %v, want SQLSTATE %s", err, c.code)
			}
			user := strings.Fields(c.conn)[0][5:]
			want := `password authentication failed for user "` + user + `"`
			if res.err == nil || res.err.Error() != want || !strings.Contains(err.Error(), want) {
				t.Fatalf("server error %v, client error %v; want %q", res.err, err, want)
			}
		})
	}
}

// frontend runs Authenticate for user on one end of a pipe and hands the
// other end to drive, which plays the client with raw messages.
func frontend(t *testing.T, u *Users, user string, drive func(fe *pgproto3.Frontend)) outcome {
	t.Helper()
	return frontendCtx(t, context.Background(), u, user, drive)
}

func frontendCtx(t *testing.T, ctx context.Context, u *Users, user string, drive func(fe *pgproto3.Frontend)) outcome {
	t.Helper()
	client, srv := net.Pipe()
	client.SetDeadline(time.Now().Add(30 * time.Second))
	srv.SetDeadline(time.Now().Add(30 * time.Second))
	done := make(chan outcome, 1)
	go func() {
		defer srv.Close()
		role, err := u.Authenticate(ctx, pgproto3.NewBackend(srv, srv), user)
		done <- outcome{role, err}
	}()
	drive(pgproto3.NewFrontend(client, client))
	client.Close()
	return <-done
}

func send(fe *pgproto3.Frontend, msgs ...pgproto3.FrontendMessage) {
	for _, m := range msgs {
		fe.Send(m)
	}
	fe.Flush()
}

// serverFirst reads AuthenticationSASL, sends the client-first message
// and returns the server-first message ("" when the server refused).
func serverFirst(t *testing.T, fe *pgproto3.Frontend, mech, clientFirst string) string {
	t.Helper()
	msg, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := msg.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("got %T, want AuthenticationSASL", msg)
	}
	send(fe, &pgproto3.SASLInitialResponse{AuthMechanism: mech, Data: []byte(clientFirst)})
	msg, err = fe.Receive()
	if err != nil {
		return ""
	}
	c, ok := msg.(*pgproto3.AuthenticationSASLContinue)
	if !ok {
		t.Fatalf("got %T, want AuthenticationSASLContinue", msg)
	}
	return string(c.Data)
}

// TestRFC7677Vector runs the conversation of RFC 7677 section 3 (user
// "user", password "pencil") against Authenticate, with the RFC's salt
// and server nonce: the server must send the RFC's server-first and
// server-final messages and accept the RFC's proof.
func TestRFC7677Vector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := computeVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	u, err := parseUsers([]byte("user reader " + v.String()))
	if err != nil {
		t.Fatal(err)
	}
	u.nonce = func() (string, error) { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", nil }
	var final string
	res := frontend(t, u, "user", func(fe *pgproto3.Frontend) {
		sf := serverFirst(t, fe, "SCRAM-SHA-256", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
		if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; sf != want {
			t.Errorf("server-first %q, want %q", sf, want)
		}
		send(fe, &pgproto3.SASLResponse{Data: []byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")})
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := msg.(*pgproto3.AuthenticationSASLFinal); ok {
			final = string(f.Data)
		}
	})
	if res.err != nil || res.role != server.RoleReader {
		t.Fatalf("Authenticate: %v %v", res.role, res.err)
	}
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; final != want {
		t.Fatalf("server-final %q, want %q", final, want)
	}
}

func TestMalformedSASL(t *testing.T) {
	u := testUsers(t)
	cases := []struct {
		name, mech, first, want string
	}{
		{"unknown mechanism", "SCRAM-SHA-1", "n,,n=,r=abc", "invalid SASL authentication mechanism"},
		{"PLUS not offered", "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc", "invalid SASL authentication mechanism"},
		{"binding data without PLUS", "SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abc", "includes channel binding data"},
		{"bad flag", "SCRAM-SHA-256", "x,,n=,r=abc", "channel binding flag"},
		{"authzid", "SCRAM-SHA-256", "n,a=admin,n=,r=abc", "authorization identity"},
		{"mandatory extension", "SCRAM-SHA-256", "n,,m=ext,n=,r=abc", "unsupported SCRAM extension"},
		{"no nonce", "SCRAM-SHA-256", "n,,n=", "r= nonce"},
		{"control character in nonce", "SCRAM-SHA-256", "n,,n=,r=a\x01b", "printable ASCII"},
		{"NUL", "SCRAM-SHA-256", "n,,n=\x00,r=abc", "NUL"},
		{"empty", "SCRAM-SHA-256", "", "channel binding flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := frontend(t, u, "alice", func(fe *pgproto3.Frontend) {
				if sf := serverFirst(t, fe, c.mech, c.first); sf != "" {
					t.Errorf("server answered %q", sf)
				}
			})
			checkProtocolError(t, res, c.want)
		})
	}
	t.Run("too long", func(t *testing.T) {
		res := frontend(t, u, "alice", func(fe *pgproto3.Frontend) {
			serverFirst(t, fe, "SCRAM-SHA-256", "n,,n=,r="+strings.Repeat("a", MaxAuthMessage))
		})
		checkProtocolError(t, res, "reading a SASL message")
	})
	t.Run("wrong message", func(t *testing.T) {
		res := frontend(t, u, "alice", func(fe *pgproto3.Frontend) {
			fe.Receive()
			send(fe, &pgproto3.Query{String: "SELECT 1"})
		})
		checkProtocolError(t, res, "expected SASLInitialResponse")
	})
}

func TestMalformedClientFinal(t *testing.T) {
	u := testUsers(t)
	cases := []struct{ name, final, want string }{
		{"no proof", "c=biws,r=NONCE", "p= proof"},
		{"wrong nonce", "c=biws,r=other,p=" + zeroProof, "nonce does not match"},
		{"wrong binding", "c=eSws,r=NONCE,p=" + zeroProof, "channel binding check failed"},
		{"short proof", "c=biws,r=NONCE,p=AAAA", "32 bytes"},
		{"no c=", "r=NONCE,p=" + zeroProof, "c= channel binding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := frontend(t, u, "alice", func(fe *pgproto3.Frontend) {
				sf := serverFirst(t, fe, "SCRAM-SHA-256", "n,,n=,r=clientnonce")
				nonce, _, _ := strings.Cut(strings.TrimPrefix(sf, "r="), ",")
				send(fe, &pgproto3.SASLResponse{Data: []byte(strings.ReplaceAll(c.final, "NONCE", nonce))})
				fe.Receive()
			})
			checkProtocolError(t, res, c.want)
		})
	}
	t.Run("wrong proof", func(t *testing.T) {
		res := frontend(t, u, "alice", func(fe *pgproto3.Frontend) {
			sf := serverFirst(t, fe, "SCRAM-SHA-256", "n,,n=,r=clientnonce")
			nonce, _, _ := strings.Cut(strings.TrimPrefix(sf, "r="), ",")
			send(fe, &pgproto3.SASLResponse{Data: []byte("c=biws,r=" + nonce + ",p=" + zeroProof)})
			fe.Receive()
		})
		var ae *Error
		if !errors.As(res.err, &ae) || ae.Code != CodeInvalidPassword {
			t.Fatalf("got %v, want 28P01", res.err)
		}
	})
}

var zeroProof = base64.StdEncoding.EncodeToString(make([]byte, 32))

func checkProtocolError(t *testing.T, res outcome, want string) {
	t.Helper()
	var ae *Error
	if !errors.As(res.err, &ae) || ae.Code != CodeProtocolViolation || !strings.Contains(ae.Message, want) {
		t.Fatalf("got %v, want a protocol violation mentioning %q", res.err, want)
	}
}

// TestUnknownUserSalt checks that an unknown user cannot be told from a
// known one by its salt: the same name gets the same salt every time.
func TestUnknownUserSalt(t *testing.T) {
	u := testUsers(t)
	salt := func(user string) string {
		var s string
		frontend(t, u, user, func(fe *pgproto3.Frontend) {
			sf := serverFirst(t, fe, "SCRAM-SHA-256", "n,,n=,r=abc")
			_, s, _ = strings.Cut(sf, ",s=")
		})
		return s
	}
	a, b, c := salt("nobody"), salt("nobody"), salt("someone")
	if a == "" || a != b || a == c || !strings.HasSuffix(a, ",i=4096") {
		t.Fatalf("salts of unknown users: %q %q %q", a, b, c)
	}
}

// testCert writes a self-signed ECDSA certificate and key for
// 127.0.0.1 and returns their files.
func testCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "augur test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSAndChannelBinding(t *testing.T) {
	certFile, keyFile := testCert(t, t.TempDir())
	cfg, err := LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x", cfg.MinVersion)
	}
	u := testUsers(t)
	// Without BindCertificate pgx on TLS sends the 'y' flag.
	res, err := connect(t, u, cfg, "host=127.0.0.1 sslmode=require user=alice password=secret")
	if err != nil || res.err != nil {
		t.Fatalf("TLS without channel binding: %v / %v", err, res.err)
	}
	if err := u.BindCertificate(cfg.Certificates[0].Certificate[0], isTLS); err != nil {
		t.Fatal(err)
	}
	for _, conn := range []string{
		"sslmode=require channel_binding=require", // SCRAM-SHA-256-PLUS
		"sslmode=disable",                         // 'n' on a plain connection
	} {
		res, err = connect(t, u, cfg, "host=127.0.0.1 user=alice password=secret "+conn)
		if err != nil || res.err != nil {
			t.Fatalf("%s: %v / %v", conn, err, res.err)
		}
	}
	// A relay presenting another certificate: the client binds to that one.
	otherCert, otherKey := testCert(t, t.TempDir())
	other, err := LoadTLS(otherCert, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	res, err = connect(t, u, other, "host=127.0.0.1 sslmode=require channel_binding=require user=alice password=secret")
	if err == nil || res.err == nil || !strings.Contains(res.err.Error(), "channel binding check failed") {
		t.Fatalf("binding to another certificate: %v / %v", err, res.err)
	}
	// 'y' while PLUS is offered: a downgrade.
	tlsCtx := context.WithValue(context.Background(), tlsKey{}, true)
	r := frontendCtx(t, tlsCtx, u, "alice", func(fe *pgproto3.Frontend) {
		serverFirst(t, fe, "SCRAM-SHA-256", "y,,n=,r=abc")
	})
	checkProtocolError(t, r, "negotiation error")
	// PLUS is offered on TLS connections only (libpq refuses it on plain ones).
	offered := func(ctx context.Context) []string {
		var mechs []string
		frontendCtx(t, ctx, u, "alice", func(fe *pgproto3.Frontend) {
			if msg, err := fe.Receive(); err == nil {
				mechs = append(mechs, msg.(*pgproto3.AuthenticationSASL).AuthMechanisms...)
			}
		})
		return mechs
	}
	if got := offered(tlsCtx); len(got) != 2 || got[0] != "SCRAM-SHA-256-PLUS" {
		t.Errorf("offered on TLS: %q", got)
	}
	if got := offered(context.Background()); len(got) != 1 || got[0] != "SCRAM-SHA-256" {
		t.Errorf("offered on a plain connection: %q", got)
	}
}

func TestLoadTLSErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir)
	otherCert, otherKey := testCert(t, t.TempDir())
	_ = otherCert
	for _, c := range []struct{ cert, key, want string }{
		{certFile, "", "both a certificate"},
		{filepath.Join(dir, "missing.crt"), keyFile, "missing.crt"},
		{certFile, otherKey, "private key does not match"},
		{keyFile, certFile, "PEM"},
	} {
		if _, err := LoadTLS(c.cert, c.key); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadTLS(%s, %s): %v, want %q", c.cert, c.key, err, c.want)
		}
	}
	// A TLS 1.1 client is refused.
	cfg, err := LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	go func() {
		s := tls.Server(b, cfg)
		s.Handshake()
		s.Close()
	}()
	c := tls.Client(a, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err := c.Handshake(); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	a.Close()
}

// TestPsqlChannelBinding runs the real psql (libpq) against serveOne on
// TCP: SCRAM-SHA-256-PLUS with tls-server-end-point binding over TLS,
// and SCRAM-SHA-256 on a plain connection of the same server.
func TestPsqlChannelBinding(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (scripts/test.sh installs postgresql-client)")
	}
	certFile, keyFile := testCert(t, t.TempDir())
	cfg, err := LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	u := testUsers(t)
	if err := u.BindCertificate(cfg.Certificates[0].Certificate[0], isTLS); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	results := make(chan outcome, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { results <- serveOne(c, u, cfg) }()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, c := range []struct{ sslmode, binding, password string }{
		{"require", "require", "secret"},
		{"disable", "prefer", "secret"},
		{"require", "require", "wrong"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, psql, "-X", "-w", "-h", host, "-p", port, "-U", "alice", "-d", "x", "-c", "")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+c.password, "PGSSLMODE="+c.sslmode, "PGCHANNELBINDING="+c.binding)
		out, _ := cmd.CombinedOutput()
		cancel()
		res := <-results
		if c.password == "wrong" {
			if res.err == nil || !strings.Contains(string(out), "password authentication failed") {
				t.Errorf("wrong password: %v: %s", res.err, out)
			}
		} else if res.err != nil || res.role != server.RoleAdmin {
			t.Errorf("sslmode=%s channel_binding=%s: %v: %s", c.sslmode, c.binding, res.err, out)
		}
	}
}
