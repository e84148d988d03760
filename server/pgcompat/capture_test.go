package pgcompat

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"

	"github.com/augurdb/augur"
)

// TestCapturePsql prints what psql sends for each backslash command in
// $PGCOMPAT_CAPTURE (a development aid, not a check).
func TestCapturePsql(t *testing.T) {
	cmds := os.Getenv("PGCOMPAT_CAPTURE")
	if cmds == "" {
		t.Skip("set PGCOMPAT_CAPTURE to a psql command to print its queries")
	}
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Exec(`create table t(a int, b varchar)`)
	m := startMini(t, db)
	out, err := exec.Command("/usr/bin/psql", "-X", "-c", cmds, fmt.Sprintf("host=127.0.0.1 port=%d sslmode=disable user=u dbname=d", m.ln.Addr().(*net.TCPAddr).Port)).CombinedOutput()
	fmt.Printf("%s\nerr=%v\n", out, err)
	for _, q := range m.queries() {
		fmt.Printf("-----\n%s\n", q)
	}
}
