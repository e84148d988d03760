package server

import (
	"context"
	"testing"
)

func TestDbgRepeat(t *testing.T) {
	addr := startServer(t, Config{})
	queries := loadSetup(t, addr)
	c := connect(t, addr)
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := loadRun(ctx, c, queries[0].sql)
		cancel()
		t.Logf("run %d: %v", i, err)
	}
}
