package source

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootsFixture is a root (reached through a link, as /models -> /srv/models
// would be), a second root, and a folder outside both.
func rootsFixture(t *testing.T) (root, linkedRoot, root2, out string) {
	t.Helper()
	base := t.TempDir()
	root, root2, out = filepath.Join(base, "srv", "models"), filepath.Join(base, "more"), filepath.Join(base, "private")
	for _, d := range []string{root, root2, out, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, text := range map[string]string{
		filepath.Join(root, "m.onnx"):        "inside",
		filepath.Join(root, "sub", "s.onnx"): "sub",
		filepath.Join(root2, "two.onnx"):     "second",
		filepath.Join(out, "secret.onnx"):    "secret",
	} {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	linkedRoot = filepath.Join(base, "models")
	must(t, os.Symlink(root, linkedRoot))
	must(t, os.Symlink(filepath.Join(out, "secret.onnx"), filepath.Join(root, "out.onnx")))
	must(t, os.Symlink(out, filepath.Join(root, "outdir")))
	must(t, os.Symlink(filepath.Join(root, "m.onnx"), filepath.Join(root, "in.onnx")))
	return root, linkedRoot, root2, out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, ctx context.Context, uri, base string) (string, error) {
	t.Helper()
	art, err := Resolve(ctx, uri, base)
	if err != nil {
		return "", err
	}
	rc, err := art.Open(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return string(data), err
}

func TestRootsFileScheme(t *testing.T) {
	root, linkedRoot, root2, out := rootsFixture(t)
	roots, err := NewRoots([]string{linkedRoot, root2})
	if err != nil {
		t.Fatal(err)
	}
	if got := roots.Roots(); len(got) != 2 || got[0] != root || got[1] != root2 {
		t.Errorf("Roots() = %v, want the resolved folders [%s %s]", got, root, root2)
	}
	ctx := WithRoots(context.Background(), roots)
	base := BaseDir(ctx, "/somewhere/else")
	if base != root {
		t.Errorf("BaseDir = %s, want the first root %s", base, root)
	}
	for uri, want := range map[string]string{
		filepath.Join(root, "m.onnx"):       "inside",
		filepath.Join(linkedRoot, "m.onnx"): "inside", // the root as given, through its link
		"m.onnx":                            "inside", // relative: the first root
		"sub/../sub/s.onnx":                 "sub",
		"in.onnx":                           "inside", // a link that stays inside
		"file://" + filepath.Join(root2, "two.onnx"): "second",
	} {
		got, err := read(t, ctx, uri, base)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", uri, got, err, want)
		}
	}
	art, err := Resolve(ctx, filepath.Join(linkedRoot, "in.onnx"), base)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := art.LocalPath(); p != filepath.Join(root, "m.onnx") {
		t.Errorf("LocalPath = %s, want the resolved path (what was checked is what flavors read)", p)
	}
	for uri, say := range map[string]string{
		filepath.Join(out, "secret.onnx"):          "outside the model roots",
		filepath.Join(out, "missing.onnx"):         "outside the model roots", // not: does not exist
		"../../private/secret.onnx":                "outside the model roots",
		filepath.Join(root, "..", "..", "private"): "outside the model roots",
		"out.onnx":           "a symbolic link to " + filepath.Join(out, "secret.onnx"),
		"outdir/secret.onnx": "symbolic link",
		"file://" + filepath.Join(out, "secret.onnx"): "outside the model roots",
		"~/secret.onnx":   "outside the model roots",
		root + "x/m.onnx": "outside the model roots", // a prefix, not a folder
	} {
		_, err := read(t, ctx, uri, base)
		if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), say) || !strings.Contains(err.Error(), "--model-root") {
			t.Errorf("%s: %v, want a permission error saying %q", uri, err, say)
		}
	}
	if _, err := read(t, ctx, "two.onnx", base); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a relative path only in the second root: %v, want does not exist (relative paths use the first root)", err)
	}
	// remote schemes are not local files
	if _, err := Resolve(ctx, "https://example.com/m.onnx", base); err != nil {
		t.Errorf("https under roots: %v", err)
	}
	if _, err := Resolve(ctx, "s3://bucket/m.onnx", base); err != nil {
		t.Errorf("s3 under roots: %v", err)
	}
}

func TestRootsNone(t *testing.T) {
	root, _, _, _ := rootsFixture(t)
	roots, err := NewRoots(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRoots(context.Background(), roots)
	for _, uri := range []string{filepath.Join(root, "m.onnx"), "m.onnx", "file://" + filepath.Join(root, "m.onnx")} {
		_, err := read(t, ctx, uri, BaseDir(ctx, root))
		if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "reads no local files") {
			t.Errorf("%s without roots: %v", uri, err)
		}
	}
	// an MLflow file store is a local folder too
	ctx = WithSetting(ctx, "mlflow_tracking_uri", "file://"+root)
	if _, err := Resolve(ctx, "mlflow:/m/1", root); !errors.Is(err, ErrPermission) {
		t.Errorf("an MLflow file store without roots: %v", err)
	}
	// without Roots on the context nothing changes
	if got, err := read(t, context.Background(), "m.onnx", root); err != nil || got != "inside" {
		t.Errorf("no Roots: %q, %v", got, err)
	}
}

func TestRootsBadRoot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, r := range []string{filepath.Join(dir, "missing"), file, " "} {
		if _, err := NewRoots([]string{r}); err == nil {
			t.Errorf("NewRoots(%q) succeeded", r)
		}
	}
}

// TestRootsSwapAfterResolve: a file (or a folder on its path) replaced by
// a link out of the roots between Resolve and Open is not read.
func TestRootsSwapAfterResolve(t *testing.T) {
	root, _, _, out := rootsFixture(t)
	roots, err := NewRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRoots(context.Background(), roots)
	art, err := Resolve(ctx, "m.onnx", root)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(filepath.Join(root, "m.onnx")))
	must(t, os.Symlink(filepath.Join(out, "secret.onnx"), filepath.Join(root, "m.onnx")))
	if _, err := art.Open(ctx); !errors.Is(err, ErrPermission) {
		t.Errorf("a file swapped for a link out: %v", err)
	}
	art, err = Resolve(ctx, "sub/s.onnx", root)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.Rename(filepath.Join(root, "sub"), filepath.Join(root, "sub.old")))
	must(t, os.WriteFile(filepath.Join(out, "s.onnx"), []byte("secret"), 0o644))
	must(t, os.Symlink(out, filepath.Join(root, "sub")))
	if _, err := art.Open(ctx); !errors.Is(err, ErrPermission) {
		t.Errorf("a folder swapped for a link out: %v", err)
	}
}

// TestRootsFolderArtifact: a model folder with a link out of the roots
// is refused, as a flavor would read through it.
func TestRootsFolderArtifact(t *testing.T) {
	root, _, _, out := rootsFixture(t)
	roots, err := NewRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRoots(context.Background(), roots)
	if _, err := Resolve(ctx, "sub", root); err != nil {
		t.Errorf("a plain model folder: %v", err)
	}
	must(t, os.Symlink(filepath.Join(out, "secret.onnx"), filepath.Join(root, "sub", "weights.bin")))
	if _, err := Resolve(ctx, "sub", root); !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "weights.bin") {
		t.Errorf("a model folder with a link out: %v", err)
	}
}
