package server

import (
	"context"
	"testing"
)

func TestDeallocateTarget(t *testing.T) {
	for _, c := range []struct {
		sql    string
		target string
		ok     bool
	}{
		{"DEALLOCATE ALL", deallocateAll, true},
		{"deallocate prepare all;", deallocateAll, true},
		{"DEALLOCATE _pg3_0", "_pg3_0", true},
		{"DEALLOCATE PREPARE Stmt1", "stmt1", true},
		{`DEALLOCATE "Stmt ""1"""`, `Stmt "1"`, true},
		{`DEALLOCATE ""`, "", false},
		{"DEALLOCATE", "", false},
		{"DEALLOCATE a b", "", false},
		{"SELECT 1", "", false},
		{"PREPARE all AS SELECT 1", "", false},
	} {
		target, ok := deallocateTarget(c.sql)
		if target != c.target || ok != c.ok {
			t.Errorf("deallocateTarget(%q) = %q, %v; want %q, %v", c.sql, target, ok, c.target, c.ok)
		}
	}
}

// DEALLOCATE removes the protocol's named statements, as in PostgreSQL
// (psycopg sends DEALLOCATE ALL after a rollback), and SQL PREPARE's.
func TestDeallocate(t *testing.T) {
	pc := connect(t, startServer(t, Config{})).PgConn()
	ctx := context.Background()
	for _, name := range []string{"s1", "Mixed"} {
		if _, err := pc.Prepare(ctx, name, "SELECT 1", nil); err != nil {
			t.Fatalf("prepare %s: %v", name, err)
		}
	}
	exec := func(sql string) (string, error) {
		res, err := pc.Exec(ctx, sql).ReadAll()
		if err != nil {
			return "", err
		}
		return res[len(res)-1].CommandTag.String(), nil
	}
	if tag, err := exec(`DEALLOCATE "Mixed"`); err != nil || tag != "DEALLOCATE" {
		t.Fatalf(`DEALLOCATE "Mixed": %q, %v`, tag, err)
	}
	// Gone: the name may be prepared again.
	if _, err := pc.Prepare(ctx, "Mixed", "SELECT 2", nil); err != nil {
		t.Fatalf("prepare Mixed after DEALLOCATE: %v", err)
	}
	if tag, err := exec("DEALLOCATE ALL"); err != nil || tag != "DEALLOCATE ALL" {
		t.Fatalf("DEALLOCATE ALL: %q, %v", tag, err)
	}
	for _, name := range []string{"s1", "Mixed"} {
		err := pc.ExecPrepared(ctx, name, nil, nil, nil).Read().Err
		if got := sqlState(err); got != "26000" {
			t.Errorf("execute %s after DEALLOCATE ALL: %v (SQLSTATE %q), want 26000", name, err, got)
		}
	}
	// In the extended flow too.
	if _, err := pc.Prepare(ctx, "s2", "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	if res := pc.ExecParams(ctx, "DEALLOCATE PREPARE ALL", nil, nil, nil, nil).Read(); res.Err != nil || res.CommandTag.String() != "DEALLOCATE ALL" {
		t.Fatalf("extended DEALLOCATE PREPARE ALL: %q, %v", res.CommandTag, res.Err)
	}
	if err := pc.ExecPrepared(ctx, "s2", nil, nil, nil).Read().Err; sqlState(err) != "26000" {
		t.Errorf("execute s2 after extended DEALLOCATE ALL: %v, want 26000", err)
	}
	// A statement of SQL PREPARE is DuckDB's to deallocate.
	for _, q := range []string{"PREPARE q AS SELECT 42", "DEALLOCATE q"} {
		if _, err := exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := exec("EXECUTE q"); err == nil {
		t.Errorf("EXECUTE q after DEALLOCATE q succeeded")
	}
	if tag, err := exec("SELECT 1"); err != nil || tag != "SELECT 1" {
		t.Errorf("SELECT 1 after the DEALLOCATEs: %q, %v", tag, err)
	}
}
