package pgcompat

import (
	"reflect"
	"strings"
	"testing"
)

// The catalog queries of pgjdbc 42.x's PgDatabaseMetaData (getTables,
// getColumns, getSchemas) as it sends them to a PostgreSQL 15 server, with
// the patterns a client passes filled in.
const (
	jdbcGetTables = `SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0)  LEFT JOIN pg_catalog.pg_class dc ON (d.classoid=dc.oid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dn.oid=dc.relnamespace AND dn.nspname='pg_catalog')  WHERE c.relnamespace = n.oid  AND c.relname LIKE '%' AND (false  OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' )  OR ( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' ) )  ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME `

	jdbcGetColumns = `SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'main' AND c.relname LIKE 't') c WHERE true  ORDER BY nspname,c.relname,attnum `

	jdbcGetSchemas = `SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY TABLE_SCHEM`

	// TypeInfoCache.getPGType(oid) and getSQLType(oid) for OIDs it has
	// no entry for.
	jdbcTypeByOID = `SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = 1007`
	jdbcTypeInfo  = `SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE pg_type.oid = 114  ORDER BY sp.r, pg_type.oid DESC`
)

// The type lookups of pgx v5 (conn.go's LoadType and its helpers).
const (
	pgxTyptype = `select typtype::text, typbasetype from pg_type where oid=23`
	pgxElem    = `select typelem, typdelim::text from pg_type where oid=1007`
	pgxRelid   = `select typrelid from pg_type where oid=23`
)

func TestJDBCMetadata(t *testing.T) {
	conn := fixture(t)
	s := mapSession{}
	_, rows := mustRun(t, conn, s, jdbcGetTables)
	var got [][]string
	for _, r := range rows {
		got = append(got, r[1:4])
	}
	if want := [][]string{{"main", "t", "TABLE"}, {"main", "v", "VIEW"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("getTables: %v, want %v", got, want)
	}

	cols, rows := mustRun(t, conn, s, jdbcGetColumns)
	if cols[2] != "attname" || cols[3] != "atttypid" || cols[5] != "atttypmod" {
		t.Fatalf("getColumns columns: %v", cols)
	}
	got = nil
	for _, r := range rows {
		got = append(got, []string{r[2], r[3], r[4], r[5], r[8], r[10], r[13]})
	}
	want := [][]string{
		{"a", "23", "true", "-1", "1", "NULL", "b"},
		{"b", "20", "false", "-1", "2", "NULL", "b"},
		{"c", "701", "false", "-1", "3", "NULL", "b"},
		{"d", "25", "false", "-1", "4", "'x'", "b"},
		{"e", "1700", "false", "655366", "5", "NULL", "b"}, // (10<<16 | 2) + 4
		{"f", "1007", "false", "-1", "6", "NULL", "b"},
		{"g", "114", "false", "-1", "7", "NULL", "b"},
		{"h", "1114", "false", "-1", "8", "NULL", "b"},
		{"i", "16", "false", "-1", "9", "NULL", "b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("getColumns:\n got %v\nwant %v", got, want)
	}

	_, rows = mustRun(t, conn, s, jdbcGetSchemas)
	var schemas []string
	for _, r := range rows {
		schemas = append(schemas, r[0])
	}
	if strings.Join(schemas, ",") != "information_schema,main,pg_catalog" {
		t.Errorf("getSchemas: %v", schemas)
	}

	_, rows = mustRun(t, conn, s, jdbcTypeByOID)
	if len(rows) != 1 || rows[0][1] != "pg_catalog" || rows[0][2] != "_int4" {
		t.Errorf("type by OID: %v", rows)
	}
	_, rows = mustRun(t, conn, s, jdbcTypeInfo)
	if len(rows) != 1 || rows[0][0] != "false" || rows[0][2] != "json" || rows[0][3] != "114" {
		t.Errorf("type info: %v", rows)
	}
}

func TestPgxTypeLookups(t *testing.T) {
	conn := fixture(t)
	s := mapSession{}
	for q, want := range map[string][]string{
		pgxTyptype: {"b", "0"},
		pgxElem:    {"23", ","},
		pgxRelid:   {"0"},
	} {
		_, rows := mustRun(t, conn, s, q)
		if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
			t.Errorf("%s: %v, want %v", q, rows, want)
		}
	}
}

// TypeOID and the catalog's atttypid agree for every DuckDB type.
func TestTypeOID(t *testing.T) {
	for ty, want := range map[string]uint32{
		"INTEGER": 23, "BIGINT": 20, "DOUBLE": 701, "VARCHAR": 25, "DECIMAL(18,3)": 1700,
		"INTEGER[]": 1007, "VARCHAR[][]": 1009, "STRUCT(a INTEGER)": 114, "STRUCT(a INTEGER)[]": 199,
		"MAP(VARCHAR, INTEGER)": 114, "TIMESTAMP WITH TIME ZONE": 1184, "UUID": 2950, "BLOB": 17,
		"HUGEINT": 1700, "ENUM('a', 'b')": 25, "INTEGER[3]": 1007,
	} {
		if got := TypeOID(ty); got != want {
			t.Errorf("TypeOID(%q) = %d, want %d", ty, got, want)
		}
	}
}

// FuzzTranslate: no input makes Translate panic, and what passes through
// unchanged is returned as is.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SET x = ", "SET search_path TO", "SHOW", "BEGIN ISOLATION", "SELECT 'a' ~", "x::regclass",
		"SELECT version(", "OPERATOR(pg_catalog.", "COLLATE pg_catalog.", "SELECT current_setting(", "SELECT set_config('a', 'b'",
		"SELECT E'\\'' ~ E'x'", "SELECT format_type(1,", "FROM pg_type", "SELECT pg_get_expr(a, b, c", "SET TIME ZONE",
		"SELECT 'x'::regclass::text", "RESET", "SHOW ALL", "select * from generate_series(1, 2) s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		s := mapSession{}
		out, ans, err := Translate(q, s)
		if err == nil && ans == nil && out == "" && strings.TrimSpace(q) != "" {
			t.Errorf("Translate(%q) gave nothing to run and no answer", q)
		}
	})
}
