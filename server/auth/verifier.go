// Package auth is augur serve's authentication: a users file of
// PostgreSQL SCRAM-SHA-256 verifiers, the server side of the SCRAM
// exchange (RFC 5802, RFC 7677, PostgreSQL's SASL flow) and the TLS
// configuration. It never sees, keeps or logs a stored password: the
// file holds verifiers, and a password typed by a client never reaches
// the server.
package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

const (
	// DefaultIterations is PostgreSQL's default scram_iterations.
	DefaultIterations = 4096
	// saltLen is the salt length PostgreSQL uses (SCRAM_DEFAULT_SALT_LEN).
	saltLen = 16
	// maxIterations bounds a verifier's iteration count: clients run
	// PBKDF2 that many times (pgx refuses more than 10 million).
	maxIterations = 10_000_000
	// maxSaltLen bounds a verifier's salt (PostgreSQL's are 16 bytes).
	maxSaltLen = 1024
	scheme     = "SCRAM-SHA-256"
)

// Verifier is a SCRAM-SHA-256 verifier: what PostgreSQL stores in
// pg_authid.rolpassword, from which a server checks a client's proof
// without knowing its password.
type Verifier struct {
	Iterations int
	Salt       []byte
	StoredKey  [sha256.Size]byte
	ServerKey  [sha256.Size]byte
}

// String returns the verifier in PostgreSQL's format,
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
func (v *Verifier) String() string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s$%d:%s$%s:%s", scheme, v.Iterations, b64(v.Salt), b64(v.StoredKey[:]), b64(v.ServerKey[:]))
}

// ParseVerifier parses a verifier in PostgreSQL's format.
func ParseVerifier(s string) (*Verifier, error) {
	rest, ok := strings.CutPrefix(s, scheme+"$")
	if !ok {
		return nil, errors.New("not a SCRAM-SHA-256 verifier: it must start with SCRAM-SHA-256$ (write entries with augur passwd)")
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errors.New("malformed SCRAM-SHA-256 verifier: want SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>")
	}
	iterText, saltText, ok1 := strings.Cut(params, ":")
	storedText, serverText, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return nil, errors.New("malformed SCRAM-SHA-256 verifier: want SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>")
	}
	v := &Verifier{}
	n, err := strconv.Atoi(iterText)
	if err != nil || n < 1 || n > maxIterations {
		return nil, fmt.Errorf("SCRAM-SHA-256 verifier: iteration count %.20q is not a number from 1 to %d", iterText, maxIterations)
	}
	v.Iterations = n
	if v.Salt, err = base64.StdEncoding.DecodeString(saltText); err != nil || len(v.Salt) == 0 || len(v.Salt) > maxSaltLen {
		return nil, errors.New("SCRAM-SHA-256 verifier: the salt is not non-empty base64")
	}
	if err := decodeKey(v.StoredKey[:], storedText); err != nil {
		return nil, fmt.Errorf("SCRAM-SHA-256 verifier: StoredKey %w", err)
	}
	if err := decodeKey(v.ServerKey[:], serverText); err != nil {
		return nil, fmt.Errorf("SCRAM-SHA-256 verifier: ServerKey %w", err)
	}
	return v, nil
}

func decodeKey(dst []byte, s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("is not %d bytes of base64", len(dst))
	}
	copy(dst, b)
	return nil
}

// NewVerifier returns the PostgreSQL verifier string of password with a
// random 16-byte salt and 4096 iterations, as PostgreSQL's
// CREATE ROLE ... PASSWORD computes it.
func NewVerifier(password string) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("making a salt: %w", err)
	}
	v, err := computeVerifier(password, salt, DefaultIterations)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// computeVerifier derives the keys of RFC 5802: SaltedPassword =
// PBKDF2-HMAC-SHA-256(Normalize(password), salt, i), ClientKey =
// HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
// ServerKey = HMAC(SaltedPassword, "Server Key").
func computeVerifier(password string, salt []byte, iterations int) (*Verifier, error) {
	salted, err := pbkdf2.Key(sha256.New, saslPrep(password), salt, iterations, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("deriving the SCRAM keys: %w", err)
	}
	v := &Verifier{Iterations: iterations, Salt: append([]byte(nil), salt...)}
	v.StoredKey = sha256.Sum256(hmacSHA256(salted, "Client Key"))
	copy(v.ServerKey[:], hmacSHA256(salted, "Server Key"))
	return v, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// saslPrep normalises a password the way PostgreSQL's pg_saslprep does
// (RFC 4013): ASCII passwords are used as they are; others have
// non-ASCII spaces mapped to a space, "commonly mapped to nothing"
// characters removed and NFKC applied, and a password that then holds
// a prohibited character is used as it was given (PostgreSQL accepts
// such passwords too). PostgreSQL's check for characters unassigned in
// Unicode 3.2 is not repeated, so a password using characters added
// since then may normalise differently from psql.
func saslPrep(password string) string {
	ascii := true
	for i := 0; i < len(password); i++ {
		if password[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return password
	}
	var b strings.Builder
	for _, r := range password {
		switch {
		case r == unicode.ReplacementChar:
			return password // invalid UTF-8: PostgreSQL uses it raw
		case mappedToNothing(r):
		case r != ' ' && unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	out := norm.NFKC.String(b.String())
	if out == "" {
		return password
	}
	for _, r := range out {
		if prohibited(r) {
			return password
		}
	}
	return out
}

// mappedToNothing is RFC 3454 table B.1.
func mappedToNothing(r rune) bool {
	switch r {
	case 0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF:
		return true
	}
	return r >= 0xFE00 && r <= 0xFE0F
}

// prohibited approximates RFC 4013's prohibited output (RFC 3454 C.1.2
// to C.9): spaces other than U+0020, control characters, private use,
// surrogates, non-characters and the formatting characters of C.8.
func prohibited(r rune) bool {
	switch {
	case r != ' ' && unicode.Is(unicode.Zs, r):
		return true
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
		return true
	case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE:
		return true
	case r >= 0x2FF0 && r <= 0x2FFB, r >= 0x200E && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x206A && r <= 0x206F:
		return true
	case r >= 0xE0001 && r <= 0xE007F, r >= 0xFFF9 && r <= 0xFFFD:
		return true
	}
	return false
}
