package engine

import (
	"context"
	"fmt"
	"os"

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
