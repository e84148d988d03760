package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/source"
)

// progressAfter is how long a download runs before its progress line
// shows: short ones never draw it.
const progressAfter = 2 * time.Second

// downloadProgress draws one line on a terminal for a model download
// that takes more than progressAfter: the URI, the megabytes so far and
// the rate; the line is cleared when the download ends.
func downloadProgress(w io.Writer, after time.Duration) source.Progress {
	var (
		mu    sync.Mutex
		start = map[string]time.Time{}
		drawn bool
	)
	return func(uri string, done int64, finished bool) {
		mu.Lock()
		defer mu.Unlock()
		t0, ok := start[uri]
		if !ok {
			t0 = time.Now()
			start[uri] = t0
		}
		if finished {
			delete(start, uri)
			if drawn {
				fmt.Fprint(w, "\r\x1b[K")
				drawn = false
			}
			return
		}
		elapsed := time.Since(t0)
		if elapsed < after {
			return
		}
		mb := float64(done) / 1e6
		fmt.Fprintf(w, "\r\x1b[Kdownloading %s: %.1f MB (%.1f MB/s)", untrusted.Clean(uri), mb, mb/elapsed.Seconds())
		drawn = true
	}
}
