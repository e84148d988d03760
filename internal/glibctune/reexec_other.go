//go:build !linux

package glibctune

// Reexec does nothing where there is no glibc.
func Reexec() {}
