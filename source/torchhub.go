package source

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
)

func init() { Schemes.Register("torchhub", torchHubScheme{}) }

// torchHubScheme parses TorchHub URIs, torchhub:///owner/repo[:tag]/model
// and the two-slash form torchhub://owner/repo[:tag]/model, as Rikai's
// TorchHub registry does: the path, stripped of its slashes, must have
// exactly three segments. (Rikai refuses the two-slash form; augur reads
// it as the same three segments.) Resolving reads nothing: the flavor
// decides what the model is (see flavor/pytorch).
type torchHubScheme struct{}

func (torchHubScheme) Resolve(_ context.Context, uri, _ string) (model.Artifact, error) {
	return ParseTorchHub(uri)
}

// TorchHub is a model named by a TorchHub URI: torch.hub.load(RepoOrDir(),
// Model) in Python.
type TorchHub struct {
	URI   string
	Owner string
	Repo  string
	Tag   string // "" when the URI names none
	Model string
}

// badTorchHub is Rikai's message for a URI without exactly three segments.
const badTorchHub = "Bad URI, expected torchhub:///<org>/<prj>/<mdl>"

// ParseTorchHub splits a TorchHub URI into owner, repository, tag and
// model. A URI of another scheme gets Rikai's "Expect schema" message,
// one without three non-empty segments Rikai's "Bad URI" message.
func ParseTorchHub(uri string) (*TorchHub, error) {
	if s := SchemeOf(uri); s != "torchhub" {
		return nil, fmt.Errorf("USING %s: Expect schema: torchhub, but got %s", untrusted.Quote(uri), untrusted.Quote(s))
	}
	rest := uri[len("torchhub:"):]
	if strings.ContainsAny(rest, "?#") {
		return nil, fmt.Errorf("USING %s: %s (a TorchHub URI takes no query or fragment)", untrusted.Quote(uri), badTorchHub)
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 3 {
		return nil, fmt.Errorf("USING %s: %s", untrusted.Quote(uri), badTorchHub)
	}
	th := &TorchHub{URI: uri, Owner: parts[0], Repo: parts[1], Model: parts[2]}
	if repo, tag, ok := strings.Cut(th.Repo, ":"); ok {
		th.Repo, th.Tag = repo, tag
		if tag == "" || strings.Contains(tag, ":") {
			return nil, fmt.Errorf("USING %s: %s (the tag after ':' must be one non-empty name)", untrusted.Quote(uri), badTorchHub)
		}
	}
	if th.Owner == "" || th.Repo == "" || th.Model == "" {
		return nil, fmt.Errorf("USING %s: %s (a segment is empty)", untrusted.Quote(uri), badTorchHub)
	}
	return th, nil
}

// RepoOrDir is torch.hub.load's first argument: owner/repo[:tag].
func (t *TorchHub) RepoOrDir() string {
	if t.Tag == "" {
		return t.Owner + "/" + t.Repo
	}
	return t.Owner + "/" + t.Repo + ":" + t.Tag
}

// Location implements model.Artifact: the URI as written.
func (t *TorchHub) Location() string { return t.URI }

// LocalPath implements model.Artifact: a TorchHub model is no local file.
func (t *TorchHub) LocalPath() (string, bool) { return "", false }

// Open implements model.Artifact: there are no bytes to read; the
// pytorch flavor resolves TorchHub models.
func (t *TorchHub) Open(context.Context) (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s names a TorchHub model, which only FLAVOR pytorch loads", untrusted.Quote(t.URI))
}
