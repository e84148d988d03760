// Package source resolves the URI in USING to an artifact: the registry
// of URI schemes, each a file that registers itself.
package source

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/registry"
)

// Scheme resolves URIs of one scheme. base is the directory against
// which relative references resolve (the working directory, or a YAML
// spec's folder).
type Scheme interface {
	Resolve(ctx context.Context, uri, base string) (model.Artifact, error)
}

// Schemes holds every URI scheme by name ("file", "s3", ...).
var Schemes = registry.New[Scheme]("URI scheme")

var schemeRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*):`)

// SchemeOf returns the URI's scheme, lower-cased, or "" for a plain path.
// A single letter before ':' is a Windows drive, not a scheme.
func SchemeOf(uri string) string {
	m := schemeRE.FindStringSubmatch(uri)
	if m == nil || len(m[1]) == 1 {
		return ""
	}
	return strings.ToLower(m[1])
}

// Resolve finds the artifact a USING URI names.
func Resolve(ctx context.Context, uri, base string) (model.Artifact, error) {
	if strings.TrimSpace(uri) == "" {
		return nil, fmt.Errorf("USING '' names no model; give a path or URI")
	}
	if strings.ContainsRune(uri, 0) {
		return nil, fmt.Errorf("USING %q contains a NUL byte", uri)
	}
	scheme := SchemeOf(uri)
	if scheme == "" {
		scheme = "file"
	}
	s, err := Schemes.Lookup(scheme)
	if err != nil {
		return nil, fmt.Errorf("USING %q: %w", uri, err)
	}
	return s.Resolve(ctx, uri, base)
}

// parseURL is url.Parse with the URI named in the error.
func parseURL(uri string) (*url.URL, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("USING %q is not a valid URI: %v", uri, err)
	}
	return u, nil
}

// settingKey is the context key of a session setting.
type settingKey string

// WithSetting returns ctx carrying a session's setting (SET name =
// 'value' of parser.Settings) for the schemes that read it.
func WithSetting(ctx context.Context, name, value string) context.Context {
	return context.WithValue(ctx, settingKey(name), value)
}

// Setting returns a session setting from ctx, "" when it is not set.
func Setting(ctx context.Context, name string) string {
	v, _ := ctx.Value(settingKey(name)).(string)
	return v
}
