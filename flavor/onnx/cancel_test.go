package onnx_test

import (
	"context"
	"testing"
	"time"

	"github.com/augurdb/augur/internal/testserver"
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
	addr, closed := testserver.Silent(t)
	db := openDB(t)
	exec1(t, db, "CREATE MODEL digits MODEL_TYPE image_classifier USING "+sqlStr(fixture("digits.onnx")))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.QueryContext(ctx, "SELECT ML_PREDICT(digits, 'http://"+addr+"/x.png')")
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
