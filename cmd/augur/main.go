// Command augur runs SQL with machine-learning models on embedded DuckDB.
//
//	augur [DATABASE] [flags]
//
// See package github.com/augurdb/augur/cli, or run augur --help.
package main

import (
	"os"

	"github.com/augurdb/augur/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
