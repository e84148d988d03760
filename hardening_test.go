package augur_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

// TestInternalNamesHidden: DuckDB's errors about a rewritten ML_PREDICT
// name the call as the user wrote it, never augur's internal function.
func TestInternalNamesHidden(t *testing.T) {
	db := open(t, "")
	mustExec(t, db, `CREATE MODEL summer FLAVOR test MODEL_TYPE sum`)
	mustExec(t, db, `CREATE MODEL "Other" FLAVOR test MODEL_TYPE sum`)
	mustExec(t, db, `CREATE TABLE t AS SELECT 1 AS a, 2 AS b`)
	for _, c := range []struct{ q, want string }{
		{`SELECT ML_PREDICT(summer, a, b) OVER () FROM t`, "ML_PREDICT(summer, ...) is not an aggregate function"},
		{`SELECT ml_predict('summer', a) OVER (PARTITION BY b) FROM t`, "ML_PREDICT(summer, ...)"},
		{`SELECT ML_PREDICT(summer, a) OVER (), ML_PREDICT(Other, a) OVER () FROM t`, "ML_PREDICT is not an aggregate function"},
		{`SELECT ML_PREDICT(summer, a) - DATE '2020-01-01' FROM t`, "No function matches"},
	} {
		_, err := db.Exec(c.q)
		if err == nil {
			t.Errorf("%s: no error", c.q)
			continue
		}
		if strings.Contains(err.Error(), "__augur") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant it to contain %q and no internal name", c.q, err, c.want)
		}
		// A prepared statement fails the same way.
		if _, err := db.Prepare(c.q); err != nil && strings.Contains(err.Error(), "__augur") {
			t.Errorf("prepare %s: %v", c.q, err)
		}
	}
}

// TestHelperHoldDatabase is not a test: TestLockedDatabase runs the test
// binary as a second process that opens a database and holds it until
// its standard input closes.
func TestHelperHoldDatabase(t *testing.T) {
	dsn := os.Getenv("AUGUR_TEST_HOLD_DB")
	if dsn == "" {
		t.Skip("helper process only")
	}
	db, err := augur.Open(dsn)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	db.Close()
	os.Exit(0)
}

// hold starts a process that holds dsn open, and returns its PID and a
// function that ends it.
func hold(t *testing.T, dsn string) (int, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldDatabase$")
	cmd.Env = append(os.Environ(), "AUGUR_TEST_HOLD_DB="+dsn)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		cmd.Wait()
		t.Fatalf("helper process: %q", line)
	}
	return cmd.Process.Pid, func() { in.Close(); cmd.Wait() }
}

// TestLockedDatabase: a database file held by another process gets a
// message that names that process and says how processes share a file;
// read-only opens share it.
func TestLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := open(t, path)
	mustExec(t, db, `CREATE TABLE x AS SELECT 42 AS v`)
	db.Close()

	pid, stop := hold(t, path)
	_, err := openPing(path)
	stop()
	if err == nil {
		t.Fatal("a second writer opened a locked database")
	}
	for _, want := range []string{fmt.Sprintf("process %d", pid), "augur -readonly", "access_mode=READ_ONLY", "augur serve"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error lacks %q: %v", want, err)
		}
	}

	// Any number of read-only processes share it.
	ro := path + "?access_mode=READ_ONLY"
	_, stop1 := hold(t, ro)
	_, stop2 := hold(t, ro)
	defer stop1()
	defer stop2()
	rdb, err := openPing(ro)
	if err != nil {
		t.Fatalf("read-only beside two read-only processes: %v", err)
	}
	defer rdb.Close()
	var v int
	if err := rdb.QueryRow(`SELECT v FROM x`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("read: %d %v", v, err)
	}
}

func openPing(dsn string) (*sql.DB, error) {
	db, err := augur.Open(dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
