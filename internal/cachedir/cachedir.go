// Package cachedir names augur's cache folder: $AUGUR_CACHE_DIR, else
// ~/.cache/augur. Everything in it can be rebuilt (bound PyTorch models,
// ONNX Runtime's optimized graphs), so removing it loses only time.
package cachedir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Env is the variable that moves the cache.
const Env = "AUGUR_CACHE_DIR"

// Dir is the cache's sub folder for one kind of entry, not yet created.
func Dir(sub string) (string, error) {
	if d := os.Getenv(Env); d != "" {
		return filepath.Join(d, sub), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder (set %s): %w", Env, err)
	}
	return filepath.Join(home, ".cache", "augur", sub), nil
}
