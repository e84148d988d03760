package server

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/augurdb/augur/engine"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/server/pgcompat"
)

// Transaction states of ReadyForQuery.
const (
	txIdle   = 'I'
	txBlock  = 'T'
	txFailed = 'E'
)

// session is one client connection: its DuckDB connection, prepared
// statements, portals and parameters.
type session struct {
	srv    *Server
	conn   net.Conn
	be     *pgproto3.Backend
	ec     *engine.Conn
	tmap   *pgtype.Map // pgtype's Map is not safe for concurrent use: one per session
	log    *slog.Logger
	pid    uint32
	secret []byte

	user, database string
	loc            *time.Location    // TimeZone: timestamptz text output is in it
	params         map[string]string // current values (startup parameters, SET)
	changed        []string          // reported parameters changed by the current statement
	tx             byte

	stmts   map[string]*prepared
	portals map[string]*portal
	skip    bool // after an error in the extended flow: discard until Sync

	ctx    context.Context // ends when the client goes away or the server shuts down
	cancel context.CancelFunc
	idle   bool        // ReadyForQuery sent, no message since
	busy   atomic.Bool // !idle, for Shutdown: the session is serving a request

	qmu     sync.Mutex
	qcancel context.CancelFunc // the running query's; nil when none
}

// serveConn runs one client connection from its first byte to its close.
func (s *Server) serveConn(raw net.Conn) {
	start := time.Now()
	remote := raw.RemoteAddr().String()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("session failed; closing its connection", "remote", remote, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	_ = raw.SetDeadline(time.Now().Add(startupTimeout))
	st, err := s.negotiate(raw)
	if err != nil {
		s.log.Info("connection refused", "remote", remote, "err", untrusted.Clean(err.Error()))
		return
	}
	if st == nil {
		return // a CancelRequest
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	role, err := s.admit(ctx, raw, st)
	if err != nil {
		pe := toPgError(err, "", 0)
		st.be.Send(pe.response())
		_ = st.be.Flush()
		s.log.Warn("connection refused", "remote", remote, "user", untrusted.Clean(st.params["user"]), "sqlstate", pe.Code, "err", untrusted.Clean(pe.Message))
		return
	}
	_ = raw.SetDeadline(time.Time{})
	ss, err := s.newSession(ctx, cancel, st, role)
	if err != nil {
		s.fatal(st.be, codeInternal, err.Error())
		s.log.Error("session setup failed", "remote", remote, "err", err)
		return
	}
	defer ss.close()
	log := ss.log.With("application_name", untrusted.Clean(ss.params["application_name"]))
	log.Info("connection opened", "tls", st.tls, "role", int(role))
	err = ss.loop()
	log.Info("connection closed", "duration", time.Since(start), "reason", closeReason(err))
}

func closeReason(err error) string {
	if err == nil {
		return "terminate"
	}
	return untrusted.Clean(err.Error())
}

// newSession opens the session's DuckDB connection and sends what a
// client receives after authentication: AuthenticationOk, the
// ParameterStatus values, BackendKeyData and ReadyForQuery.
func (s *Server) newSession(ctx context.Context, cancel context.CancelFunc, st *startup, role Role) (*session, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	ec, err := s.cfg.Engine.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("open a database connection for the session: %w", err)
	}
	ec.SetReadOnly(role == RoleReader)
	ss := &session{
		srv: s, conn: st.conn, ec: ec, tmap: pgtype.NewMap(), secret: secret,
		user: st.params["user"], database: st.params["database"],
		params: reported(), tx: txIdle, idle: true,
		stmts: map[string]*prepared{}, portals: map[string]*portal{},
		ctx: ctx, cancel: cancel,
	}
	if ss.database == "" {
		ss.database = ss.user
	}
	for k, v := range startupOptions(st.params["options"]) {
		ss.params[k] = v
	}
	if v, ok := st.params["application_name"]; ok {
		ss.params["application_name"] = v
	}
	if v, ok := st.params["client_encoding"]; ok && v != "" {
		ss.params["client_encoding"] = v
	}
	st.src.r = newConnReader(st.conn, cancel)
	ss.be = st.be
	ss.be.SetMaxBodyLen(maxMessage)
	s.register(ss)
	// Who the session is, for current_user, Owner columns and
	// pg_get_userbyid; and the process id BackendKeyData names, for
	// pg_backend_pid(). No user is a PostgreSQL superuser.
	ss.params["session_authorization"] = ss.user
	ss.params["is_superuser"] = "off"
	ss.params[pgcompat.BackendPIDParam] = strconv.FormatUint(uint64(ss.pid), 10)
	if err := ss.readTimeZone(ctx); err != nil {
		ss.close()
		return nil, err
	}
	ss.changed = ss.changed[:0] // sent below with the others
	ss.log = s.log.With("pid", ss.pid, "remote", st.conn.RemoteAddr().String(),
		"user", untrusted.Clean(ss.user), "database", untrusted.Clean(ss.database))

	ss.be.Send(&pgproto3.AuthenticationOk{})
	for _, k := range sortedKeys(reported()) {
		ss.be.Send(&pgproto3.ParameterStatus{Name: k, Value: ss.params[k]})
	}
	ss.be.Send(&pgproto3.BackendKeyData{ProcessID: ss.pid, SecretKey: ss.secret})
	ss.be.Send(&pgproto3.ReadyForQuery{TxStatus: ss.tx})
	if err := ss.be.Flush(); err != nil {
		ss.close()
		return nil, fmt.Errorf("send startup answers: %w", err)
	}
	return ss, nil
}

// readTimeZone reads the session's TimeZone, DuckDB's own setting of
// the session's connection, for ParameterStatus, SHOW and timestamptz
// text output. A zone Go's time zone database lacks is reported as
// DuckDB names it, and timestamptz text is then sent in UTC (with its
// +00 offset, so that clients still read the right instant).
func (ss *session) readTimeZone(ctx context.Context) error {
	rows, err := ss.ec.QueryContext(ctx, "SELECT current_setting('TimeZone')", nil)
	if err != nil {
		return fmt.Errorf("read the session's TimeZone: %w", err)
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return fmt.Errorf("read the session's TimeZone: %w", err)
	}
	name, _ := v[0].(string)
	if name == "" {
		name = "UTC"
	}
	if name == ss.params["TimeZone"] && ss.loc != nil {
		return nil
	}
	ss.SetParam("TimeZone", name)
	loc, err := time.LoadLocation(name)
	if err != nil {
		ss.srv.log.Warn("time zone unknown to Go's zone database: timestamptz values are sent in UTC", "timezone", untrusted.Clean(name), "err", err)
		loc = time.UTC
	}
	ss.loc = loc
	return nil
}

// close frees everything the session holds.
func (ss *session) close() {
	ss.srv.unregister(ss)
	ss.cancel()
	for name, p := range ss.portals {
		p.close()
		delete(ss.portals, name)
	}
	for name, p := range ss.stmts {
		p.close()
		delete(ss.stmts, name)
	}
	if err := ss.ec.Close(); err != nil {
		ss.log.Warn("closing the session's database connection", "err", err)
	}
	_ = ss.conn.Close()
}

// terminate is Shutdown's end of a session: its query (if any) is
// cancelled and its connection closed, which ends its loop.
func (ss *session) terminate() {
	ss.cancel()
	_ = ss.conn.Close()
}

// cancelQuery cancels the running query, if any (CancelRequest).
func (ss *session) cancelQuery() {
	ss.qmu.Lock()
	defer ss.qmu.Unlock()
	if ss.qcancel != nil {
		ss.qcancel()
	}
}

// queryContext is a running query's context: cancelled by CancelRequest,
// by the client going away and by Shutdown. done must be called after.
func (ss *session) queryContext() (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(ss.ctx)
	ss.qmu.Lock()
	ss.qcancel = cancel
	ss.qmu.Unlock()
	return ctx, func() {
		ss.qmu.Lock()
		ss.qcancel = nil
		ss.qmu.Unlock()
		cancel()
	}
}

// loop serves the client's messages until it terminates or goes away.
func (ss *session) loop() error {
	for {
		msg, err := ss.be.Receive()
		if err != nil {
			var big *pgproto3.ExceededMaxBodyLenErr
			if errors.As(err, &big) {
				ss.srv.fatal(ss.be, "54000", fmt.Sprintf("message of %d bytes is longer than the server's limit of %d bytes", big.ActualBodyLen, big.MaxExpectedBodyLen))
				return err
			}
			if ss.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				ss.srv.fatal(ss.be, codeProtocol, "invalid message: "+err.Error())
			}
			return err
		}
		if ss.idle && ss.srv.closing.Load() {
			ss.srv.fatal(ss.be, codeAdminShutdown, "terminating connection due to administrator command")
			return errors.New("server shutting down")
		}
		ss.idle = false
		ss.busy.Store(true)
		if done, err := ss.dispatch(msg); done || err != nil {
			return err
		}
	}
}

// dispatch handles one message; done ends the session.
func (ss *session) dispatch(msg pgproto3.FrontendMessage) (done bool, err error) {
	if ss.skip {
		switch msg.(type) {
		case *pgproto3.Sync:
		case *pgproto3.Terminate:
			return true, nil
		default:
			return false, nil
		}
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		ss.simpleQuery(m.String)
		return false, ss.ready()
	case *pgproto3.Parse:
		ss.extended(ss.parse(m))
	case *pgproto3.Bind:
		ss.extended(ss.bind(m))
	case *pgproto3.Describe:
		ss.extended(ss.describe(m))
	case *pgproto3.Execute:
		ss.extended(ss.execute(m))
	case *pgproto3.Close:
		ss.extended(ss.closeObject(m))
	case *pgproto3.Sync:
		ss.skip = false
		ss.closeUnnamedPortal()
		return false, ss.ready()
	case *pgproto3.Flush:
		return false, ss.be.Flush()
	case *pgproto3.Terminate:
		return true, nil
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Outside COPY FROM STDIN these are ignored, as PostgreSQL does.
	default:
		ss.srv.fatal(ss.be, codeProtocol, fmt.Sprintf("unsupported frontend message %T", msg))
		return true, fmt.Errorf("unsupported frontend message %T", msg)
	}
	if ss.ctx.Err() != nil {
		return true, ss.ctx.Err()
	}
	return false, nil
}

// extended reports an extended-flow message's error and discards the
// messages that follow until Sync.
func (ss *session) extended(err error) {
	if err == nil {
		return
	}
	ss.sendError(toPgError(err, "", 0))
	ss.skip = true
}

func (ss *session) sendError(e *pgError) {
	if ss.tx == txBlock {
		ss.tx = txFailed
	}
	ss.be.Send(e.response())
}

// ready ends a request: ReadyForQuery, and the session is idle until the
// client's next message (Shutdown does not wait for idle sessions).
func (ss *session) ready() error {
	ss.be.Send(&pgproto3.ReadyForQuery{TxStatus: ss.tx})
	ss.idle = true
	ss.busy.Store(false)
	return ss.be.Flush()
}

// Param and SetParam implement pgcompat.Session.
func (ss *session) Param(name string) string { return ss.params[name] }

func (ss *session) SetParam(name, value string) {
	ss.params[name] = value
	if _, ok := reported()[name]; ok {
		ss.changed = append(ss.changed, name)
	}
}

// reportParams sends ParameterStatus for the reported parameters that
// the last statement changed.
func (ss *session) reportParams() {
	for _, k := range ss.changed {
		ss.be.Send(&pgproto3.ParameterStatus{Name: k, Value: ss.params[k]})
	}
	ss.changed = ss.changed[:0]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
