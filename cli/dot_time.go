package cli

import (
	"fmt"
	"time"
)

// runTime is when a statement started: the wall clock and the process's
// CPU times, for .timer.
type runTime struct {
	wall      time.Time
	user, sys time.Duration
}

func now() runTime {
	u, s := cpuTimes()
	return runTime{wall: time.Now(), user: u, sys: s}
}

// since is DuckDB's (and SQLite's) .timer line for what ran since t.
func (t runTime) since() string {
	n := now()
	return fmt.Sprintf("Run Time (s): real %.3f user %f sys %f",
		n.wall.Sub(t.wall).Seconds(), (n.user - t.user).Seconds(), (n.sys - t.sys).Seconds())
}
