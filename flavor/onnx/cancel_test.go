package onnx_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/augurdb/augur/limits"
)

// TestCancelStopsImageRead: cancelling a query's context stops an
// ML_PREDICT that waits on an image server that never answers, and its
// read, long before any network timeout would.
func TestCancelStopsImageRead(t *testing.T) {
	requireORT(t)
	for _, l := range []*limits.Limit{limits.ConnectTimeout, limits.HeaderTimeout, limits.IdleTimeout} {
		defer l.Set(int64(10 * time.Minute))()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan struct{})
	go func() { // accept, read the request, say nothing until the client hangs up
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				close(closed)
				return
			}
		}
	}()
	db := openDB(t)
	exec1(t, db, "CREATE MODEL digits MODEL_TYPE image_classifier USING "+sqlStr(fixture("digits.onnx")))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = db.QueryContext(ctx, "SELECT ML_PREDICT(digits, 'http://"+ln.Addr().String()+"/x.png')")
	if err == nil {
		t.Fatal("a query on a silent server succeeded")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the cancelled query returned after %v: %v", d, err)
	}
	t.Logf("returned after %v: %v", time.Since(start), err)
	// The read itself stopped: the client hung up.
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the image read went on after the query was cancelled")
	}
}
