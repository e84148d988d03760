package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/augurdb/augur/engine"
	"github.com/augurdb/augur/server"
	"github.com/augurdb/augur/server/auth"
)

// ServeUsage is the text of augur serve --help.
const ServeUsage = `Usage: augur serve [DATABASE] [flags]

Serves DATABASE (a DuckDB file, created when missing; in memory without it)
over the PostgreSQL protocol, so that psql, pgx, JDBC, psycopg and BI tools
run SQL, model statements and ML_PREDICT. Flags may stand before or after
DATABASE.

Flags:
  --listen ADDR             address to listen on (default 127.0.0.1:5433)
  --users FILE              users file of SCRAM-SHA-256 verifiers (see augur
                            passwd); without it the server trusts every
                            client, so it only listens on loopback
  --tls-cert FILE           PEM certificate chain for TLS
  --tls-key FILE            PEM private key of --tls-cert
  --require-tls             refuse clients that do not use TLS
  --model-root DIR          folder that model files may be read from;
                            repeatable; without it no local model file and
                            no local file through SQL is read
  --shutdown-timeout D      how long SIGTERM/SIGINT lets running queries
                            finish (default 30s)
  --log-format text|json    log format on standard error (default text)
  --readonly                open DATABASE read-only
  -h, --help                show this help and exit
`

// PasswdUsage is the text of augur passwd --help.
const PasswdUsage = `Usage: augur passwd FILE USER [--role admin|reader]

Adds USER to the users file FILE of augur serve --users, or changes the
user's password, asking for it without echo on a terminal (twice) and reading
one line from standard input otherwise. The file keeps SCRAM-SHA-256
verifiers, never passwords; it is written with mode 0600.

  --role admin    may create and drop models and change data
  --role reader   may only query and predict (the default for a new user;
                  an existing user keeps their role)
`

// ServeOptions is a parsed augur serve command line.
type ServeOptions struct {
	Database        string
	Listen          string
	Users           string
	TLSCert         string
	TLSKey          string
	RequireTLS      bool
	ModelRoots      []string
	ShutdownTimeout time.Duration
	LogFormat       string // text or json
	ReadOnly        bool
	Help            bool
}

// DefaultListen is augur serve's default address.
const DefaultListen = "127.0.0.1:5433"

// scanFlags walks a command line whose flags may stand before or after
// its positional arguments: long flags with one or two dashes, as
// "--flag=value" or "--flag value" (for names in takesValue); "--" ends
// the flags. set is called for each flag.
func scanFlags(args []string, takesValue func(name string) bool, set func(name, value string, hasValue bool) error) ([]string, error) {
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if takesValue(name) && !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			value, hasValue = args[i], true
		} else if !takesValue(name) && hasValue {
			return nil, fmt.Errorf("flag -%s takes no value", name)
		}
		if err := set(name, value, hasValue); err != nil {
			return nil, err
		}
	}
	return positional, nil
}

// ParseServeArgs parses the arguments after "augur serve".
func ParseServeArgs(args []string) (ServeOptions, error) {
	o := ServeOptions{Listen: DefaultListen, ShutdownTimeout: 30 * time.Second, LogFormat: "text"}
	valued := map[string]bool{"listen": true, "users": true, "tls-cert": true, "tls-key": true,
		"model-root": true, "shutdown-timeout": true, "log-format": true}
	pos, err := scanFlags(args, func(n string) bool { return valued[n] }, func(name, v string, _ bool) error {
		switch name {
		case "listen":
			o.Listen = v
		case "users":
			o.Users = v
		case "tls-cert":
			o.TLSCert = v
		case "tls-key":
			o.TLSKey = v
		case "require-tls":
			o.RequireTLS = true
		case "model-root":
			if v == "" {
				return errors.New("--model-root needs a folder")
			}
			o.ModelRoots = append(o.ModelRoots, v)
		case "shutdown-timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("--shutdown-timeout %q: want a duration such as 30s or 2m", v)
			}
			o.ShutdownTimeout = d
		case "log-format":
			if v != "text" && v != "json" {
				return fmt.Errorf("--log-format %q: want text or json", v)
			}
			o.LogFormat = v
		case "readonly", "read-only":
			o.ReadOnly = true
		case "h", "help":
			o.Help = true
		default:
			return fmt.Errorf("unknown flag -%s", name)
		}
		return nil
	})
	if err != nil {
		return o, err
	}
	if len(pos) > 1 {
		return o, fmt.Errorf("more than one database given: %s", strings.Join(pos, ", "))
	}
	if len(pos) == 1 {
		o.Database = pos[0]
	}
	if o.Help {
		return o, nil
	}
	return o, o.check()
}

// check refuses contradictory flags.
func (o ServeOptions) check() error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if o.RequireTLS && o.TLSCert == "" {
		return errors.New("--require-tls needs --tls-cert and --tls-key")
	}
	if o.ReadOnly && (o.Database == "" || o.Database == ":memory:") {
		return errors.New("--readonly needs a database file (an in-memory database is always writable)")
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT, such as 127.0.0.1:5433", o.Listen)
	}
	if o.Users == "" && !loopbackHost(o.Listen) {
		return fmt.Errorf("--listen %s without --users: a server without passwords only listens on loopback (127.0.0.1, ::1 or localhost); write a users file with augur passwd and pass --users", o.Listen)
	}
	return nil
}

// loopbackHost reports whether addr's host is a loopback address or
// localhost; an empty host (every interface) is not.
func loopbackHost(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve runs augur serve with the arguments after "serve" and returns
// the exit status: 0 after a clean shutdown on SIGTERM or SIGINT, 1 when
// the server could not start or failed, 2 for a bad command line.
func Serve(args []string, stdout, stderr io.Writer) int {
	opts, err := ParseServeArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\nTry 'augur serve --help'.\n", err)
		return 2
	}
	if opts.Help {
		io.WriteString(stdout, ServeUsage)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	return runServe(ctx, opts, stderr, nil)
}

// runServe serves until ctx ends (Serve cancels it on a signal), then
// shuts down. ready, when set, receives the address listened on.
func runServe(ctx context.Context, o ServeOptions, stderr io.Writer, ready func(net.Addr)) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "Error: "+format+"\n", a...)
		return 1
	}
	log := newLogger(o.LogFormat, stderr)
	var users *auth.Users
	if o.Users != "" {
		var err error
		if users, err = auth.LoadUsers(o.Users); err != nil {
			return fail("%v", err)
		}
	}
	var tlsCfg *tls.Config
	if o.TLSCert != "" {
		var err error
		if tlsCfg, err = auth.LoadTLS(o.TLSCert, o.TLSKey); err != nil {
			return fail("%v", err)
		}
		if users != nil {
			// SCRAM-SHA-256-PLUS: channel binding to the certificate
			// presented, offered on TLS connections only.
			if err := users.BindCertificate(tlsCfg.Certificates[0].Certificate[0], server.ConnTLS); err != nil {
				return fail("%v", err)
			}
		}
	}
	roots, err := absRoots(o.ModelRoots)
	if err != nil {
		return fail("%v", err)
	}
	dsn := o.Database
	if o.ReadOnly {
		dsn = readOnlyDSN(dsn)
	}
	eng, err := engine.Open(ctx, dsn)
	if err != nil {
		return fail("cannot open database %q: %s", o.Database, oneLine(err.Error()))
	}
	status := serveEngine(ctx, o, eng, users, tlsCfg, roots, log, ready, stderr)
	if err := eng.Close(); err != nil {
		log.Error("closing the database", "err", oneLine(err.Error()))
		return 1
	}
	log.Info("database closed", "database", databaseName(o.Database))
	return status
}

// serveEngine restricts the engine's files, listens and serves until ctx
// ends.
func serveEngine(ctx context.Context, o ServeOptions, eng *engine.Engine, users *auth.Users, tlsCfg *tls.Config, roots []string, log *slog.Logger, ready func(net.Addr), stderr io.Writer) int {
	if err := eng.RestrictFiles(ctx, roots); err != nil {
		fmt.Fprintf(stderr, "Error: restricting file access to the model roots: %s\n", oneLine(err.Error()))
		return 1
	}
	cfg := server.Config{Engine: eng, TLS: tlsCfg, RequireTLS: o.RequireTLS, ShutdownTimeout: o.ShutdownTimeout, Logger: log}
	if users != nil {
		cfg.Auth = users // only when set: a nil *Users in the interface is not trust mode
	}
	srv, err := server.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); users == nil && (!ok || !tcp.IP.IsLoopback()) {
		ln.Close()
		fmt.Fprintf(stderr, "Error: --listen %s resolved to %s, not a loopback address: without --users the server only listens on loopback\n", o.Listen, ln.Addr())
		return 2
	}
	defer ln.Close() // Serve closes it too, except when it fails
	logStart(log, o, ln.Addr(), users, tlsCfg, roots)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Shutdown(context.Background())
		if err == nil {
			err = errors.New("the server stopped")
		}
		log.Error("serving failed", "err", oneLine(err.Error()))
		return 1
	case <-ctx.Done():
	}
	return shutdown(srv, errc, o.ShutdownTimeout, log)
}

// shutdown stops srv: running queries get timeout to finish (the server
// then cancels them), and a little more to close their sessions.
func shutdown(srv *server.Server, errc <-chan error, timeout time.Duration, log *slog.Logger) int {
	log.Info("shutting down", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	status := 0
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", oneLine(err.Error()))
		status = 1
	}
	select {
	case err := <-errc:
		if err != nil {
			log.Error("serving", "err", oneLine(err.Error()))
			status = 1
		}
	case <-ctx.Done():
		log.Error("shutdown: the server did not stop in time")
		status = 1
	}
	return status
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func databaseName(db string) string {
	if db == "" {
		return ":memory:"
	}
	return db
}

// logStart says what the server serves and how it lets clients in.
func logStart(log *slog.Logger, o ServeOptions, addr net.Addr, users *auth.Users, tlsCfg *tls.Config, roots []string) {
	authAttrs := []any{"auth", "trust"}
	if users != nil {
		authAttrs = []any{"auth", "scram-sha-256", "users_file", o.Users, "users", users.Len()}
	}
	tlsMode := "off"
	switch {
	case tlsCfg != nil && o.RequireTLS:
		tlsMode = "required"
	case tlsCfg != nil:
		tlsMode = "optional"
	}
	rootsText := "none (no local model files)"
	if len(roots) > 0 {
		rootsText = strings.Join(roots, string(filepath.ListSeparator))
	}
	log.Info("augur serve listening", "addr", addr.String(), "database", databaseName(o.Database),
		"readonly", o.ReadOnly)
	log.Info("augur serve access", append(authAttrs, "tls", tlsMode, "model_roots", rootsText)...)
	if users == nil {
		log.Warn("trust mode: no --users, so any user and database name is accepted without a password; only loopback clients may connect")
	}
}

// absRoots makes the model roots absolute and checks that they are
// folders.
func absRoots(roots []string) ([]string, error) {
	out := make([]string, 0, len(roots))
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("--model-root %s: %w", r, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("--model-root: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--model-root %s: not a folder", r)
		}
		out = append(out, abs)
	}
	return out, nil
}

// Passwd runs augur passwd with the arguments after "passwd" and returns
// the exit status (2 for a bad command line).
func Passwd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var roleText string
	help := false
	pos, err := scanFlags(args, func(n string) bool { return n == "role" }, func(name, v string, _ bool) error {
		switch name {
		case "role":
			roleText = v
		case "h", "help":
			help = true
		default:
			return fmt.Errorf("unknown flag -%s", name)
		}
		return nil
	})
	if err == nil && !help && len(pos) != 2 {
		err = errors.New("want a users file and a user name")
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\nTry 'augur passwd --help'.\n", err)
		return 2
	}
	if help {
		io.WriteString(stdout, PasswdUsage)
		return 0
	}
	file, name := pos[0], pos[1]
	if err := auth.CheckName(name); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 2
	}
	role, err := passwdRole(file, name, roleText)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 2
	}
	password, err := readPassword(stdin, stderr, name)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	if err := auth.AddUser(file, name, role, password); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "user %s (%s) written to %s\n", name, auth.RoleName(role), file)
	return 0
}

// passwdRole is the --role given, else the user's current role, else
// reader.
func passwdRole(file, name, roleText string) (server.Role, error) {
	if roleText != "" {
		return auth.ParseRole(roleText)
	}
	role, found, err := auth.ReadRole(file, name)
	if err != nil || found {
		return role, err
	}
	return server.RoleReader, nil
}

// maxPassword bounds a password read from standard input.
const maxPassword = 1024

// readPassword reads the password: twice without echo from a terminal,
// else one line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer, name string) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(stderr, "Password for %s: ", name)
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ; nothing was written")
		}
		if len(p1) == 0 {
			return "", errors.New("empty password; nothing was written")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxPassword+2), maxPassword+2).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if len(line) > maxPassword {
		return "", fmt.Errorf("password longer than %d bytes", maxPassword)
	}
	if line == "" {
		return "", errors.New("empty password on standard input; nothing was written")
	}
	return line, nil
}
