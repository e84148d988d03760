package functions_test

import (
	"context"
	"testing"
	"time"

	"github.com/augurdb/augur/internal/testserver"
	"github.com/augurdb/augur/limits"
)

// TestCropCancel: cancelling a query stops crop's read of an image from
// a server that never answers, and the read itself ends.
func TestCropCancel(t *testing.T) {
	for _, l := range []*limits.Limit{limits.ConnectTimeout, limits.HeaderTimeout, limits.IdleTimeout} {
		defer l.Set(int64(10 * time.Minute))()
	}
	addr, closed := testserver.Silent(t)
	db := openDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := db.QueryContext(ctx, "SELECT crop(image('http://"+addr+"/x.png'), box2d(0, 0, 1, 1))")
	if err == nil {
		t.Fatal("crop of a silent server's image succeeded")
	}
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("crop's read went on after the query was cancelled")
	}
}
