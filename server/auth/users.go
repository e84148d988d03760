package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/augurdb/augur/server"
)

const (
	// maxUsersFile bounds the users file (a verifier line is ~150 bytes).
	maxUsersFile = 16 << 20
	// maxLine bounds one line of it.
	maxLine = 4096
	// maxNameLen is PostgreSQL's NAMEDATALEN-1.
	maxNameLen = 63
)

// Users is a loaded users file: the accounts that augur serve accepts.
// It is read-only once loaded, so one Users serves every connection.
type Users struct {
	byName map[string]user
	// secret makes the salt shown for an unknown user stable per name
	// (as PostgreSQL's mock salt) without revealing that it is unknown.
	secret [32]byte
	// cbHash, when set, is the tls-server-end-point channel binding data
	// of the server's certificate: SCRAM-SHA-256-PLUS is then offered on
	// the connections that connTLS reports as TLS.
	cbHash  []byte
	connTLS func(context.Context) bool
	// nonce makes the server nonce; tests replace it.
	nonce func() (string, error)
}

type user struct {
	role     server.Role
	verifier *Verifier
	line     int
}

// RoleName returns the name of role in the users file.
func RoleName(r server.Role) string {
	switch r {
	case server.RoleAdmin:
		return "admin"
	case server.RoleReader:
		return "reader"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// ParseRole parses a role name of the users file: admin or reader.
func ParseRole(s string) (server.Role, error) {
	switch s {
	case "admin":
		return server.RoleAdmin, nil
	case "reader":
		return server.RoleReader, nil
	}
	return 0, fmt.Errorf("unknown role %.40q: want admin (may create and drop models and change data) or reader (may only query and predict)", s)
}

// CheckName checks a user name for the users file: 1 to 63 bytes of
// printable UTF-8 without spaces, not starting with '#'.
func CheckName(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("user name longer than %d bytes", maxNameLen)
	}
	if !utf8.ValidString(name) || name[0] == '#' {
		return fmt.Errorf("bad user name %.80q", name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("bad user name %.80q: spaces and control characters are not allowed", name)
		}
	}
	return nil
}

// Len returns the number of users.
func (u *Users) Len() int { return len(u.byName) }

// Role returns a user's role and whether the user exists.
func (u *Users) Role(name string) (server.Role, bool) {
	e, ok := u.byName[name]
	return e.role, ok
}

// LoadUsers reads a users file: one user per line, "name role verifier",
// with role admin or reader and verifier in PostgreSQL's SCRAM-SHA-256
// format; '#' starts a comment line; blank lines are skipped. Like ssh
// with a private key, it refuses a file that group or others may read or
// write (on Unix): the verifiers let whoever reads them impersonate the
// server and, with a recorded session, the user.
func LoadUsers(path string) (*Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("users file %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("users file %s: permissions %04o are too open: it holds password verifiers, so only its owner may read it (chmod 600 %s)", path, perm, path)
	}
	if st.Size() > maxUsersFile {
		return nil, fmt.Errorf("users file %s: larger than %d MiB", path, maxUsersFile>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUsersFile+1))
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	u, err := parseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return u, nil
}

func newUsers() (*Users, error) {
	u := &Users{byName: map[string]user{}, nonce: randomNonce}
	if _, err := rand.Read(u.secret[:]); err != nil {
		return nil, fmt.Errorf("making a secret: %w", err)
	}
	return u, nil
}

func parseUsers(data []byte) (*Users, error) {
	if len(data) > maxUsersFile {
		return nil, fmt.Errorf("larger than %d MiB", maxUsersFile>>20)
	}
	u, err := newUsers()
	if err != nil {
		return nil, err
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		name, e, err := parseLine(string(line))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if name == "" {
			continue
		}
		if prev, dup := u.byName[name]; dup {
			return nil, fmt.Errorf("line %d: user %s is already defined on line %d", n, name, prev.line)
		}
		e.line = n
		u.byName[name] = e
	}
	return u, nil
}

// parseLine parses one line; it returns an empty name for a blank or
// comment line.
func parseLine(line string) (string, user, error) {
	line = strings.TrimSuffix(line, "\r")
	if len(line) > maxLine {
		return "", user{}, fmt.Errorf("longer than %d bytes", maxLine)
	}
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || trimmed[0] == '#' {
		return "", user{}, nil
	}
	fields := strings.Fields(trimmed)
	if len(fields) != 3 {
		return "", user{}, fmt.Errorf("want 3 fields (name role verifier), found %d", len(fields))
	}
	if err := CheckName(fields[0]); err != nil {
		return "", user{}, err
	}
	role, err := ParseRole(fields[1])
	if err != nil {
		return "", user{}, fmt.Errorf("user %s: %w", fields[0], err)
	}
	v, err := ParseVerifier(fields[2])
	if err != nil {
		return "", user{}, fmt.Errorf("user %s: %w", fields[0], err)
	}
	return fields[0], user{role: role, verifier: v}, nil
}

// AddUser adds the user name with role and password to the users file
// at path, or replaces the entry of that name, keeping every other line
// (comments included) as it is. The file is created when missing and
// always rewritten whole, with mode 0600, through a temporary file and
// a rename, so that a reader never sees half of it. Two AddUser calls
// at once on one file may lose one of the changes.
func AddUser(path, name string, role server.Role, password string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if role != server.RoleAdmin && role != server.RoleReader {
		return fmt.Errorf("unknown role %d", int(role))
	}
	v, err := NewVerifier(password)
	if err != nil {
		return err
	}
	old, err := readExisting(path)
	if err != nil {
		return err
	}
	entry := name + " " + RoleName(role) + " " + v
	var out []string
	replaced := false
	for i, line := range old {
		n, _, err := parseLine(line)
		if err != nil {
			return fmt.Errorf("users file %s: line %d: %w (fix it before adding users)", path, i+1, err)
		}
		if n == name {
			if !replaced {
				out = append(out, entry)
			}
			replaced = true
			continue
		}
		out = append(out, line)
	}
	if !replaced {
		out = append(out, entry)
	}
	return writeAtomic(path, []byte(strings.Join(out, "\n")+"\n"))
}

// readExisting returns the lines of the users file, none when it is
// missing.
func readExisting(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if len(data) > maxUsersFile {
		return nil, fmt.Errorf("users file %s: larger than %d MiB", path, maxUsersFile>>20)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxUsersFile)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// writeAtomic replaces path with data: a temporary file in the same
// folder, mode 0600, synced, then renamed over path.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("users file: writing %s: %w", f.Name(), err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // make the rename durable; not all systems support it
		d.Close()
	}
	return nil
}

// ReadRole returns the role of user name in the users file at path, and
// whether the file names that user; a missing file names nobody. Unlike
// LoadUsers it does not check the file's permissions: augur passwd
// calls it before AddUser rewrites the file with mode 0600.
func ReadRole(path, name string) (server.Role, bool, error) {
	lines, err := readExisting(path)
	if err != nil {
		return 0, false, err
	}
	for i, line := range lines {
		n, e, err := parseLine(line)
		if err != nil {
			return 0, false, fmt.Errorf("users file %s: line %d: %w", path, i+1, err)
		}
		if n == name {
			return e.role, true, nil
		}
	}
	return 0, false, nil
}
