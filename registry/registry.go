// Package registry is the one kind of global state augur allows: named
// implementations that register themselves from init functions (URI
// schemes, flavors, model types), so that adding one is adding a file.
package registry

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry maps case-insensitive names to implementations of one kind.
type Registry[T any] struct {
	kind string // "flavor", "URI scheme", ... for error messages
	mu   sync.RWMutex
	m    map[string]T
}

// New returns an empty registry; kind names what it holds in errors.
func New[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, m: map[string]T{}}
}

// Register adds an implementation. Registering a name twice is a
// programming error and panics, at init time.
func (r *Registry[T]) Register(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := strings.ToLower(name)
	if _, dup := r.m[key]; dup {
		panic(fmt.Sprintf("augur: %s %q registered twice", r.kind, name))
	}
	r.m[key] = v
}

// Lookup finds an implementation; the error lists the known names.
func (r *Registry[T]) Lookup(name string) (T, error) {
	r.mu.RLock()
	v, ok := r.m[strings.ToLower(name)]
	r.mu.RUnlock()
	if !ok {
		var zero T
		return zero, fmt.Errorf("unknown %s %q; known: %s", r.kind, name, strings.Join(r.Names(), ", "))
	}
	return v, nil
}

// Has reports whether name is registered.
func (r *Registry[T]) Has(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.m[strings.ToLower(name)]
	return ok
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
