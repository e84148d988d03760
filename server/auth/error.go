package auth

import "github.com/augurdb/augur/internal/untrusted"

// SQLSTATE codes that Authenticate's errors carry.
const (
	// CodeInvalidPassword is invalid_password: a wrong password or an
	// unknown user (the two are not told apart).
	CodeInvalidPassword = "28P01"
	// CodeInvalidAuthorization is invalid_authorization_specification.
	CodeInvalidAuthorization = "28000"
	// CodeProtocolViolation is protocol_violation: a malformed or
	// unexpected SASL message.
	CodeProtocolViolation = "08P01"
)

// Error is an authentication failure that the server reports to the
// client as an ErrorResponse with severity FATAL, SQLSTATE Code and
// Message, before closing the connection. The server finds the code
// through the SQLState method (as on pgconn.PgError).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// SQLState returns the SQLSTATE code.
func (e *Error) SQLState() string { return e.Code }

// failed is the one error of a wrong password and of an unknown user,
// worded as PostgreSQL words it.
func failed(user string) *Error {
	return &Error{Code: CodeInvalidPassword, Message: "password authentication failed for user \"" + untrusted.Clean(user) + "\""}
}

func protocolError(msg string) *Error {
	return &Error{Code: CodeProtocolViolation, Message: msg}
}
