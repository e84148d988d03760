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
	"runtime"

	"github.com/augurdb/augur/cli"
	_ "github.com/augurdb/augur/internal/glibctune" // executes the command again with glibc tuned: see the package
)

// The main goroutine stays on the process's first thread, whose malloc
// arena is glibc's main heap: the one glibctune's huge pages back. The
// shell's statements, CREATE MODEL's loading included, run on it.
func init() { runtime.LockOSThread() }

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
