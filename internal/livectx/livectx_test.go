package livectx

import (
	"context"
	"testing"
)

type name string

func TestHolderStandsForTheCurrentExecution(t *testing.T) {
	var h Holder
	if h.Err() != nil || h.Done() != nil {
		t.Fatal("before the first execution the holder must behave as context.Background()")
	}
	first, cancel := context.WithCancel(context.WithValue(context.Background(), name("k"), "first"))
	cached := h.Enter(first) // what duckdb-go keeps in the bind data
	cancel()
	if cached.Err() == nil {
		t.Fatal("while the first execution is current, its cancellation must show")
	}
	second := context.WithValue(context.Background(), name("k"), "second")
	h.Enter(second)
	if cached.Err() != nil || cached.Value(name("k")) != "second" {
		t.Fatalf("the cached context gave err %v, value %v; want the second execution's", cached.Err(), cached.Value(name("k")))
	}
}
