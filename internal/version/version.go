// Package version is augur's version, as --version prints it and the
// User-Agent of downloads sends it.
package version

import (
	"runtime/debug"
	"strings"
)

// Version may be set by a build:
// -ldflags "-X github.com/augurdb/augur/internal/version.Version=v1.2.3".
// Otherwise String reads the module version from the build information
// (a `go install ...@version` build), else the commit the binary was
// built from (a build in a git checkout), else "dev".
var Version = ""

// String is the version: one word, such as "v1.2.3" or
// "dev-0123456789ab-modified".
func String() string {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(Version, bi)
}

// fromBuild is String for a given build (nil: no build information).
func fromBuild(set string, bi *debug.BuildInfo) string {
	if set != "" {
		return set
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	v := "dev-" + rev[:min(12, len(rev))]
	if modified == "true" {
		v += "-modified"
	}
	return strings.Map(func(r rune) rune { // one printable word, whatever the build wrote
		if r <= ' ' || r >= 0x7f {
			return '_'
		}
		return r
	}, v)
}
