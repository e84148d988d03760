package server

import (
	"context"
	"strings"

	"github.com/augurdb/augur/parser"
)

// PostgreSQL's DEALLOCATE removes prepared statements of the session,
// those of the protocol's Parse included (they share one namespace with
// SQL PREPARE). Clients rely on it: psycopg sends DEALLOCATE ALL after a
// rollback, to forget the statements it prepared, and DuckDB has no
// DEALLOCATE ALL. The session answers DEALLOCATE ALL, and DEALLOCATE of a
// Parse statement's name, itself; DEALLOCATE of another name is DuckDB's
// (a statement of SQL PREPARE).

// deallocateAll is prepared.dealloc for DEALLOCATE ALL.
const deallocateAll = "\x00all"

// deallocateTarget returns what `DEALLOCATE [PREPARE] name|ALL` names: the
// statement's name as PostgreSQL reads it (folded to lower case unless
// quoted), or deallocateAll; ok is false for any other statement.
func deallocateTarget(sql string) (target string, ok bool) {
	toks := parser.Tokens(sql, parser.Pos{Line: 1, Col: 1})
	var words []parser.Token
	for _, t := range toks {
		if t.Kind == parser.EOF {
			break
		}
		if t.Kind == parser.Punct && t.Text == ";" {
			continue
		}
		words = append(words, t)
	}
	if len(words) < 2 || words[0].Kind != parser.PlainIdent || !strings.EqualFold(words[0].Text, "DEALLOCATE") {
		return "", false
	}
	words = words[1:]
	if len(words) == 2 && words[0].Kind == parser.PlainIdent && strings.EqualFold(words[0].Text, "PREPARE") {
		words = words[1:]
	}
	if len(words) != 1 {
		return "", false
	}
	switch w := words[0]; w.Kind {
	case parser.PlainIdent:
		if strings.EqualFold(w.Text, "ALL") {
			return deallocateAll, true
		}
		return strings.ToLower(w.Text), true
	case parser.QuotedIdent:
		if len(w.Text) < 2 {
			return "", false
		}
		name := strings.ReplaceAll(w.Text[1:len(w.Text)-1], `""`, `"`)
		return name, name != ""
	}
	return "", false
}

// runDeallocate runs a DEALLOCATE statement. DEALLOCATE ALL drops every
// named statement (PostgreSQL keeps the unnamed one); a name that no
// Parse made goes to DuckDB, whose SQL PREPARE may have made it.
func (ss *session) runDeallocate(ctx context.Context, p *prepared) (result, error) {
	tag := "DEALLOCATE"
	switch _, parsed := ss.stmts[p.dealloc]; {
	case p.dealloc == deallocateAll:
		tag = "DEALLOCATE ALL"
		for name := range ss.stmts {
			if name != "" {
				ss.dropStatement(name)
			}
		}
	case parsed && p.dealloc != "":
		ss.dropStatement(p.dealloc)
	default:
		if _, err := ss.ec.ExecContext(ctx, p.sql, nil); err != nil {
			return result{}, err
		}
	}
	ss.be.Send(commandComplete(tag))
	return result{tag: tag}, nil
}
