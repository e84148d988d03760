package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/augurdb/augur/source" // the file scheme
)

// TestSpecLabelsUntrusted: labels from a spec's labels.uri reach query
// results without raw control characters, and a file that is no JSON
// list is described, not quoted.
func TestSpecLabelsUntrusted(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("labels.json", `["cat", "\u001b[2Jdog\u0007", "naïve"]`)
	labels, err := readLabels(context.Background(), "labels.json", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(labels, "|"); got != `cat|\x1b[2Jdog\a|naïve` {
		t.Errorf("labels %q", got)
	}
	write("secret.txt", "root:x:0:0:root:/root:/bin/bash\n")
	_, err = readLabels(context.Background(), "secret.txt", dir)
	if err == nil || strings.Contains(err.Error(), "root:x") || !strings.Contains(err.Error(), "a text file") {
		t.Errorf("a text file as labels: %v", err)
	}
}
