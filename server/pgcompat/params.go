package pgcompat

// ServerVersion is the PostgreSQL version augur claims: psql 15, pgx and
// JDBC choose their catalog queries by it, and those of 15 are the ones
// translated here.
const ServerVersion = "15.0 (augur)"

// StartupParams are the ParameterStatus values sent after authentication.
func StartupParams() map[string]string {
	return map[string]string{
		"server_version":              ServerVersion,
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"IntervalStyle":               "postgres",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"TimeZone":                    "UTC",
		"application_name":            "",
		"is_superuser":                "off",
		"session_authorization":       "augur",
	}
}
