// Package augur runs SQL with machine-learning models on embedded DuckDB.
//
//	db, err := augur.Open("shop.db")   // or sql.Open("augur", "shop.db")
//	db.Exec(`CREATE MODEL churn FLAVOR sklearn USING 'churn.pkl'`)
//	db.Query(`SELECT id, ML_PREDICT(churn, [age, visits]) FROM customers`)
//
// The DSN is a database file path (created when missing), optionally with
// DuckDB settings as ?key=value, or "" / ":memory:" for an in-memory
// database. Every connection of a process to one file shares one model
// catalog, which is stored in the file itself.
package augur

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/augurdb/augur/engine"
)

func init() { sql.Register("augur", Driver{}) }

// Driver is the database/sql driver registered as "augur".
type Driver struct{}

// Open implements driver.Driver; database/sql prefers OpenConnector.
func (d Driver) Open(dsn string) (driver.Conn, error) {
	e, err := engine.Open(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	c, err := e.Connect(context.Background())
	if err != nil {
		e.Close()
		return nil, err
	}
	c.CloseEngineWithConn()
	return c, nil
}

// OpenConnector implements driver.DriverContext.
func (Driver) OpenConnector(dsn string) (driver.Connector, error) {
	e, err := engine.Open(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	return &Connector{e: e}, nil
}

// Connector opens connections to one database; sql.DB closes it.
type Connector struct{ e *engine.Engine }

// Connect implements driver.Connector.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) { return c.e.Connect(ctx) }

// Driver implements driver.Connector.
func (c *Connector) Driver() driver.Driver { return Driver{} }

// Close releases the database when the last user of it closes.
func (c *Connector) Close() error { return c.e.Close() }

// Engine exposes the engine behind the connector.
func (c *Connector) Engine() *engine.Engine { return c.e }

// Open opens a database and checks that it is usable.
func Open(dsn string) (*sql.DB, error) {
	c, err := Driver{}.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
