// Command augur runs SQL with machine-learning models on embedded DuckDB.
//
//	augur [DATABASE] [flags]
//	augur serve [DATABASE] [flags]      the PostgreSQL protocol server
//	augur passwd FILE USER [--role R]   a users file entry for augur serve
//
// See package github.com/augurdb/augur/cli, or run augur --help.
package main

import (
	"os"

	"github.com/augurdb/augur/cli"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		// A database file named serve or passwd is opened as ./serve.
		switch args[0] {
		case "serve":
			os.Exit(cli.Serve(args[1:], os.Stdout, os.Stderr))
		case "passwd":
			os.Exit(cli.Passwd(args[1:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	os.Exit(cli.Main(args, os.Stdin, os.Stdout, os.Stderr))
}
