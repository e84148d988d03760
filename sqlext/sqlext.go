// Package sqlext is the registry of SQL-level extensions: functions and
// types that packages add to every DuckDB database augur opens (size(),
// image(), box2d(), ...). Each extension is a file that registers itself.
package sqlext

import (
	"context"
	"database/sql"

	"github.com/augurdb/augur/registry"
)

// Setup installs an extension on a freshly opened database. Scalar and
// table functions registered on conn are visible to every connection of
// the database. Macros must be TEMP-free (they are created per database).
type Setup func(ctx context.Context, conn *sql.Conn) error

// Extensions holds every extension by name.
var Extensions = registry.New[Setup]("SQL extension")
