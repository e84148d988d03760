package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/limits"

	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/source"
)

// pinOption is the OPTIONS key that pins an artifact's sha256.
const pinOption = "sha256"

// artifactBytes returns the artifact a flavor reads and the sha256 of its
// bytes. A remote artifact (HTTP, object stores) is read from the
// artifact cache: the entry of recorded (the sha256 the catalog holds)
// when there is one, without network access, else downloaded into it. A
// local file is hashed. The hash must equal OPTIONS sha256 when given,
// and recorded when the model is loaded again: bytes that changed since
// CREATE MODEL are refused. Artifacts without bytes of their own (a
// folder, a TorchHub name) have no hash ("").
func artifactBytes(ctx context.Context, name string, art model.Artifact, opts map[string]string, recorded string) (model.Artifact, string, error) {
	if art == nil {
		return nil, "", nil
	}
	pin := ""
	for k, v := range opts {
		if k == pinOption {
			p, err := source.ParseSHA256(v)
			if err != nil {
				return nil, "", fmt.Errorf("model %q: %w", name, err)
			}
			pin = p
		}
	}
	var sha string
	if remote, ok := art.(source.Remote); ok {
		want := recorded
		if want == "" {
			want = pin
		}
		if c, ok := source.Cached(art.Location(), want); ok {
			return c, want, nil
		}
		local, got, err := source.Fetch(ctx, remote)
		if err != nil {
			return nil, "", fmt.Errorf("model %q: %w", name, err)
		}
		art, sha = local, got
	} else if p, ok := art.LocalPath(); ok && isRegular(p) {
		got, err := source.FileSHA256(p)
		if err != nil {
			return nil, "", fmt.Errorf("model %q: %w", name, err)
		}
		sha = got
	} else {
		return art, "", nil
	}
	if pin != "" && sha != pin {
		return nil, "", fmt.Errorf("model %q: %s has sha256 %s, not %s as OPTIONS sha256 pins it", name, art.Location(), sha, pin)
	}
	if recorded != "" && sha != recorded {
		return nil, "", fmt.Errorf("model %q: %s has changed since CREATE MODEL (its sha256 is %s, the catalog recorded %s); check the file, then re-create the model with CREATE OR REPLACE MODEL", name, art.Location(), sha, recorded)
	}
	return art, sha, nil
}

// isRegular says whether p is a regular file (not a folder).
func isRegular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// embedOption is the OPTIONS key that keeps the artifact's bytes in the
// database.
const embedOption = "embed"

// embedBytes reads the artifact's bytes when OPTIONS embed = true: they
// are kept in the database with the model, so that the database file can
// be copied elsewhere with its models. The bytes must be those hashed.
func embedBytes(name string, art model.Artifact, sha string, opts map[string]string) ([]byte, error) {
	v, ok := opts[embedOption]
	if !ok {
		return nil, nil
	}
	on, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return nil, fmt.Errorf("model %q: OPTIONS embed must be true or false, got %q", name, v)
	}
	if !on {
		return nil, nil
	}
	p, local := "", false
	if art != nil {
		p, local = art.LocalPath()
	}
	if !local || sha == "" {
		return nil, fmt.Errorf("model %q: OPTIONS embed = true keeps a model file in the database; USING must name one file (not a folder, a TorchHub name, or nothing)", name)
	}
	if err := limits.ModelBytes.Check("the embedded model file", fileSize(p)); err != nil {
		return nil, fmt.Errorf("model %q: %w", name, err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", name, err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sha {
		return nil, fmt.Errorf("model %q: %s changed while it was read; try again", name, art.Location())
	}
	return data, nil
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// embeddedArtifact is a model's embedded artifact as a local file: the
// artifact cache's entry of its sha256, written from the database when
// the cache has none (a database copied to another machine).
func embeddedArtifact(ctx context.Context, ent *catalog.Entry, cat *catalog.Catalog) (model.Artifact, error) {
	loc := ent.Location
	if loc == "" {
		loc = ent.URI
	}
	if art, ok := source.Cached(loc, ent.SHA256); ok {
		return art, nil
	}
	if cat == nil {
		return nil, fmt.Errorf("model %q: its embedded artifact cannot be read here", ent.Name)
	}
	data, err := cat.Artifact(ctx, ent.SHA256)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", ent.Name, err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != ent.SHA256 {
		return nil, fmt.Errorf("model %q: the embedded artifact's sha256 is %s, the catalog recorded %s; re-create the model with CREATE OR REPLACE MODEL", ent.Name, hex.EncodeToString(got[:]), ent.SHA256)
	}
	return source.Store(loc, data)
}
