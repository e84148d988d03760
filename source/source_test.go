package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileScheme(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.bin")
	os.WriteFile(p, []byte("x"), 0o644)
	ctx := context.Background()
	for _, uri := range []string{p, "m.bin", "file://" + p, "file:" + p, "./m.bin"} {
		art, err := Resolve(ctx, uri, dir)
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		if art.Location() != p {
			t.Errorf("%s resolved to %s", uri, art.Location())
		}
	}
	for uri, want := range map[string]string{
		"nope.bin":         "does not exist",
		"file://host/x":    "host",
		"ftp://x/y":        `unknown URI scheme "ftp"`,
		"":                 "names no model",
		"a\x00b":           "NUL",
		filepath.Join(dir): "",
	} {
		_, err := Resolve(ctx, uri, dir)
		if want == "" {
			continue // a directory is allowed (some formats are folders)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", uri, err, want)
		}
	}
	if SchemeOf(`C:\models\m.onnx`) != "" || SchemeOf("S3://b/k") != "s3" {
		t.Error("SchemeOf")
	}
}
