// AugurJDBC drives augur serve with the real PostgreSQL JDBC driver
// (pgjdbc), as a Java tool would: server/clients_test.go runs it as
//
//	java -cp /usr/share/java/postgresql.jar AugurJDBC.java URL CSV MODEL
//
// and compares what it prints, one fact a line, with what it must print.
// Any exception it does not expect ends it with status 1.

import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.time.OffsetDateTime;
import org.postgresql.PGStatement;

public class AugurJDBC {
    static void out(String s) {
        System.out.println(s);
    }

    static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    public static void main(String[] args) throws Exception {
        String url = args[0], csv = args[1], model = args[2];
        Properties props = new Properties();
        props.setProperty("user", "augur");
        props.setProperty("ApplicationName", "augur-jdbc-test");
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        try (Connection c = DriverManager.getConnection(url, props)) {
            DatabaseMetaData md = c.getMetaData();
            out("server " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
            setup(c, csv, model);
            predictById(c);
            predictByFeatures(c);
            countBySpecies(c);
            resultTypes(c);
            metadata(md);
            errors(c);
            transactions(c);
            batchAndFetch(c);
        }
        out("done");
    }

    static void setup(Connection c, String csv, String model) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE flowers AS SELECT * FROM read_csv(" + quote(csv) + ")");
            s.execute("CREATE MODEL iris FLAVOR sklearn MODEL_TYPE random_forest_classification RETURNS string USING " + quote(model));
            try (ResultSet rs = s.executeQuery("SHOW MODELS")) {
                while (rs.next()) {
                    out("model " + rs.getString("name"));
                }
            }
        }
    }

    // Seven executions: pgjdbc switches to a named server-side statement
    // (and binary results) from the fifth on.
    static void predictById(Connection c) throws SQLException {
        String q = "SELECT id, species, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS p FROM flowers WHERE id = ?";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            for (int id : new int[] {1, 51, 101, 2, 52, 102, 71}) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out("predict id=" + rs.getInt(1) + " species=" + rs.getString(2) + " p=" + rs.getString("p"));
                    }
                }
            }
            out("predict server-prepared=" + serverPrepared(ps));
        }
    }

    static void predictByFeatures(Connection c) throws SQLException {
        double[][] rows = {
            {5.1, 3.5, 1.4, 0.2}, {7.0, 3.2, 4.7, 1.4}, {6.7, 3.0, 5.2, 2.3},
            {5.0, 3.4, 1.5, 0.2}, {6.4, 3.2, 4.5, 1.5}, {6.3, 3.3, 6.0, 2.5},
        };
        try (PreparedStatement ps = c.prepareStatement("SELECT ML_PREDICT(iris, [?, ?, ?, ?])")) {
            for (double[] r : rows) {
                for (int i = 0; i < 4; i++) {
                    ps.setDouble(i + 1, r[i]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out("features " + r[0] + "," + r[1] + "," + r[2] + "," + r[3] + " p=" + rs.getString(1));
                }
            }
            out("features server-prepared=" + serverPrepared(ps));
        }
    }

    static void countBySpecies(Connection c) throws SQLException {
        String q = "SELECT count(*) AS n, sum(CASE WHEN ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) = species THEN 1 ELSE 0 END) AS ok FROM flowers WHERE species = ?";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            for (int i = 0; i < 6; i++) {
                String sp = new String[] {"setosa", "versicolor", "virginica"}[i % 3];
                ps.setString(1, sp);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (i >= 3) { // once server-prepared
                        out("count species=" + sp + " n=" + rs.getLong("n") + " ok=" + rs.getLong("ok"));
                    }
                }
            }
            out("count server-prepared=" + serverPrepared(ps));
        }
    }

    // serverPrepared reports whether pgjdbc runs ps as a named statement
    // of the server's (binary results for the types it knows), as it does
    // from the prepareThreshold'th (5th) execution on.
    static boolean serverPrepared(PreparedStatement ps) throws SQLException {
        return ps.unwrap(PGStatement.class).isUseServerPrepare();
    }

    static void resultTypes(Connection c) throws SQLException {
        String q = "SELECT 7::SMALLINT AS i2, 42 AS i4, 9000000000 AS i8, 1.5::REAL AS f4, 2.25::DOUBLE AS f8,"
            + " 12.34::DECIMAL(10,2) AS num, 'hi' AS txt, true AS b, DATE '2024-03-04' AS d,"
            + " TIMESTAMP '2024-03-04 05:06:07.5' AS ts, [1, 2, 3] AS arr, '\\xDE\\xAD'::BLOB AS bin,"
            + " '6ecd8c99-4036-403d-bf84-cf8400f67836'::UUID AS u, {'a': 1} AS st, [0.5, 1.5]::DOUBLE[] AS fa,"
            + " ['x', NULL]::VARCHAR[] AS ta, TIMESTAMPTZ '2024-03-04 05:06:07+00' AS tz, INTERVAL 90 MINUTE AS iv,"
            + " NULL::INTEGER AS nul";
        // Twice: the text results of a one-shot statement, then (after
        // prepareThreshold executions) the binary ones pgjdbc asks for.
        try (PreparedStatement ps = c.prepareStatement(q)) {
            for (int run = 0; run < 6; run++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (run != 0 && run != 5) {
                        continue;
                    }
                    ResultSetMetaData m = rs.getMetaData();
                    StringBuilder types = new StringBuilder("types");
                    StringBuilder values = new StringBuilder("values");
                    for (int i = 1; i <= m.getColumnCount(); i++) {
                        types.append(' ').append(m.getColumnLabel(i)).append(':').append(m.getColumnTypeName(i)).append('/').append(m.getColumnType(i));
                        values.append(' ').append(m.getColumnLabel(i)).append('=').append(show(rs, i));
                    }
                    out(types.toString());
                    out(values.toString());
                    out("types server-prepared=" + serverPrepared(ps));
                }
            }
        }
    }

    static String show(ResultSet rs, int i) throws SQLException {
        Object o = rs.getObject(i);
        if (o == null) {
            return "null";
        }
        if (rs.getMetaData().getColumnType(i) == java.sql.Types.TIMESTAMP && rs.getMetaData().getColumnTypeName(i).equals("timestamptz")) {
            return rs.getObject(i, OffsetDateTime.class) + ":OffsetDateTime";
        }
        if (o instanceof Array) {
            Object[] a = (Object[]) ((Array) o).getArray();
            StringBuilder b = new StringBuilder(o.getClass().getSimpleName().contains("Array") ? "Array[" : "[");
            for (int j = 0; j < a.length; j++) {
                b.append(j == 0 ? "" : ",").append(a[j]).append(':').append(a[j] == null ? "null" : a[j].getClass().getSimpleName());
            }
            return b.append(']').toString();
        }
        if (o instanceof byte[]) {
            StringBuilder b = new StringBuilder("bytes:");
            for (byte x : (byte[]) o) {
                b.append(String.format("%02x", x));
            }
            return b.toString();
        }
        if (o instanceof BigDecimal) {
            return ((BigDecimal) o).toPlainString() + ":BigDecimal";
        }
        return o + ":" + o.getClass().getSimpleName();
    }

    static void metadata(DatabaseMetaData md) throws SQLException {
        try (ResultSet rs = md.getTables(null, "main", "flow%", new String[] {"TABLE"})) {
            while (rs.next()) {
                out("table " + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE"));
            }
        }
        try (ResultSet rs = md.getColumns(null, "main", "flowers", "%")) {
            while (rs.next()) {
                out("column " + rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME")
                    + " " + rs.getInt("DATA_TYPE") + " nullable=" + rs.getString("IS_NULLABLE"));
            }
        }
    }

    static void errors(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            try {
                s.executeQuery("SELECT * FROM no_such_table");
                out("error missing");
            } catch (SQLException e) {
                out("error sqlstate=" + e.getSQLState());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ML_PREDICT(no_such_model, [?])")) {
                ps.setDouble(1, 1.0);
                ps.executeQuery();
                out("error missing");
            } catch (SQLException e) {
                out("error prepared sqlstate=" + e.getSQLState());
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM flowers")) {
                rs.next();
                out("after error count=" + rs.getLong(1));
            }
        }
    }

    // A batch of typed parameters (one Sync for all), then a result read
    // a few rows at a time (a portal suspended by Execute's row limit:
    // pgjdbc fetches so only inside a transaction).
    static void batchAndFetch(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE events(id INTEGER, day DATE, seen TIMESTAMP, amount DECIMAL(10,2), ok BOOLEAN)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO events VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 8; i++) {
                    ps.setInt(1, i);
                    ps.setDate(2, java.sql.Date.valueOf("2024-01-0" + i));
                    ps.setTimestamp(3, java.sql.Timestamp.valueOf("2024-01-01 10:00:0" + i + ".25"));
                    ps.setBigDecimal(4, new BigDecimal("1.25"));
                    ps.setBoolean(5, i % 2 == 0);
                    ps.addBatch();
                }
                out("batch " + java.util.Arrays.toString(ps.executeBatch()));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*), min(day), max(seen), sum(amount), count(*) FILTER (WHERE ok) FROM events")) {
                rs.next();
                out("batch rows=" + rs.getLong(1) + " min=" + rs.getDate(2) + " max=" + rs.getTimestamp(3) + " sum=" + rs.getBigDecimal(4) + " ok=" + rs.getLong(5));
            }
            c.setAutoCommit(false);
            s.setFetchSize(3);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT id FROM events ORDER BY id")) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            c.commit();
            c.setAutoCommit(true);
            out("fetched " + String.join(",", ids));
        }
    }

    static void transactions(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE notes(id INTEGER, body VARCHAR)");
            c.setAutoCommit(false);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO notes VALUES (?, ?)")) {
                ins.setInt(1, 1);
                ins.setString(2, "kept");
                out("insert count=" + ins.executeUpdate());
                c.commit();
                ins.setInt(1, 2);
                ins.setString(2, "rolled back");
                ins.executeUpdate();
                c.rollback();
                // An error aborts the transaction until rollback, as
                // PostgreSQL's does.
                ins.setInt(1, 3);
                ins.setString(2, "lost");
                ins.executeUpdate();
                try {
                    s.executeQuery("SELECT * FROM no_such_table");
                } catch (SQLException e) {
                    out("tx error sqlstate=" + e.getSQLState());
                }
                try {
                    s.executeQuery("SELECT 1");
                    out("tx after error: no error");
                } catch (SQLException e) {
                    out("tx after error sqlstate=" + e.getSQLState());
                }
                c.rollback();
            }
            c.setAutoCommit(true);
            List<String> got = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT id, body FROM notes ORDER BY id")) {
                while (rs.next()) {
                    got.add(rs.getInt(1) + "=" + rs.getString(2));
                }
            }
            out("notes " + String.join(",", got));
        }
    }
}
