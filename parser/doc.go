// Package parser lexes DuckDB-flavoured SQL, splits scripts into
// statements and parses Rikai's model statements (CREATE MODEL,
// DESCRIBE MODEL, SHOW MODELS, DROP MODEL).
//
// Every other statement is left to DuckDB: Parse returns (nil, nil) for
// it, and the engine passes the text on unchanged. The lexer therefore
// only has to be right about where tokens, strings, comments and
// statements begin and end; it does not validate SQL.
//
// Positions: Pos.Offset is a byte offset in the whole script, Line and
// Col are 1-based and Col counts runes (UTF-8 code points), so an error
// column matches what an editor shows. Token.End is also an absolute byte
// offset (the offset just after the token).
package parser
