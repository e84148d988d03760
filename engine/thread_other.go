//go:build !linux

package engine

// threadPriorities is false where threads' priorities cannot be set one
// by one: the spin guard then does nothing.
const threadPriorities = false

func threadID() int { return 0 }

func lowestPriority(int) error { return nil }

func schedPolicy(int) (int, error) { return 0, nil }
