package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/augurdb/augur/server"
)

const (
	mechSCRAM     = "SCRAM-SHA-256"
	mechSCRAMPlus = "SCRAM-SHA-256-PLUS"
	// cbType is the one channel binding type PostgreSQL supports.
	cbType = "tls-server-end-point"
	// MaxAuthMessage bounds every message a client sends during the
	// exchange (a SCRAM message is under 200 bytes; PostgreSQL's limit
	// for them is similar).
	MaxAuthMessage = 8192
	// nonceLen is the server nonce's length before base64, as
	// PostgreSQL's SCRAM_RAW_NONCE_LEN.
	nonceLen = 18
)

// Authenticate runs the server side of SASL SCRAM-SHA-256 with the
// client of be, after its startup message named user: AuthenticationSASL
// (SCRAM-SHA-256, and SCRAM-SHA-256-PLUS on TLS connections once
// BindCertificate was called), the client's SASLInitialResponse, AuthenticationSASLContinue,
// the client's SASLResponse and, when the proof is right,
// AuthenticationSASLFinal, flushed. It does not send AuthenticationOk:
// the server does that (as in trust mode) on a nil error. Every error is
// an *Error whose SQLSTATE the server sends in a FATAL ErrorResponse; an
// unknown user goes through the whole exchange (with a stable fake
// salt) and gets the same error as a wrong password.
//
// Authenticate sets be's maximum message length to MaxAuthMessage and
// leaves it so: the server sets its own limit after a success. It cannot
// interrupt a blocked read; the server bounds the exchange with a
// deadline on the connection. ctx is checked between messages.
func (u *Users) Authenticate(ctx context.Context, be *pgproto3.Backend, userName string) (server.Role, error) {
	be.SetMaxBodyLen(MaxAuthMessage)
	defer be.SetAuthType(pgproto3.AuthTypeOk)
	e, known := u.byName[userName]
	v := e.verifier
	if !known {
		var err error
		if v, err = u.mockVerifier(userName); err != nil {
			return 0, err
		}
	}
	ex := &exchange{users: u, v: v, plus: u.offerPlus(ctx)}
	if err := ex.run(ctx, be); err != nil {
		return 0, err
	}
	if !ex.proofOK || !known {
		return 0, failed(userName)
	}
	be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + ex.serverSignature())})
	if err := be.Flush(); err != nil {
		return 0, &Error{Code: CodeProtocolViolation, Message: "sending AuthenticationSASLFinal: " + err.Error()}
	}
	return e.role, nil
}

// offerPlus reports whether SCRAM-SHA-256-PLUS is offered on the
// connection of ctx.
func (u *Users) offerPlus(ctx context.Context) bool {
	return u.cbHash != nil && u.connTLS != nil && u.connTLS(ctx)
}

// mockVerifier is the verifier shown for an unknown user: its salt is
// an HMAC of the name under the Users' secret, so that a client asking
// twice sees the same salt, as for a real user; its keys match no
// password.
func (u *Users) mockVerifier(name string) (*Verifier, error) {
	m := hmac.New(sha256.New, u.secret[:])
	m.Write([]byte(name))
	v := &Verifier{Iterations: DefaultIterations, Salt: m.Sum(nil)[:saltLen]}
	if _, err := rand.Read(v.StoredKey[:]); err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}
	return v, nil
}

func randomNonce() (string, error) {
	b := make([]byte, nonceLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("authentication: making a nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// exchange is one SCRAM conversation.
type exchange struct {
	users *Users
	v     *Verifier
	plus  bool // SCRAM-SHA-256-PLUS offered

	cbFlag      byte // 'n', 'y' or 'p'
	gs2Header   string
	clientBare  string
	serverFirst string
	nonce       string // client nonce + server nonce
	authMessage string
	proofOK     bool
}

func (ex *exchange) run(ctx context.Context, be *pgproto3.Backend) error {
	mechs := []string{mechSCRAM}
	if ex.plus {
		mechs = []string{mechSCRAMPlus, mechSCRAM}
	}
	be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: mechs})
	if err := sendAuth(be, pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	msg, err := receive(ctx, be)
	if err != nil {
		return err
	}
	initial, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok {
		return protocolError(fmt.Sprintf("expected SASLInitialResponse, got %T", msg))
	}
	if err := ex.clientFirst(initial.AuthMechanism, string(initial.Data)); err != nil {
		return err
	}
	if err := ex.makeServerFirst(); err != nil {
		return err
	}
	be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(ex.serverFirst)})
	if err := sendAuth(be, pgproto3.AuthTypeSASLContinue); err != nil {
		return err
	}
	if msg, err = receive(ctx, be); err != nil {
		return err
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return protocolError(fmt.Sprintf("expected SASLResponse, got %T", msg))
	}
	return ex.clientFinal(string(resp.Data))
}

// sendAuth flushes an authentication request and tells be how to decode
// the client's answer.
func sendAuth(be *pgproto3.Backend, authType uint32) error {
	if err := be.SetAuthType(authType); err != nil {
		return protocolError(err.Error())
	}
	if err := be.Flush(); err != nil {
		return &Error{Code: CodeProtocolViolation, Message: "sending an authentication request: " + err.Error()}
	}
	return nil
}

func receive(ctx context.Context, be *pgproto3.Backend) (pgproto3.FrontendMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Code: CodeInvalidAuthorization, Message: "authentication cancelled: " + err.Error()}
	}
	msg, err := be.Receive()
	if err != nil {
		return nil, protocolError("reading a SASL message: " + err.Error())
	}
	if _, ok := msg.(*pgproto3.Terminate); ok {
		return nil, protocolError("the client closed the connection during authentication")
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Code: CodeInvalidAuthorization, Message: "authentication cancelled: " + err.Error()}
	}
	return msg, nil
}

// clientFirst parses the client-first-message (RFC 5802 section 7):
// gs2-cbind-flag "," [authzid] "," [reserved-mext ","] username ","
// nonce ["," extensions].
func (ex *exchange) clientFirst(mech, data string) error {
	plus := ex.plus
	switch {
	case mech == mechSCRAM, mech == mechSCRAMPlus && plus:
	default:
		return protocolError("client selected an invalid SASL authentication mechanism")
	}
	if strings.IndexByte(data, 0) >= 0 {
		return protocolError("malformed SCRAM message: NUL byte")
	}
	rest := data
	switch {
	case strings.HasPrefix(rest, "n,"), strings.HasPrefix(rest, "y,"):
		ex.cbFlag = rest[0]
		rest = rest[2:]
	case strings.HasPrefix(rest, "p="):
		name, after, ok := strings.Cut(rest[2:], ",")
		if !ok {
			return protocolError("malformed SCRAM message: unterminated channel binding type")
		}
		if name != cbType {
			return protocolError("unsupported SCRAM channel-binding type " + strconv.Quote(name))
		}
		ex.cbFlag, rest = 'p', after
	default:
		return protocolError("malformed SCRAM message: expected channel binding flag n, y or p")
	}
	if err := ex.checkBindingFlag(mech, plus); err != nil {
		return err
	}
	if strings.HasPrefix(rest, "a=") {
		return protocolError("client uses authorization identity, but it is not supported")
	}
	if !strings.HasPrefix(rest, ",") {
		return protocolError("malformed SCRAM message: expected ',' after the channel binding flag")
	}
	rest = rest[1:]
	ex.gs2Header = data[:len(data)-len(rest)]
	ex.clientBare = rest
	if strings.HasPrefix(rest, "m=") {
		return protocolError("client requires an unsupported SCRAM extension")
	}
	// The user name is the startup message's, as in PostgreSQL; the
	// SCRAM one (pgx and libpq send it empty) is ignored.
	if !strings.HasPrefix(rest, "n=") {
		return protocolError("malformed SCRAM message: expected n= user name")
	}
	_, rest, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasPrefix(rest, "r=") {
		return protocolError("malformed SCRAM message: expected r= nonce")
	}
	nonce, _, _ := strings.Cut(rest[2:], ",")
	if !printableNonce(nonce) {
		return protocolError("malformed SCRAM message: the client nonce is empty or holds characters other than printable ASCII")
	}
	ex.nonce = nonce
	return nil
}

// checkBindingFlag checks the client's channel binding flag against the
// mechanism it chose and what the server offered.
func (ex *exchange) checkBindingFlag(mech string, plus bool) error {
	switch {
	case mech == mechSCRAMPlus && ex.cbFlag != 'p':
		return protocolError("the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data")
	case mech == mechSCRAM && ex.cbFlag == 'p':
		return protocolError("the client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data")
	case ex.cbFlag == 'y' && plus:
		// The client can bind but believes the server cannot: someone
		// removed SCRAM-SHA-256-PLUS from the offer (RFC 5802 section 6).
		return protocolError("SCRAM channel binding negotiation error: the client supports channel binding but thinks the server does not; this server does")
	}
	return nil
}

func printableNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

func (ex *exchange) makeServerFirst() error {
	sn, err := ex.users.nonce()
	if err != nil {
		return err
	}
	ex.nonce += sn
	ex.serverFirst = "r=" + ex.nonce + ",s=" + base64.StdEncoding.EncodeToString(ex.v.Salt) + ",i=" + strconv.Itoa(ex.v.Iterations)
	return nil
}

// clientFinal parses the client-final-message, "c=" channel-binding ","
// "r=" nonce ["," extensions] "," "p=" proof, and checks the proof.
func (ex *exchange) clientFinal(data string) error {
	if strings.IndexByte(data, 0) >= 0 {
		return protocolError("malformed SCRAM message: NUL byte")
	}
	i := strings.LastIndex(data, ",p=")
	if i < 0 {
		return protocolError("malformed SCRAM message: expected p= proof at the end")
	}
	withoutProof, proofText := data[:i], data[i+3:]
	cb, rest, ok := strings.Cut(withoutProof, ",")
	if !ok || !strings.HasPrefix(cb, "c=") || !strings.HasPrefix(rest, "r=") {
		return protocolError("malformed SCRAM message: expected c= channel binding and r= nonce")
	}
	got, err := base64.StdEncoding.DecodeString(cb[2:])
	if err != nil {
		return protocolError("malformed SCRAM message: channel binding is not base64")
	}
	want := ex.gs2Header
	if ex.cbFlag == 'p' {
		want += string(ex.users.cbHash)
	}
	if string(got) != want {
		return protocolError("SCRAM channel binding check failed")
	}
	if nonce, _, _ := strings.Cut(rest[2:], ","); nonce != ex.nonce {
		return protocolError("malformed SCRAM message: the nonce does not match")
	}
	proof, err := base64.StdEncoding.DecodeString(proofText)
	if err != nil || len(proof) != sha256.Size {
		return protocolError("malformed SCRAM message: the proof is not 32 bytes of base64")
	}
	ex.authMessage = ex.clientBare + "," + ex.serverFirst + "," + withoutProof
	ex.proofOK = ex.checkProof(proof)
	return nil
}

// checkProof recovers ClientKey = proof XOR HMAC(StoredKey, AuthMessage)
// and compares H(ClientKey) with StoredKey in constant time.
func (ex *exchange) checkProof(proof []byte) bool {
	sig := hmacSHA256(ex.v.StoredKey[:], ex.authMessage)
	clientKey := make([]byte, sha256.Size)
	for i := range clientKey {
		clientKey[i] = proof[i] ^ sig[i]
	}
	h := sha256.Sum256(clientKey)
	return subtle.ConstantTimeCompare(h[:], ex.v.StoredKey[:]) == 1
}

// serverSignature is HMAC(ServerKey, AuthMessage), base64.
func (ex *exchange) serverSignature() string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(ex.v.ServerKey[:], ex.authMessage))
}
