package functions

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/imaging"
	"github.com/augurdb/augur/internal/fileroots"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/sqlext"
)

func init() {
	sqlext.Extensions.Register("copy", registerCopy)
}

// image_copy(image, folder), copy(image, folder) and copy(uri, folder),
// Rikai's functions that copy a file into a folder: the image's bytes are
// written to folder/<name> and the result points at the written file
// (copy of a VARCHAR returns its path, as Rikai's copy returns the URI).
// <name> is the last element of the image's uri, as Rikai takes
// basename(urlparse(uri).path); an image with embedded bytes only (which
// Rikai cannot copy) is named by the sha256 of its bytes. Only local
// folders and file:// URIs are written. As in Rikai, an existing file of
// that name is replaced (here atomically: a temporary file in the folder,
// then a rename) and a missing folder is an error, not created.
func registerCopy(_ context.Context, conn *sql.Conn) error {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	imageT, err := sqlext.TypeInfo(ImageType)
	if err != nil {
		return err
	}
	toImage := func(ctx context.Context, v []driver.Value) (any, error) {
		dest, err := copyImage(ctx, v[0], v[1].(string))
		if err != nil {
			return nil, err
		}
		return map[string]any{"data": nil, "uri": dest}, nil
	}
	toURI := func(ctx context.Context, v []driver.Value) (any, error) {
		return copyImage(ctx, v[0], v[1].(string))
	}
	for _, f := range []struct {
		name    string
		in, out duckdb.TypeInfo
		exec    func(context.Context, []driver.Value) (any, error)
	}{
		{"image_copy", imageT, imageT, toImage},
		{"copy", imageT, imageT, toImage},
		{"copy", varchar, varchar, toURI},
	} {
		// Volatile: the function writes a file, which DuckDB must not
		// fold away or run once for equal arguments.
		cfg := duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{f.in, varchar}, ResultTypeInfo: f.out, Volatile: true}
		if err := duckdb.RegisterScalarUDF(conn, f.name, rowUDF{cfg: cfg, ctxExec: f.exec}); err != nil {
			return fmt.Errorf("register %s: %w", f.name, err)
		}
	}
	return nil
}

// copyImage writes the bytes of an image argument (see imaging.Read) into
// folder and returns the written file's path, as a file:// URI when the
// folder was given as one.
func copyImage(ctx context.Context, img any, folder string) (string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if fileroots.ReadOnly(ctx) {
		return "", fmt.Errorf("copy: %w: user role \"reader\" may only query and predict; copy writes files and needs an admin user", fileroots.ErrPermission)
	}
	dir, asURI, err := localFolder(ctx, folder)
	if err != nil {
		return "", fmt.Errorf("copy: %w", err)
	}
	// the name is checked before the read: a hostile uri fetches nothing
	var name string
	uri := imageURI(img)
	if uri != "" {
		if name, err = uriName(uri); err != nil {
			return "", fmt.Errorf("copy: image %s: %w", imaging.DisplayURI(uri), err)
		}
	}
	data, _, err := imaging.Read(ctx, img)
	if err != nil {
		if uri != "" {
			return "", fmt.Errorf("copy: image %s: %w", imaging.DisplayURI(uri), err)
		}
		return "", fmt.Errorf("copy: %w", err)
	}
	if uri == "" {
		name = dataName(data)
	}
	if err := limits.ImageBytes.Check("image to copy", int64(len(data))); err != nil {
		return "", fmt.Errorf("copy: %w", err)
	}
	dest := filepath.Join(dir, name)
	if err := writeAtomic(dir, dest, data); err != nil {
		return "", fmt.Errorf("copy to %s: %w", untrusted.Quote(dest), err)
	}
	if asURI {
		return (&url.URL{Scheme: "file", Path: dest}).String(), nil
	}
	return dest, nil
}

// localFolder checks the folder argument: a local path or a file:// URI
// of an existing directory. Rikai also writes s3:// (s3a:// and s3n://
// mapped to s3), gs:// and what pyarrow reaches; augur writes no remote
// store, and says so.
//
// In server mode (fileroots on ctx) the folder must lie inside the model
// roots, after symbolic links; dir is then the resolved folder.
func localFolder(ctx context.Context, folder string) (dir string, asURI bool, err error) {
	if folder == "" {
		return "", false, errors.New("the folder is an empty string")
	}
	dir = folder
	if scheme := uriScheme(folder); scheme == "file" {
		u, err := url.Parse(folder)
		if err != nil {
			return "", false, fmt.Errorf("folder %s is not a valid file URI", untrusted.Quote(folder))
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", false, fmt.Errorf("file URIs name local folders; host %s is not supported", untrusted.Quote(u.Host))
		}
		if dir = u.Path; dir == "" {
			dir = u.Opaque
		}
		asURI = true
	} else if scheme != "" {
		return "", false, fmt.Errorf("folder %s: augur writes local folders and file:// URIs only, not %s:// (Rikai's copy also writes s3, s3a, s3n and gs)",
			imaging.DisplayURI(folder), untrusted.Name(scheme))
	}
	if roots := fileroots.From(ctx); roots != nil {
		real, err := roots.Check("copy folder", dir)
		if errors.Is(err, os.ErrNotExist) {
			return "", false, fmt.Errorf("folder %s does not exist (copy does not create folders, as Rikai's does not)", untrusted.Quote(dir))
		}
		if err != nil {
			return "", false, err
		}
		dir = real
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", false, fmt.Errorf("folder %s does not exist (copy does not create folders, as Rikai's does not)", untrusted.Quote(dir))
	case err != nil:
		return "", false, fmt.Errorf("folder %s: %s", untrusted.Quote(dir), untrusted.Clean(err.Error()))
	case !st.IsDir():
		return "", false, fmt.Errorf("%s is not a folder", untrusted.Quote(dir))
	}
	return dir, asURI, nil
}

// uriScheme is the lower-cased scheme of a URI ("file" for file:...), or
// "" for a plain path. A single letter before ':' would be a Windows
// drive, and a colon later in a path (a:b/c.jpg) names no scheme unless
// "://" follows it.
func uriScheme(s string) string {
	i := strings.Index(s, ":")
	if i <= 1 {
		return ""
	}
	scheme := strings.ToLower(s[:i])
	for j, r := range scheme {
		if !(r >= 'a' && r <= 'z' || j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return ""
		}
	}
	if scheme == "file" || strings.HasPrefix(s[i:], "://") {
		return scheme
	}
	return ""
}

// imageURI is the uri of an image argument: the VARCHAR itself, or the
// image value's uri field ("" for embedded bytes without one).
func imageURI(img any) string {
	switch x := img.(type) {
	case string:
		return x
	case map[string]any:
		uri, _ := x["uri"].(string)
		return uri
	}
	return ""
}

// uriName is the name of the copy of the file at uri: the last element of
// its path (a URI's query and fragment cut off, nothing decoded, as
// Python's urlparse and basename take it). The name comes from untrusted
// text and must stay a single file inside the folder.
func uriName(uri string) (string, error) {
	p := uri
	if uriScheme(uri) != "" {
		p, _, _ = strings.Cut(p, "#")
		p, _, _ = strings.Cut(p, "?")
		if scheme, rest, ok := strings.Cut(p, "://"); ok && scheme != "" {
			// the authority is no part of the path: http://host has none
			_, path, _ := strings.Cut(rest, "/")
			p = "/" + path
		}
	}
	name := p[strings.LastIndex(p, "/")+1:]
	return name, checkName(name)
}

// dataName names the copy of embedded bytes, which have no uri (Rikai's
// image_copy fails on them): the sha256 of the bytes, with the extension
// of their format, so that copying the same image again rewrites the
// same file.
func dataName(data []byte) string {
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	if f := imaging.Format(data); f != "" {
		name += "." + strings.Replace(f, "jpeg", "jpg", 1)
	}
	return name
}

// checkName refuses a file name that is empty, a path step (".", ".."),
// holds a separator of any platform or a control character, or is longer
// than file systems take.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("its uri ends in '/': it names no file to copy")
	case name == "." || name == "..":
		return fmt.Errorf("its file name %s is not a file name", untrusted.Quote(name))
	case len(name) > 255:
		return fmt.Errorf("its file name is %d bytes long, more than the 255 file systems take", len(name))
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("its file name %s holds a path separator", untrusted.Quote(name))
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("its file name %s holds a control character", untrusted.Quote(name))
		}
	}
	return nil
}

// writeAtomic writes data to dest through a temporary file in dir and a
// rename, so that a reader sees the old file or the whole new one, never
// part of it, and a failed write leaves nothing behind. The rename
// replaces a symlink at dest rather than writing through it.
func writeAtomic(dir, dest string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, ".augur-copy-*")
	if err != nil {
		return cleanErr(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return cleanErr(err)
	}
	// CreateTemp makes the file 0600; a copied image is an ordinary file
	if err = f.Chmod(0o644); err != nil {
		return cleanErr(err)
	}
	if err = f.Close(); err != nil {
		return cleanErr(err)
	}
	if err = os.Rename(f.Name(), dest); err != nil {
		return cleanErr(err)
	}
	return nil
}

// cleanErr escapes an OS error, whose text quotes paths built from
// untrusted names.
func cleanErr(err error) error { return errors.New(untrusted.Clean(err.Error())) }
