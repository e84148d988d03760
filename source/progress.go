package source

import (
	"context"
	"io"
	"time"
)

// Progress hears how a download goes: done bytes so far, and finished
// once at the end (whether it worked or not). It is called at most a few
// times a second, from the downloading goroutine.
type Progress func(uri string, done int64, finished bool)

type progressKey struct{}

// WithProgress returns ctx with p hearing the downloads started under it
// (the shell draws a progress line from it).
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

func progressOf(ctx context.Context) Progress {
	p, _ := ctx.Value(progressKey{}).(Progress)
	return p
}

// progressReader counts the bytes read and reports them every
// progressEvery.
type progressReader struct {
	r    io.Reader
	uri  string
	p    Progress
	done int64
	last time.Time
}

const progressEvery = 200 * time.Millisecond

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.done += int64(n)
	if now := time.Now(); now.Sub(r.last) >= progressEvery {
		r.last = now
		r.p(r.uri, r.done, false)
	}
	return n, err
}
