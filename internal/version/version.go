// Package version is augur's version, as --version prints it and the
// User-Agent of downloads sends it.
package version

import "runtime/debug"

// Version may be set by a build:
// -ldflags "-X github.com/augurdb/augur/internal/version.Version=v1.2.3".
// Otherwise String reads the module version from the build information
// (a `go install ...@version` build), else "dev".
var Version = ""

// String is the version.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
