package pgcompat

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// PostgreSQL type OIDs augur's answers use.
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidTimetz      = 1266
	oidNumeric     = 1700
	oidUUID        = 2950
)

// pgType is one row of the pg_type that catalog queries see: PostgreSQL's
// own OIDs and names, for the types augur's results use.
type pgType struct {
	oid, array uint32
	name       string // typname
	format     string // format_type's name
	len        int    // typlen
	category   string // typcategory
	input      string // typinput's function
}

var pgTypes = []pgType{
	{oidBool, 1000, "bool", "boolean", 1, "B", "boolin"},
	{oidBytea, 1001, "bytea", "bytea", -1, "U", "byteain"},
	{18, 1002, "char", `"char"`, 1, "Z", "charin"},
	{19, 1003, "name", "name", 64, "S", "namein"},
	{oidInt8, 1016, "int8", "bigint", 8, "N", "int8in"},
	{oidInt2, 1005, "int2", "smallint", 2, "N", "int2in"},
	{oidInt4, 1007, "int4", "integer", 4, "N", "int4in"},
	{oidText, 1009, "text", "text", -1, "S", "textin"},
	{oidOID, 1028, "oid", "oid", 4, "N", "oidin"},
	{oidJSON, 199, "json", "json", -1, "U", "json_in"},
	{oidFloat4, 1021, "float4", "real", 4, "N", "float4in"},
	{oidFloat8, 1022, "float8", "double precision", 8, "N", "float8in"},
	{1042, 1014, "bpchar", "character", -1, "S", "bpcharin"},
	{oidVarchar, 1015, "varchar", "character varying", -1, "S", "varcharin"},
	{oidDate, 1182, "date", "date", 4, "D", "date_in"},
	{oidTime, 1183, "time", "time without time zone", 8, "D", "time_in"},
	{oidTimestamp, 1115, "timestamp", "timestamp without time zone", 8, "D", "timestamp_in"},
	{oidTimestamptz, 1185, "timestamptz", "timestamp with time zone", 8, "D", "timestamptz_in"},
	{oidInterval, 1187, "interval", "interval", 16, "T", "interval_in"},
	{oidTimetz, 1270, "timetz", "time with time zone", 12, "D", "timetz_in"},
	{oidNumeric, 1231, "numeric", "numeric", -1, "N", "numeric_in"},
	{oidUUID, 2951, "uuid", "uuid", 16, "U", "uuid_in"},
	{3802, 3807, "jsonb", "jsonb", -1, "U", "jsonb_in"},
	{705, 0, "unknown", "unknown", -2, "X", "unknownin"},
	{2278, 0, "void", "void", 4, "P", "void_in"},
	{2249, 0, "record", "record", -1, "P", "record_in"},
}

// duckTypeOIDs maps DuckDB's type names (their base, without arguments
// or [] suffixes) to PostgreSQL types, as augur sends them: integers
// that do not fit a wider signed type become numeric, nested types json.
var duckTypeOIDs = map[string]uint32{
	"BOOLEAN": oidBool, "TINYINT": oidInt2, "SMALLINT": oidInt2, "INTEGER": oidInt4,
	"BIGINT": oidInt8, "HUGEINT": oidNumeric, "UTINYINT": oidInt2, "USMALLINT": oidInt4,
	"UINTEGER": oidInt8, "UBIGINT": oidNumeric, "UHUGEINT": oidNumeric, "FLOAT": oidFloat4,
	"DOUBLE": oidFloat8, "DECIMAL": oidNumeric, "VARCHAR": oidText, "BLOB": oidBytea,
	"DATE": oidDate, "TIME": oidTime, "TIME WITH TIME ZONE": oidTimetz,
	"TIMESTAMP": oidTimestamp, "TIMESTAMP_S": oidTimestamp, "TIMESTAMP_MS": oidTimestamp,
	"TIMESTAMP_NS": oidTimestamp, "TIMESTAMP WITH TIME ZONE": oidTimestamptz,
	"INTERVAL": oidInterval, "UUID": oidUUID, "JSON": oidJSON, "STRUCT": oidJSON,
	"MAP": oidJSON, "UNION": oidJSON, "VARIANT": oidJSON,
}

var arraySuffix = regexp.MustCompile(`(\[\d*\])+$`)

// TypeOID is the PostgreSQL type OID for a DuckDB type as DuckDB spells
// it (duckdb_columns().data_type, DatabaseTypeName): INTEGER[] is int4[]
// (1007), STRUCT(...) and MAP(...) json, anything unknown text. The
// server may use it so that RowDescription agrees with the catalog.
func TypeOID(duckType string) uint32 {
	base := arraySuffix.ReplaceAllString(duckType, "")
	oid := baseOID(base)
	if base == duckType {
		return oid
	}
	for _, t := range pgTypes {
		if t.oid == oid {
			return t.array
		}
	}
	return 1009 // text[]
}

func baseOID(base string) uint32 {
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = base[:i]
	}
	if oid, ok := duckTypeOIDs[base]; ok {
		return oid
	}
	return oidText
}

// typeOIDSQL is TypeOID in SQL, over a column col holding DuckDB type
// names.
func typeOIDSQL(col string) string {
	base := fmt.Sprintf(`regexp_replace(%s, '(\[\d*\])+$', '')`, col)
	head := fmt.Sprintf(`regexp_replace(%s, '\(.*$', '')`, base)
	var b strings.Builder
	b.WriteString("(CASE ")
	names := make([]string, 0, len(duckTypeOIDs))
	for n := range duckTypeOIDs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, arr := range []bool{true, false} {
		for _, name := range names {
			oid := duckTypeOIDs[name]
			if arr {
				oid = arrayOf(oid)
				fmt.Fprintf(&b, "WHEN %s <> %s AND %s = %s THEN %d ", col, base, head, quoteLit(name), oid)
			} else {
				fmt.Fprintf(&b, "WHEN %s = %s THEN %d ", head, quoteLit(name), oid)
			}
		}
	}
	fmt.Fprintf(&b, "WHEN %s <> %s THEN 1009 ELSE %d END)", col, base, oidText)
	return b.String()
}

func arrayOf(oid uint32) uint32 {
	for _, t := range pgTypes {
		if t.oid == oid {
			return t.array
		}
	}
	return 1009
}

// typmodSQL is PostgreSQL's atttypmod for numeric(p,s), -1 for the rest.
func typmodSQL(dataType, precision, scale string) string {
	return fmt.Sprintf("(CASE WHEN %s LIKE 'DECIMAL(%%' THEN %s * 65536 + %s + 4 ELSE -1 END)", dataType, precision, scale)
}

// formatTypeSQL is PostgreSQL's format_type(oid, typmod) over the types
// of pgTypes; '???' for others, as PostgreSQL prints for an unknown OID.
func formatTypeSQL(oid, typmod string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(CASE (%s) ", oid)
	numeric := fmt.Sprintf(`CASE WHEN (%[1]s) >= 4 THEN 'numeric(' || (((%[1]s) - 4) // 65536) || ',' || (((%[1]s) - 4) %% 65536) || ')' ELSE 'numeric' END`, typmod)
	for _, t := range pgTypes {
		if t.oid == oidNumeric {
			fmt.Fprintf(&b, "WHEN %d THEN %s WHEN %d THEN (%s) || '[]' ", t.oid, numeric, t.array, numeric)
			continue
		}
		fmt.Fprintf(&b, "WHEN %d THEN %s ", t.oid, quoteLit(t.format))
		if t.array != 0 {
			fmt.Fprintf(&b, "WHEN %d THEN %s ", t.array, quoteLit(t.format+"[]"))
		}
	}
	b.WriteString("ELSE '???' END)")
	return b.String()
}

// pgTypeSQL is the pg_type that catalog queries see.
func pgTypeSQL() string {
	var b strings.Builder
	b.WriteString("(SELECT oid, typname, (SELECT oid FROM duckdb_schemas() WHERE database_name = 'system' AND schema_name = 'pg_catalog') AS typnamespace, 10::BIGINT AS typowner, typlen, typlen > 0 AND typlen <= 8 AS typbyval, typtype, typcategory, false AS typispreferred, true AS typisdefined, ',' AS typdelim, 0::BIGINT AS typrelid, typelem, typarray, typinput, typoutput, typreceive, typsend, '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze, 'i' AS typalign, 'p' AS typstorage, false AS typnotnull, 0::BIGINT AS typbasetype, -1 AS typtypmod, 0 AS typndims, 0::BIGINT AS typcollation, NULL::VARCHAR AS typdefaultbin, NULL::VARCHAR AS typdefault, NULL::VARCHAR[] AS typacl FROM (VALUES ")
	first := true
	row := func(oid uint32, name string, typlen int, typtype, cat string, elem, array uint32, in string) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		out := strings.TrimSuffix(strings.TrimSuffix(in, "in"), "_in")
		fmt.Fprintf(&b, "(%d::BIGINT, %s, %d, %s, %s, %d::BIGINT, %d::BIGINT, %s, %s, %s, %s)", oid, quoteLit(name), typlen, quoteLit(typtype), quoteLit(cat), elem, array,
			quoteLit(in), quoteLit(out+"out"), quoteLit(out+"recv"), quoteLit(out+"send"))
	}
	for _, t := range pgTypes {
		typtype := "b"
		if t.category == "P" {
			typtype = "p"
		}
		row(t.oid, t.name, t.len, typtype, t.category, 0, t.array, t.input)
		if t.array != 0 {
			row(t.array, "_"+t.name, -1, "b", "A", t.oid, 0, "array_in")
		}
	}
	b.WriteString(") AS v(oid, typname, typlen, typtype, typcategory, typelem, typarray, typinput, typoutput, typreceive, typsend))")
	return b.String()
}

// pgAttributeSQL is the pg_attribute that catalog queries see: DuckDB's
// columns with PostgreSQL's type OIDs and typmods.
func pgAttributeSQL() string {
	return "(SELECT table_oid AS attrelid, column_name AS attname, " + typeOIDSQL("data_type") + "::BIGINT AS atttypid, -1 AS attstattarget, -1 AS attlen, column_index AS attnum, CASE WHEN data_type LIKE '%]' THEN 1 ELSE 0 END AS attndims, -1 AS attcacheoff, " +
		typmodSQL("data_type", "numeric_precision", "numeric_scale") + " AS atttypmod, false AS attbyval, 'x' AS attalign, 'p' AS attstorage, NULL::VARCHAR AS attcompression, NOT is_nullable AS attnotnull, column_default IS NOT NULL AS atthasdef, false AS atthasmissing, '' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount, 0::BIGINT AS attcollation, NULL::VARCHAR[] AS attacl, NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions, NULL::VARCHAR AS attmissingval FROM duckdb_columns())"
}

// pgNamespaceSQL: the current database's schemas (public is main), with
// DuckDB's pg_catalog and information_schema so that psql's filters on
// them work, and the temporary schema as pg_temp_1.
const pgNamespaceSQL = "(SELECT oid, CASE WHEN database_name = 'temp' THEN 'pg_temp_1' ELSE schema_name END AS nspname, 10::BIGINT AS nspowner, NULL::VARCHAR[] AS nspacl FROM duckdb_schemas() WHERE database_name = current_database() OR database_name = 'temp' OR (database_name = 'system' AND schema_name IN ('pg_catalog', 'information_schema')))"

// pgDatabaseSQL: DuckDB's attached databases.
const pgDatabaseSQL = "(SELECT database_oid AS oid, database_name AS datname, 10::BIGINT AS datdba, 6 AS encoding, 'c' AS datlocprovider, false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, 0::BIGINT AS datfrozenxid, 0::BIGINT AS datminmxid, 0::BIGINT AS dattablespace, 'C' AS datcollate, 'C' AS datctype, NULL::VARCHAR AS daticulocale, NULL::VARCHAR AS datcollversion, NULL::VARCHAR[] AS datacl FROM duckdb_databases() WHERE NOT internal)"

// pgClassSQL adds to DuckDB's pg_class the columns psql 15 reads that it
// lacks.
const pgClassSQL = "(SELECT * REPLACE (10::BIGINT AS relowner, coalesce(relreplident, 'd') AS relreplident), false AS relforcerowsecurity FROM pg_catalog.pg_class)"

// visibleRelsSQL are the OIDs of the relations pg_table_is_visible
// accepts, as PostgreSQL's: those in a schema of the session's
// search_path (DuckDB's default, an empty search_path, is the current
// schema), in the temporary schema, and pg_catalog's. So psql's \dt and
// \d list main's tables and not augur's catalog schema _augur, which
// \dt _augur.* still lists. Unlike PostgreSQL, a relation hidden by a
// same-named one earlier in the path is still counted visible.
const visibleRelsSQL = "(SELECT c.oid FROM pg_catalog.pg_class c JOIN duckdb_schemas() s ON s.oid = c.relnamespace WHERE " +
	"(s.database_name = current_database() AND list_contains(CASE WHEN current_setting('search_path') = '' THEN [current_schema()] ELSE current_schemas(false) END, s.schema_name)) " +
	"OR s.database_name = 'temp' OR (s.database_name = 'system' AND s.schema_name = 'pg_catalog'))"

// pgRolesSQL is one role, the session's user.
func pgRolesSQL(user string) string {
	return "(SELECT 10::BIGINT AS oid, " + quoteLit(user) + " AS rolname, false AS rolsuper, true AS rolinherit, false AS rolcreaterole, false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword, NULL::TIMESTAMPTZ AS rolvaliduntil, false AS rolbypassrls, NULL::VARCHAR[] AS rolconfig)"
}

// emptyCatalogs are pg_catalog tables that DuckDB lacks and that have no
// rows in augur (row security, extended statistics, publications,
// inheritance, triggers, rules): psql's \d reads them for its footers.
var emptyCatalogs = map[string]string{
	"pg_policy":                "0::BIGINT AS oid, ''::VARCHAR AS polname, 0::BIGINT AS polrelid, ''::VARCHAR AS polcmd, true AS polpermissive, []::BIGINT[] AS polroles, NULL::VARCHAR AS polqual, NULL::VARCHAR AS polwithcheck",
	"pg_statistic_ext":         "0::BIGINT AS oid, 0::BIGINT AS stxrelid, ''::VARCHAR AS stxname, 0::BIGINT AS stxnamespace, 0::BIGINT AS stxowner, -1 AS stxstattarget, []::INTEGER[] AS stxkeys, []::VARCHAR[] AS stxkind, NULL::VARCHAR AS stxexprs",
	"pg_publication":           "0::BIGINT AS oid, ''::VARCHAR AS pubname, 0::BIGINT AS pubowner, false AS puballtables, false AS pubinsert, false AS pubupdate, false AS pubdelete, false AS pubtruncate, false AS pubviaroot",
	"pg_publication_rel":       "0::BIGINT AS oid, 0::BIGINT AS prpubid, 0::BIGINT AS prrelid, NULL::VARCHAR AS prqual, NULL::INTEGER[] AS prattrs",
	"pg_publication_namespace": "0::BIGINT AS oid, 0::BIGINT AS pnpubid, 0::BIGINT AS pnnspid",
	"pg_inherits":              "0::BIGINT AS inhrelid, 0::BIGINT AS inhparent, 0 AS inhseqno, false AS inhdetachpending",
	"pg_trigger":               "0::BIGINT AS oid, 0::BIGINT AS tgrelid, 0::BIGINT AS tgparentid, ''::VARCHAR AS tgname, 0::BIGINT AS tgfoid, 0 AS tgtype, 'O' AS tgenabled, false AS tgisinternal, 0::BIGINT AS tgconstrrelid, 0::BIGINT AS tgconstrindid, 0::BIGINT AS tgconstraint, false AS tgdeferrable, false AS tginitdeferred, 0 AS tgnargs",
	"pg_rewrite":               "0::BIGINT AS oid, ''::VARCHAR AS rulename, 0::BIGINT AS ev_class, '1' AS ev_type, 'O' AS ev_enabled, false AS is_instead",
	"pg_partitioned_table":     "0::BIGINT AS partrelid, 'r' AS partstrat, 0 AS partnatts, 0::BIGINT AS partdefid",
	"pg_foreign_table":         "0::BIGINT AS ftrelid, 0::BIGINT AS ftserver, NULL::VARCHAR[] AS ftoptions",
	"pg_auth_members":          "0::BIGINT AS oid, 0::BIGINT AS roleid, 0::BIGINT AS member, 0::BIGINT AS grantor, false AS admin_option",
}

func emptyCatalogSQL(cols string) string { return "(SELECT " + cols + " WHERE false)" }
