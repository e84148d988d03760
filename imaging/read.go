package imaging

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/augurdb/augur/types"
)

// MaxEncodedBytes bounds what Read loads for one image.
const MaxEncodedBytes = 256 << 20

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
			return fmt.Errorf("image %q: %w", name, err)
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

// ReadURI reads a local path, a file:// URI or an http(s):// URL.
func ReadURI(ctx context.Context, uri string) ([]byte, error) {
	lower := strings.ToLower(uri)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", uri, resp.Status)
		}
		return readLimited(resp.Body)
	case strings.HasPrefix(lower, "file:"):
		u, err := url.Parse(uri)
		if err != nil {
			return nil, err
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("file URIs name local files; host %q is not supported", u.Host)
		}
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		uri = p
	case strings.Contains(uri, "://"):
		return nil, fmt.Errorf("unsupported URI scheme in %q (local paths, file://, http:// and https:// are read)", uri)
	}
	f, err := os.Open(uri)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("no such file")
		}
		return nil, err
	}
	defer f.Close()
	return readLimited(f)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxEncodedBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxEncodedBytes {
		return nil, fmt.Errorf("larger than %d MiB", MaxEncodedBytes>>20)
	}
	return data, nil
}
