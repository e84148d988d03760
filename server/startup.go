package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/augurdb/augur/server/pgcompat"
)

const (
	// startupTimeout bounds the whole startup: TLS handshake, startup
	// message and authentication.
	startupTimeout = 30 * time.Second
	// maxMessage bounds one client message (a query, a Bind with its
	// parameters): 64 MiB.
	maxMessage = 64 << 20
)

var syscallEMFILE = syscall.EMFILE

// isLoopback reports whether a client address is on this machine: an
// IPv4 or IPv6 loopback address (IPv4-mapped ones included) or a Unix
// socket. Without authentication the server accepts only these.
func isLoopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case nil:
		return false
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// startup is what a client's startup negotiated.
type startup struct {
	conn   net.Conn // the TLS connection when TLS was negotiated
	src    *switchReader
	be     *pgproto3.Backend // the session's too: what it read ahead is kept
	params map[string]string
	tls    bool
}

// negotiate reads the startup packets: SSLRequest and GSSENCRequest
// (answered, then the startup message is read again), CancelRequest
// (handled; nil is returned) and the StartupMessage.
func (s *Server) negotiate(raw net.Conn) (*startup, error) {
	st := &startup{conn: raw, src: &switchReader{raw}}
	st.be = pgproto3.NewBackend(st.src, raw)
	for round := 0; round < 3; round++ {
		msg, err := st.be.ReceiveStartupMessage()
		if err != nil {
			if strings.Contains(err.Error(), "unknown startup message code") {
				s.fatal(st.be, codeFeature, "unsupported frontend protocol: augur serves the PostgreSQL v3 protocol")
			}
			return nil, fmt.Errorf("read startup message: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if st.tls || s.cfg.TLS == nil {
				if _, err := raw.Write([]byte{'N'}); err != nil {
					return nil, err
				}
				continue
			}
			if _, err := raw.Write([]byte{'S'}); err != nil {
				return nil, err
			}
			tc := tls.Server(raw, s.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				return nil, fmt.Errorf("TLS handshake: %w", err)
			}
			// A new Backend: nothing the client sent before the handshake
			// may be read as if it had come over TLS.
			st.conn, st.src, st.tls = tc, &switchReader{tc}, true
			st.be = pgproto3.NewBackend(st.src, tc)
		case *pgproto3.GSSEncRequest:
			if _, err := st.conn.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case *pgproto3.CancelRequest:
			s.cancelRequest(m.ProcessID, m.SecretKey)
			return nil, nil
		case *pgproto3.StartupMessage:
			if m.ProtocolVersion != pgproto3.ProtocolVersion30 {
				// Only 3.0's messages are spoken (3.2 differs in the
				// cancel key's length): say so, as PostgreSQL 15 does.
				st.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknownProtocolOptions(m.Parameters)})
			}
			st.params = map[string]string{}
			for k, v := range m.Parameters {
				st.params[k] = v
			}
			return st, nil
		}
	}
	s.fatal(st.be, codeProtocol, "too many SSL or GSS encryption requests")
	return nil, errors.New("too many SSL or GSS encryption requests")
}

func unknownProtocolOptions(p map[string]string) []string {
	var out []string
	for k := range p {
		if strings.HasPrefix(k, "_pq_.") {
			out = append(out, k)
		}
	}
	return out
}

// fatal sends a FATAL ErrorResponse, best effort: the connection closes
// after it.
func (s *Server) fatal(be *pgproto3.Backend, code, msg string) {
	be.Send((&pgError{Severity: "FATAL", Code: code, Message: msg}).response())
	_ = be.Flush()
}

// admit checks a startup message against the server's rules and runs the
// authentication; it returns the user's role.
func (s *Server) admit(ctx context.Context, raw net.Conn, st *startup) (Role, error) {
	user := st.params["user"]
	switch {
	case s.cfg.RequireTLS && !st.tls:
		return 0, &pgError{Severity: "FATAL", Code: codeInvalidAuth, Message: "this server accepts only TLS connections: connect with sslmode=require (or verify-full)"}
	case user == "":
		return 0, &pgError{Severity: "FATAL", Code: codeInvalidAuth, Message: "no PostgreSQL user name specified in startup packet"}
	case s.cfg.Auth == nil && !isLoopback(raw.RemoteAddr()):
		return 0, &pgError{Severity: "FATAL", Code: codeInvalidAuth,
			Message: "this server runs without authentication (no --users file) and accepts only loopback connections"}
	case s.cfg.Auth == nil:
		return RoleAdmin, nil
	}
	role, err := s.cfg.Auth.Authenticate(context.WithValue(ctx, connTLSKey{}, st.tls), st.be, user)
	if err != nil {
		code := "28P01"
		var sc interface{ SQLState() string }
		if errors.As(err, &sc) && sc.SQLState() != "" {
			code = sc.SQLState()
		}
		return 0, &pgError{Severity: "FATAL", Code: code, Message: err.Error()}
	}
	return role, nil
}

// connTLSKey marks the context Authenticate gets with whether the
// connection was upgraded to TLS (ConnTLS).
type connTLSKey struct{}

// ConnTLS reports whether the connection an Authenticator is
// authenticating (named by the ctx passed to Authenticate) uses TLS; for
// auth.Users.BindCertificate, which offers SCRAM-SHA-256-PLUS on those
// connections only.
func ConnTLS(ctx context.Context) bool {
	v, _ := ctx.Value(connTLSKey{}).(bool)
	return v
}

// cancelRequest cancels the running query of the session with that
// process id when the secret key matches; like PostgreSQL it answers
// nothing either way.
func (s *Server) cancelRequest(pid uint32, key []byte) {
	s.mu.Lock()
	ss := s.byPID[pid]
	s.mu.Unlock()
	if ss == nil || subtle.ConstantTimeCompare(ss.secret, key) != 1 {
		s.log.Warn("cancel request refused: no session with that process id and key", "pid", pid)
		return
	}
	s.log.Info("cancel request", "pid", pid)
	ss.cancelQuery()
}

// newSecret is a session's cancel key: 4 random bytes (protocol 3.0).
func newSecret() ([]byte, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make cancel key: %w", err)
	}
	return b, nil
}

// startupOptions reads the startup "options" parameter's -c name=value
// and --name=value settings.
func startupOptions(opts string) map[string]string {
	out := map[string]string{}
	fields := splitOptions(opts)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "-c" && i+1 < len(fields):
			i++
			f = fields[i]
		case strings.HasPrefix(f, "-c"):
			f = f[2:]
		case strings.HasPrefix(f, "--"):
			f = f[2:]
		default:
			continue
		}
		if k, v, ok := strings.Cut(f, "="); ok {
			out[strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	return out
}

// splitOptions splits at unescaped spaces; a backslash escapes the next
// character, as libpq documents for options.
func splitOptions(s string) []string {
	var out []string
	var cur strings.Builder
	esc, any := false, false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc, any = false, true
		case r == '\\':
			esc = true
		case r == ' ' || r == '\t':
			if any {
				out = append(out, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// reported are the parameters whose changes a client is told about
// (ParameterStatus): those sent at startup.
func reported() map[string]string { return pgcompat.StartupParams() }

// switchReader is what a Backend reads: the connection during startup,
// then the session's connReader, so that nothing the Backend has read
// ahead is lost when the session starts.
type switchReader struct{ r io.Reader }

func (s *switchReader) Read(p []byte) (int, error) { return s.r.Read(p) }
