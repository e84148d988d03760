package server

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run real PostgreSQL drivers against the server on loopback,
// each through a committed program that does what a tool built on that
// driver does (connect, create a model, predict with parameters, read
// result types and table metadata, recover from errors, use
// transactions) and prints one fact a line; the test compares the lines
// with what they must be. scripts/test.sh installs the drivers
// (libpostgresql-jdbc-java, python3-psycopg) when missing; without them
// the tests skip.

// pgjdbcJar is where Debian's libpostgresql-jdbc-java puts pgjdbc.
const pgjdbcJar = "/usr/share/java/postgresql.jar"

// irisFixtures returns the absolute paths of the iris data and forest.
func irisFixtures(t *testing.T) (csv, model string) {
	t.Helper()
	csv, err := filepath.Abs("../examples/data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	model, err = filepath.Abs("../examples/models/iris_forest.pkl")
	if err != nil {
		t.Fatal(err)
	}
	return csv, model
}

// runClient runs a client program and returns its standard output; a
// failure (exit status, time out) fails the test with both outputs.
func runClient(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// No PG* variable of the caller's may change what the client does.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "PGOPTIONS=", "PGTZ=", "PGSSLMODE=disable", "HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s\nstdout:\n%s", name, err, errb.String(), out.String())
	}
	return out.String()
}

// compareLines fails the test at the first line of got that differs from
// want, showing both in full.
func compareLines(t *testing.T, client, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s line %d:\n got  %q\n want %q", client, i+1, gl, wl)
			break
		}
	}
	t.Errorf("%s printed:\n%s\nwant:\n%s", client, got, want)
}

// TestJDBC runs pgjdbc (Debian's libpostgresql-jdbc-java, 42.5) through
// testdata/jdbc/AugurJDBC.java. Each prepared statement runs at least six
// times, so that pgjdbc switches to a named server statement with binary
// results (prepareThreshold is 5) and both flows are checked.
func TestJDBC(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed: the JDBC test needs Java 11 or newer and pgjdbc (apt-get install default-jre-headless libpostgresql-jdbc-java)")
	}
	if _, err := os.Stat(pgjdbcJar); err != nil {
		t.Skipf("pgjdbc is not installed (%s missing): apt-get install libpostgresql-jdbc-java (scripts/test.sh does it)", pgjdbcJar)
	}
	csv, model := irisFixtures(t)
	addr := startServer(t, Config{})
	url := "jdbc:postgresql://" + addr + "/db?sslmode=disable"
	// C1 compilation only and the serial collector: the program is short,
	// and starting the JVM is most of its time.
	out := runClient(t, nil, java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-cp", pgjdbcJar, "testdata/jdbc/AugurJDBC.java", url, csv, model)
	compareLines(t, "AugurJDBC", out, wantJDBC)
}

// What AugurJDBC prints: pgjdbc's view of PostgreSQL 15 (type names and
// java.sql.Types codes as it reports them for PostgreSQL's own types),
// the forest's predictions (sklearn's: id 71, a versicolor, is predicted
// virginica), PostgreSQL's SQLSTATEs, and the same values whether pgjdbc
// asked for text or binary results.
const jdbcTypes = "types i2:int2/5 i4:int4/4 i8:int8/-5 f4:float4/7 f8:float8/8 num:numeric/2 txt:text/12 b:bool/-7 d:date/91 ts:timestamp/93 arr:_int4/2003 bin:bytea/-2 u:uuid/1111 st:json/1111 fa:_float8/2003 ta:_text/2003 tz:timestamptz/93 iv:interval/1111 nul:int4/4\n" +
	"values i2=7:Integer i4=42:Integer i8=9000000000:Long f4=1.5:Float f8=2.25:Double num=12.34:BigDecimal txt=hi:String b=true:Boolean d=2024-03-04:Date ts=2024-03-04 05:06:07.5:Timestamp arr=Array[1:Integer,2:Integer,3:Integer] bin=bytes:dead u=6ecd8c99-4036-403d-bf84-cf8400f67836:UUID st={\"a\":1}:PGobject fa=Array[0.5:Double,1.5:Double] ta=Array[x:String,null:null] tz=2024-03-04T05:06:07Z:OffsetDateTime iv=0 years 0 mons 0 days 1 hours 30 mins 0.0 secs:PGInterval nul=null\n"

const wantJDBC = `server PostgreSQL 15
model iris
predict id=1 species=setosa p=setosa
predict id=51 species=versicolor p=versicolor
predict id=101 species=virginica p=virginica
predict id=2 species=setosa p=setosa
predict id=52 species=versicolor p=versicolor
predict id=102 species=virginica p=virginica
predict id=71 species=versicolor p=virginica
predict server-prepared=true
features 5.1,3.5,1.4,0.2 p=setosa
features 7.0,3.2,4.7,1.4 p=versicolor
features 6.7,3.0,5.2,2.3 p=virginica
features 5.0,3.4,1.5,0.2 p=setosa
features 6.4,3.2,4.5,1.5 p=versicolor
features 6.3,3.3,6.0,2.5 p=virginica
features server-prepared=true
count species=setosa n=50 ok=50
count species=versicolor n=50 ok=47
count species=virginica n=50 ok=50
count server-prepared=true
` + jdbcTypes + `types server-prepared=false
` + jdbcTypes + `types server-prepared=true
table main.flowers TABLE
column 1 id int8 -5 nullable=YES
column 2 sepal_length float8 8 nullable=YES
column 3 sepal_width float8 8 nullable=YES
column 4 petal_length float8 8 nullable=YES
column 5 petal_width float8 8 nullable=YES
column 6 species text 12 nullable=YES
error sqlstate=42P01
error prepared sqlstate=42704
after error count=150
insert count=1
tx error sqlstate=42P01
tx after error sqlstate=25P02
notes 1=kept
batch [1, 1, 1, 1, 1, 1, 1, 1]
batch rows=8 min=2024-01-01 max=2024-01-01 10:00:08.25 sum=10.00 ok=4
fetched 1,2,3,4,5,6,7,8
done
`

// TestPsycopg runs psycopg 3 (Debian's python3-psycopg, 3.1) through
// testdata/psycopg/augur_psycopg.py: server-side parameters in unnamed
// and prepared statements, text and binary results.
func TestPsycopg(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is not installed: the psycopg test needs it and python3-psycopg", python)
	}
	if err := exec.Command(python, "-c", "import psycopg").Run(); err != nil {
		t.Skip("psycopg 3 is not installed: apt-get install python3-psycopg (scripts/test.sh does it)")
	}
	csv, model := irisFixtures(t)
	host, port, err := net.SplitHostPort(startServer(t, Config{}))
	if err != nil {
		t.Fatal(err)
	}
	conninfo := "host=" + host + " port=" + port + " user=augur dbname=augur sslmode=disable"
	out := runClient(t, []string{"PYTHONDONTWRITEBYTECODE=1"}, python, "testdata/psycopg/augur_psycopg.py", conninfo, csv, model)
	compareLines(t, "augur_psycopg.py", out, wantPsycopg)
}

// What augur_psycopg.py prints: psycopg's Python types for PostgreSQL's
// OIDs (json decoded to dict, numeric to Decimal: DuckDB's sum of
// integers is a HUGEINT, sent as numeric), the same in text and binary,
// and no "error ignored" log line (psycopg's DEALLOCATE ALL after a
// rollback works).
const psycopgValues = " i2=7:int i4=42:int i8=9000000000:int f4=1.5:float f8=2.25:float num=12.34:Decimal txt=hi:str b=True:bool d=2024-03-04:date ts=2024-03-04 05:06:07.500000:datetime tz=2024-03-04 05:06:07+00:00:datetime iv=1:30:00:timedelta arr=[1:int,2:int,3:int] ta=[x:str,None:NoneType] bin=dead:bytes u=6ecd8c99-4036-403d-bf84-cf8400f67836:UUID st={'a': 1}:dict nul=None:NoneType\n"

const psycopgTypes = " i2:21 i4:23 i8:20 f4:700 f8:701 num:1700 txt:25 b:16 d:1082 ts:1114 tz:1184 iv:1186 arr:1007 ta:1009 bin:17 u:2950 st:114 nul:23\n"

const wantPsycopg = `server_version 15
create model status=CREATE MODEL
model iris
predict default 1 setosa setosa
predict default 51 versicolor versicolor
predict prepared 101 virginica virginica
predict prepared 71 versicolor virginica
predict binary 2 setosa setosa
predict binary 52 versicolor versicolor
predict binary 102 virginica virginica
features binary=False virginica
features binary=True virginica
count species=setosa n=50:int ok=50:Decimal
count species=versicolor n=50:int ok=47:Decimal
count species=virginica n=50:int ok=50:Decimal
types binary=False` + psycopgTypes + `values binary=False` + psycopgValues +
	`types binary=True` + psycopgTypes + `values binary=True` + psycopgValues +
	`error sqlstate=42P01 class=UndefinedTable
error params sqlstate=42704 class=UndefinedObject
after error count=150
prepared again 1 1
tx error sqlstate=42P01 status=INERROR
tx after error sqlstate=25P02
notes 1=kept,4=committed
done
`
