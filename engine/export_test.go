package engine

import "github.com/augurdb/augur/catalog"

// PreciseLoaded reports whether the engine holds a precise handle
// (evaluate.go) for the model.
func PreciseLoaded(e *Engine, name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.precise[catalog.Key(name)] != nil
}
