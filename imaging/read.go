package imaging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/augurdb/augur/internal/fileroots"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/types"
)

// Read returns the encoded bytes of an image argument as duckdb-go passes
// it: an image value (map with "data" and "uri"), a BLOB of encoded bytes,
// or a VARCHAR path or URI (plain path, file://, http://, https://).
// name identifies the image in errors: its uri, or "" for embedded bytes.
func Read(ctx context.Context, v any) (data []byte, name string, err error) {
	switch x := v.(type) {
	case []byte:
		return x, "", nil
	case string:
		if x == "" {
			return nil, "", fmt.Errorf("the image path is an empty string")
		}
		data, err := ReadURI(ctx, x)
		return data, x, err
	case map[string]any:
		uri, _ := x["uri"].(string)
		if d, ok := x["data"].([]byte); ok && d != nil {
			return d, uri, nil
		}
		if uri == "" {
			return nil, "", fmt.Errorf("the image has neither data nor uri")
		}
		data, err := ReadURI(ctx, uri)
		return data, uri, err
	}
	return nil, "", fmt.Errorf("expected an image, a BLOB of encoded image bytes or a path/URI, got %s", types.DescribeValue(v))
}

// Load reads an image argument (see Read) and decodes it with decode.
// Errors name the image by its uri, or as embedded bytes, so that a query
// over many images says which one failed.
func Load(ctx context.Context, v any, decode func([]byte) (*Image, error)) (*Image, error) {
	data, name, err := Read(ctx, v)
	where := func(err error) error {
		if name != "" {
			return fmt.Errorf("image %s: %w", DisplayURI(name), err)
		}
		return fmt.Errorf("embedded image (%d bytes): %w", len(data), err)
	}
	if err != nil {
		if name == "" {
			return nil, err
		}
		return nil, where(err)
	}
	im, err := decode(data)
	if err != nil {
		return nil, where(err)
	}
	return im, nil
}

// DisplayURI is an image's path or URI as errors show it: quoted, with
// control characters escaped, and a URL's password replaced by "xxxxx".
func DisplayURI(uri string) string {
	return untrusted.Quote(redact(uri))
}

// redact hides the password of a URL's user info, also in a URL that
// does not parse; anything else is returned as is.
func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	if u, err := url.Parse(uri); err == nil {
		if u.User == nil {
			return uri
		}
		return u.Redacted()
	}
	authority, path, slash := strings.Cut(rest, "/")
	user, host, at := strings.Cut(authority, "@")
	name, _, hasPassword := strings.Cut(user, ":")
	if !at || !hasPassword {
		return uri
	}
	out := scheme + "://" + name + ":xxxxx@" + host
	if slash {
		out += "/" + path
	}
	return out
}

// parseError is url.Parse's error without the URL, which the caller
// names (redacted).
func parseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ReadURI reads a local path, a file:// URI or an http(s):// URL.
func ReadURI(ctx context.Context, uri string) ([]byte, error) {
	lower := strings.ToLower(uri)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return readHTTP(ctx, uri)
	case strings.HasPrefix(lower, "file:"):
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("parse file URI: %w", parseError(err))
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("file URIs name local files; host %s is not supported", untrusted.Quote(u.Host))
		}
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		return readFile(ctx, p)
	case strings.Contains(uri, "://"):
		return nil, fmt.Errorf("unsupported URI scheme in %s (local paths, file://, http:// and https:// are read)", DisplayURI(uri))
	}
	return readFile(ctx, uri)
}

// readFile reads a regular file. It opens without blocking and checks
// the open file (not the path, which could change in between): a FIFO
// would otherwise wait forever for a writer, and a device or a directory
// is no image. Model paths are refused the same way.
//
// In server mode (fileroots on ctx) the path must lie inside the model
// roots, after symbolic links.
func readFile(ctx context.Context, path string) ([]byte, error) {
	f, err := fileroots.OpenContext(ctx, "image file", path, os.O_RDONLY|openNonblock)
	if err != nil {
		if errors.Is(err, fileroots.ErrPermission) {
			return nil, err
		}
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("no such file")
		}
		return nil, cleanError{err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, cleanError{err}
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s, not a regular file", describeMode(st.Mode()))
	}
	if err := limits.ImageBytes.Check("image file", st.Size()); err != nil {
		return nil, err
	}
	return readLimited(f, "image file")
}

// describeMode names a file type that is not a regular file.
func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// readLimited reads r up to limits.ImageBytes; more is an error.
func readLimited(r io.Reader, what string) ([]byte, error) {
	max := limits.ImageBytes.Get()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, limits.ImageBytes.Exceeded(what, -1)
	}
	return data, nil
}
