package auth

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/augurdb/augur/server"
)

// pgVerifier is the verifier in PostgreSQL's regression test
// src/test/regress/sql/password.sql, and pgPattern the expression that
// test masks verifiers with.
const pgVerifier = "SCRAM-SHA-256$4096:VLK4RMaQLCvNtQ==$6YtlR4t69SguDiwFvbVgVZtuz6gpJQQqUMZ7IQJK5yI=:ps75jrHeYU4lXCcXI4O8oIdJ3eO8o2jirjruw9phBTo="

var pgPattern = regexp.MustCompile(`^(SCRAM-SHA-256)\$(\d+):([a-zA-Z0-9+/=]+)\$([a-zA-Z0-9+=/]+):([a-zA-Z0-9+/=]+)$`)

func TestVerifierFormat(t *testing.T) {
	v, err := ParseVerifier(pgVerifier)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != pgVerifier || v.Iterations != 4096 || len(v.Salt) != 10 {
		t.Fatalf("round trip %q (%d iterations, %d-byte salt)", v.String(), v.Iterations, len(v.Salt))
	}
	// The verifier of RFC 7677's password and salt, computed with
	// Python's hashlib (an independent implementation).
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	rfc, err := computeVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="; rfc.String() != want {
		t.Fatalf("verifier %s, want %s", rfc, want)
	}
	s, err := NewVerifier("pencil")
	if err != nil {
		t.Fatal(err)
	}
	m := pgPattern.FindStringSubmatch(s)
	if m == nil || m[2] != "4096" {
		t.Fatalf("NewVerifier gave %q", s)
	}
	nv, err := ParseVerifier(s)
	if err != nil || len(nv.Salt) != 16 {
		t.Fatalf("ParseVerifier(NewVerifier): %v", err)
	}
	again, _ := computeVerifier("pencil", nv.Salt, nv.Iterations)
	if again.String() != s {
		t.Fatal("NewVerifier's keys are not those of its password and salt")
	}
	if s2, _ := NewVerifier("pencil"); s2 == s {
		t.Fatal("two verifiers of one password share a salt")
	}
	if _, err := NewVerifier(""); err == nil {
		t.Fatal("empty password accepted")
	}
	for _, bad := range []string{
		"md5cd3578025fe2c3d7ed1b9a9b26238b70",
		"SCRAM-SHA-256$4096:VLK4RMaQLCvNtQ==",
		"SCRAM-SHA-256$0:VLK4RMaQLCvNtQ==$6YtlR4t69SguDiwFvbVgVZtuz6gpJQQqUMZ7IQJK5yI=:ps75jrHeYU4lXCcXI4O8oIdJ3eO8o2jirjruw9phBTo=",
		"SCRAM-SHA-256$99999999999:VLK4RMaQLCvNtQ==$6YtlR4t69SguDiwFvbVgVZtuz6gpJQQqUMZ7IQJK5yI=:ps75jrHeYU4lXCcXI4O8oIdJ3eO8o2jirjruw9phBTo=",
		"SCRAM-SHA-256$4096:$6YtlR4t69SguDiwFvbVgVZtuz6gpJQQqUMZ7IQJK5yI=:ps75jrHeYU4lXCcXI4O8oIdJ3eO8o2jirjruw9phBTo=",
		"SCRAM-SHA-256$4096:VLK4RMaQLCvNtQ==$6YtlR4t69SguDiwFvbVgVZtuz6gpJQQ=:ps75jrHeYU4lXCcXI4O8oIdJ3eO8o2jirjruw9phBTo=",
		"SCRAM-SHA-256$4096:VLK4RMaQLCvNtQ==$6YtlR4t69SguDiwFvbVgVZtuz6gpJQQqUMZ7IQJK5yI=:!!",
	} {
		if _, err := ParseVerifier(bad); err == nil {
			t.Errorf("ParseVerifier(%q) accepted", bad)
		}
	}
}

// TestSASLprep checks the examples of RFC 4013 section 3.
func TestSASLprep(t *testing.T) {
	for in, want := range map[string]string{
		"I\u00adX":   "IX",
		"user":       "user",
		"USER":       "USER",
		"\u00aa":     "a",
		"\u2168":     "IX",
		"a\u00a0b":   "a b",
		"\u0007é":    "\u0007é", // prohibited: used as given
		"pen\x01cil": "pen\x01cil",
	} {
		if got := saslPrep(in); got != want {
			t.Errorf("saslPrep(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeUsers(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadUsers(t *testing.T) {
	p := writeUsers(t, "# comment\n\n  alice admin "+pgVerifier+"  \r\nbob\treader\t"+pgVerifier+"\n   # indented comment\n", 0o600)
	u, err := LoadUsers(p)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := u.Role("alice"); !ok || r != server.RoleAdmin {
		t.Fatalf("alice: %v %v", r, ok)
	}
	if r, ok := u.Role("bob"); !ok || r != server.RoleReader || u.Len() != 2 {
		t.Fatalf("bob: %v %v (%d users)", r, ok, u.Len())
	}
	for _, c := range []struct{ text, want string }{
		{"alice admin " + pgVerifier + "\n\ncarol owner " + pgVerifier, "line 3: user carol: unknown role"},
		{"alice admin " + pgVerifier + "\nalice reader " + pgVerifier, "line 2: user alice is already defined on line 1"},
		{"alice admin secret", "line 1: user alice: not a SCRAM-SHA-256 verifier"},
		{"alice admin", "line 1: want 3 fields"},
		{"alice admin " + pgVerifier + " extra", "line 1: want 3 fields"},
		{strings.Repeat("x", 64) + " admin " + pgVerifier, "line 1: user name longer than 63"},
		{"al\x1bice admin " + pgVerifier, "line 1: bad user name"},
	} {
		_, err := LoadUsers(writeUsers(t, c.text, 0o600))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	if runtime.GOOS != "windows" {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o602} {
			_, err := LoadUsers(writeUsers(t, "", mode))
			if err == nil || !strings.Contains(err.Error(), "too open") || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("mode %o: %v", mode, err)
			}
		}
	}
	if _, err := LoadUsers(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := LoadUsers(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder: %v", err)
	}
}

func TestAddUser(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users")
	if err := AddUser(p, "alice", server.RoleAdmin, "one"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	// Comments survive; a second user is appended; alice is replaced in place.
	data, _ := os.ReadFile(p)
	os.WriteFile(p, append([]byte("# augur users\n"), data...), 0o600)
	if err := AddUser(p, "bob", server.RoleReader, "two"); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(p, "alice", server.RoleReader, "three"); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || lines[0] != "# augur users" || !strings.HasPrefix(lines[1], "alice reader SCRAM-SHA-256$4096:") || !strings.HasPrefix(lines[2], "bob reader ") {
		t.Fatalf("file:\n%s", data)
	}
	if strings.Contains(string(data), "three") {
		t.Fatal("the password is in the file")
	}
	u, err := LoadUsers(p)
	if err != nil {
		t.Fatal(err)
	}
	v := u.byName["alice"].verifier
	if again, _ := computeVerifier("three", v.Salt, v.Iterations); again.String() != v.String() {
		t.Fatal("alice's verifier is not of her new password")
	}
	if err := AddUser(p, "bad name", server.RoleAdmin, "x"); err == nil {
		t.Fatal("name with a space accepted")
	}
	if err := AddUser(p, "carol", server.RoleAdmin, ""); err == nil {
		t.Fatal("empty password accepted")
	}
	os.WriteFile(p, []byte("broken line\n"), 0o600)
	if err := AddUser(p, "carol", server.RoleAdmin, "x"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("broken file: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
