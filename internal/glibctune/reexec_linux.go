package glibctune

import (
	"os"
	"syscall"
)

// The command imports this package for this init, which runs before
// the packages that take most of a start's time (cloud SDKs, protobuf
// registries, DuckDB): executing again then costs a few milliseconds.
func init() { reexec() }

// reexec executes the running binary again with GLIBC_TUNABLES set to
// Tunables, unless the variable is already in the environment. It
// returns only when it did not execute (the variable was there, or the
// binary could not be found or executed), and the process then goes on
// with glibc's defaults.
func reexec() {
	if _, ok := os.LookupEnv("GLIBC_TUNABLES"); ok {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "GLIBC_TUNABLES="+Tunables)
	_ = syscall.Exec(exe, os.Args, env) // returns only on failure
}
