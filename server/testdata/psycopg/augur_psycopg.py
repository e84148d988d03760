"""Drive augur serve with the real psycopg 3, as a Python tool would.

server/clients_test.go runs it as

    /usr/bin/python3 augur_psycopg.py CONNINFO CSV MODEL

and compares what it prints, one fact a line, with what it must print.
An exception it does not expect ends it with status 1.
"""

import datetime
import logging
import sys

import psycopg

# psycopg logs, not raises, the errors of what it sends on its own (the
# DEALLOCATE ALL after a rollback): print them, so that the test sees them.
logging.basicConfig(stream=sys.stdout, format="psycopg log: %(levelname)s %(message)s")

conninfo, csv_path, model_path = sys.argv[1:4]
FEATURES = "[sepal_length, sepal_width, petal_length, petal_width]"


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def show(v):
    """A value and its Python type, lists element by element."""
    if isinstance(v, list):
        return "[" + ",".join(show(x) for x in v) + "]"
    return "%s:%s" % (v, type(v).__name__)


def setup(conn):
    conn.execute("CREATE TABLE flowers AS SELECT * FROM read_csv(%s)" % quote(csv_path))
    cur = conn.execute(
        "CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING %s"
        % quote(model_path)
    )
    print("create model status=%s" % cur.statusmessage)
    for row in conn.execute("SHOW MODELS"):
        print("model", row[0])


def predict(conn):
    q = "SELECT id, species, ML_PREDICT(iris, %s) FROM flowers WHERE id = %%s" % FEATURES
    # Server-side parameters: an unnamed statement each time, then
    # prepare=True's named one, then binary results.
    for id_ in (1, 51):
        print("predict default", *conn.execute(q, (id_,)).fetchone())
    for id_ in (101, 71):
        print("predict prepared", *conn.execute(q, (id_,), prepare=True).fetchone())
    with conn.cursor(binary=True) as cur:
        for id_ in (2, 52, 102):
            print("predict binary", *cur.execute(q, (id_,)).fetchone())
    # Features as float parameters, text and binary.
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute("SELECT ML_PREDICT(iris, [%s, %s, %s, %s])", (6.7, 3.0, 5.2, 2.3))
            print("features binary=%s" % binary, cur.fetchone()[0])
    # A string parameter, prepared.
    q = "SELECT count(*), sum(CASE WHEN ML_PREDICT(iris, %s) = species THEN 1 ELSE 0 END) FROM flowers WHERE species = %%s" % FEATURES
    for sp in ("setosa", "versicolor", "virginica"):
        n, ok = conn.execute(q, (sp,), prepare=True).fetchone()
        print("count species=%s n=%s ok=%s" % (sp, show(n), show(ok)))


TYPES = (
    "SELECT 7::SMALLINT AS i2, 42 AS i4, 9000000000 AS i8, 1.5::REAL AS f4, 2.25::DOUBLE AS f8,"
    " 12.34::DECIMAL(10,2) AS num, 'hi' AS txt, true AS b, DATE '2024-03-04' AS d,"
    " TIMESTAMP '2024-03-04 05:06:07.5' AS ts, TIMESTAMPTZ '2024-03-04 05:06:07+00' AS tz,"
    " INTERVAL 90 MINUTE AS iv, [1, 2, 3] AS arr, ['x', NULL]::VARCHAR[] AS ta, '\\xDE\\xAD'::BLOB AS bin,"
    " '6ecd8c99-4036-403d-bf84-cf8400f67836'::UUID AS u, {'a': 1} AS st, NULL::INTEGER AS nul"
)


def types(conn):
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute(TYPES)
            row = cur.fetchone()
            print("types binary=%s" % binary, " ".join("%s:%s" % (d.name, d.type_code) for d in cur.description))
            vals = []
            for d, v in zip(cur.description, row):
                if d.name == "tz":
                    # The instant, whatever the server's TimeZone.
                    v = v.astimezone(datetime.timezone.utc)
                if d.name == "bin":
                    vals.append("%s=%s:%s" % (d.name, v.hex(), type(v).__name__))
                    continue
                vals.append("%s=%s" % (d.name, show(v)))
            print("values binary=%s" % binary, " ".join(vals))


def errors(conn):
    try:
        conn.execute("SELECT * FROM no_such_table")
        print("error missing")
    except psycopg.Error as e:
        print("error sqlstate=%s class=%s" % (e.sqlstate, type(e).__name__))
    try:
        conn.execute("SELECT ML_PREDICT(no_such_model, [%s])", (1.0,))
        print("error missing")
    except psycopg.Error as e:
        print("error params sqlstate=%s class=%s" % (e.sqlstate, type(e).__name__))
    print("after error count=%s" % conn.execute("SELECT count(*) FROM flowers").fetchone()[0])


def transactions(conn):
    conn.execute("CREATE TABLE notes(id INTEGER, body VARCHAR)")
    conn.autocommit = False
    with conn.transaction():
        conn.execute("INSERT INTO notes VALUES (%s, %s)", (1, "kept"))
    try:
        with conn.transaction():
            conn.execute("INSERT INTO notes VALUES (%s, %s)", (2, "rolled back"))
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    conn.commit()
    # The rollback made psycopg forget (DEALLOCATE ALL) its prepared
    # statements: they are prepared again.
    q = "SELECT count(*) FROM notes WHERE id >= %s"
    print("prepared again", *(conn.execute(q, (0,), prepare=True).fetchone()[0] for _ in range(2)))
    conn.execute("INSERT INTO notes VALUES (%s, %s)", (3, "lost"))
    try:
        conn.execute("SELECT * FROM no_such_table")
    except psycopg.Error as e:
        print("tx error sqlstate=%s status=%s" % (e.sqlstate, conn.info.transaction_status.name))
    try:
        conn.execute("SELECT 1")
        print("tx after error: no error")
    except psycopg.Error as e:
        print("tx after error sqlstate=%s" % e.sqlstate)
    conn.rollback()
    conn.execute("INSERT INTO notes VALUES (%s, %s)", (4, "committed"))
    conn.commit()
    conn.autocommit = True
    rows = conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
    print("notes", ",".join("%s=%s" % r for r in rows))


def main():
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        print("server_version", conn.info.server_version // 10000)
        setup(conn)
        predict(conn)
        types(conn)
        errors(conn)
        transactions(conn)
    print("done")


main()
