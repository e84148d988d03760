package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
)

func init() { Schemes.Register("mlflow-artifacts", mlflowArtifactsScheme{}) }

// restStore is an MLflow tracking server, read through its REST API 2.0
// (the endpoints of MLflow 2.x's REST API reference).
type restStore struct {
	base  url.URL // scheme, host and path prefix; no user info
	shown string  // base as shown: no password
	auth  mlflowAuth
}

// mlflowAuth is how requests to the tracking server authenticate:
// MLFLOW_TRACKING_TOKEN (Bearer), else MLFLOW_TRACKING_USERNAME and
// MLFLOW_TRACKING_PASSWORD (basic), else the tracking URI's user info.
type mlflowAuth struct {
	token, user, password string
	basic                 bool
}

func (a mlflowAuth) set(req *http.Request) {
	switch {
	case a.token != "":
		req.Header.Set("Authorization", "Bearer "+a.token)
	case a.basic:
		req.SetBasicAuth(a.user, a.password)
	}
}

// newRESTStore reads an http(s) tracking URI and the credentials in the
// environment.
func newRESTStore(t string) (*restStore, error) {
	u, err := url.Parse(t)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s is not a valid URL: %v", envTrackingURI, untrusted.Quote(redactURI(t)), err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s %s names no host", envTrackingURI, untrusted.Quote(redactURI(t)))
	}
	s := &restStore{}
	if tok := os.Getenv(envTrackingToken); tok != "" {
		s.auth.token = tok
	} else if user, pw := os.Getenv(envTrackingUser), os.Getenv(envTrackingPassword); user != "" || pw != "" {
		s.auth = mlflowAuth{user: user, password: pw, basic: true}
	} else if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = mlflowAuth{user: u.User.Username(), password: pw, basic: true}
	}
	u.User = nil
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	s.base = *u
	s.shown = u.String()
	return s, nil
}

func (s *restStore) String() string { return "the MLflow server " + untrusted.Quote(s.shown) }

func (s *restStore) artifactsBase() *url.URL {
	u := s.base
	return &u
}

// mlflowError is the JSON body of a failed MLflow REST call.
type mlflowError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// get calls GET /api/2.0/mlflow/<endpoint>?<q> and decodes the answer
// into out. RESOURCE_DOES_NOT_EXIST is *errNoSuch.
func (s *restStore) get(ctx context.Context, endpoint string, q url.Values, out any) error {
	u := s.base
	u.Path += "/api/2.0/mlflow/" + endpoint
	u.RawQuery = q.Encode()
	what := "GET " + untrusted.Quote(s.shown+"/api/2.0/mlflow/"+endpoint)
	ctx, cancel := context.WithTimeout(ctx, limits.ConnectTimeout.Duration()+limits.HeaderTimeout.Duration()+limits.IdleTimeout.Duration())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	req.Header.Set("User-Agent", userAgent())
	req.Header.Set("Accept", "application/json")
	s.auth.set(req)
	resp, err := httpClient().Do(req)
	if err != nil {
		return netError(ctx, what, s.base.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMLmodelBytes+1))
	if err != nil {
		return fmt.Errorf("%s: %s", what, untrusted.Clean(err.Error()))
	}
	if len(body) > maxMLmodelBytes {
		return fmt.Errorf("%s: the answer is larger than %d MiB", what, maxMLmodelBytes>>20)
	}
	if resp.StatusCode != http.StatusOK {
		var me mlflowError
		_ = json.Unmarshal(body, &me)
		if me.ErrorCode == "RESOURCE_DOES_NOT_EXIST" {
			return &errNoSuch{msg: me.Message}
		}
		said := me.Message
		if said == "" {
			said = string(body)
		}
		said = oneLine(said)
		if me.ErrorCode != "" {
			said = me.ErrorCode + ": " + said
		}
		var hint string
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			hint = fmt.Sprintf(": the server refused the credentials (set %s, or %s and %s)", envTrackingToken, envTrackingUser, envTrackingPassword)
		case http.StatusNotFound:
			if me.ErrorCode == "" {
				hint = ": no MLflow REST API there; check " + envTrackingURI
			}
		}
		msg := fmt.Sprintf("%s: HTTP %d%s", what, resp.StatusCode, hint)
		if said != "" {
			msg += " (the server said " + untrusted.Quote(said) + ")"
		}
		return errors.New(msg)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: the answer is not MLflow's JSON: it is %s", what, untrusted.Describe(body))
	}
	return nil
}

func (s *restStore) registeredModel(ctx context.Context, name string) error {
	var out struct {
		RegisteredModel struct {
			Name string `json:"name"`
		} `json:"registered_model"`
	}
	return s.get(ctx, "registered-models/get", url.Values{"name": {name}}, &out)
}

// versions lists every version of a model with model-versions/search,
// page by page.
func (s *restStore) versions(ctx context.Context, name string) ([]modelVersion, error) {
	var filter string
	switch {
	case !strings.Contains(name, "'"):
		filter = "name='" + name + "'"
	case !strings.Contains(name, `"`):
		filter = `name="` + name + `"`
	default:
		return nil, fmt.Errorf("model name %s has both kinds of quotes; name a version (mlflow:/<model>/<version>)", untrusted.Quote(name))
	}
	var all []modelVersion
	token := ""
	for page := 0; ; page++ {
		if page == 1000 {
			return nil, fmt.Errorf("%s: model-versions/search did not end after %d pages", s, page)
		}
		q := url.Values{"filter": {filter}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			ModelVersions []modelVersion `json:"model_versions"`
			NextPageToken string         `json:"next_page_token"`
		}
		if err := s.get(ctx, "model-versions/search", q, &out); err != nil {
			return nil, err
		}
		for _, mv := range out.ModelVersions {
			if mv.Name == "" || mv.Name == name { // the filter is exact; a prefix match would be a server's bug
				all = append(all, mv)
			}
		}
		if out.NextPageToken == "" || out.NextPageToken == token {
			return all, nil
		}
		token = out.NextPageToken
	}
}

func (s *restStore) version(ctx context.Context, name, version string) (*modelVersion, error) {
	var out struct {
		ModelVersion modelVersion `json:"model_version"`
	}
	if err := s.get(ctx, "model-versions/get", url.Values{"name": {name}, "version": {version}}, &out); err != nil {
		return nil, err
	}
	return &out.ModelVersion, nil
}

func (s *restStore) alias(ctx context.Context, name, alias string) (*modelVersion, error) {
	var out struct {
		ModelVersion modelVersion `json:"model_version"`
	}
	if err := s.get(ctx, "registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, &out); err != nil {
		return nil, err
	}
	return &out.ModelVersion, nil
}

func (s *restStore) run(ctx context.Context, id string) (*mlflowRun, error) {
	var out struct {
		Run mlflowRun `json:"run"`
	}
	if err := s.get(ctx, "runs/get", url.Values{"run_id": {id}}, &out); err != nil {
		return nil, err
	}
	return &out.Run, nil
}

// downloadURI asks model-versions/get-download-uri, and falls back on the
// version's storage location or source when the server cannot say.
func (s *restStore) downloadURI(ctx context.Context, mv *modelVersion) (string, error) {
	var out struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	err := s.get(ctx, "model-versions/get-download-uri", url.Values{"name": {mv.Name}, "version": {mv.Version}}, &out)
	if err == nil && out.ArtifactURI != "" {
		return out.ArtifactURI, nil
	}
	if mv.StorageLocation != "" {
		return mv.StorageLocation, nil
	}
	if mv.Source != "" {
		return mv.Source, nil
	}
	if err != nil {
		return "", err
	}
	return "", fmt.Errorf("version %s has no storage location", mv.Version)
}

// mlflowArtifactsScheme reads mlflow-artifacts:/<path> (and
// mlflow-artifacts://host:port/<path>): files the tracking server proxies
// from its artifact store, through GET
// /api/2.0/mlflow-artifacts/artifacts/<path> of the server
// MLFLOW_TRACKING_URI names (with that URI's scheme and the URI's host,
// when it has one), with the MLflow credentials of the environment.
// Resolve only parses, so that a model in the artifact cache loads
// without the server.
type mlflowArtifactsScheme struct{}

func (mlflowArtifactsScheme) Resolve(_ context.Context, uri, _ string) (model.Artifact, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("USING %s is not a valid URI: %v", untrusted.Quote(redactURI(uri)), err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("USING %s: write mlflow-artifacts:/<path> or mlflow-artifacts://host:port/<path>", untrusted.Quote(redactURI(uri)))
	}
	p := strings.TrimLeft(u.Path, "/")
	if p == "" || strings.HasSuffix(p, "/") {
		return nil, fmt.Errorf("USING %s names no file", untrusted.Quote(uri))
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return nil, fmt.Errorf("USING %s: .. is not allowed in an artifact path", untrusted.Quote(uri))
		}
	}
	return &mlflowArtifact{location: uri, host: u.Host, path: p}, nil
}

// mlflowArtifact is a file the tracking server proxies.
type mlflowArtifact struct {
	location string
	host     string // "" = the tracking server's
	path     string // unescaped, without the leading /
}

func (a *mlflowArtifact) Location() string          { return a.location }
func (a *mlflowArtifact) LocalPath() (string, bool) { return "", false }
func (a *mlflowArtifact) Remote()                   {}

// Open GETs the file from the tracking server, with the timeouts of
// http(s) downloads (see httpArtifact.Open).
func (a *mlflowArtifact) Open(ctx context.Context) (io.ReadCloser, error) {
	shown := untrusted.Quote(a.location)
	t := trackingURI(ctx)
	if s := SchemeOf(t); s != "http" && s != "https" {
		return nil, fmt.Errorf("read %s: SET mlflow_tracking_uri or set %s to the MLflow tracking server (http://host:5000) that serves it", shown, envTrackingURI)
	}
	store, err := newRESTStore(t)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", shown, err)
	}
	u := store.base
	if a.host != "" {
		u.Host = a.host
		u.Path = ""
	}
	u.Path += "/api/2.0/mlflow-artifacts/artifacts/" + a.path
	shown = untrusted.Quote(a.location + " (" + u.Scheme + "://" + u.Host + ")")
	return download(ctx, u.String(), shown, u.Host, store.auth.set, func(resp *http.Response) error {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("GET %s: HTTP %d: the server refused the credentials (set %s, or %s and %s)", shown, resp.StatusCode, envTrackingToken, envTrackingUser, envTrackingPassword)
		case http.StatusNotFound:
			return fmt.Errorf("GET %s: HTTP 404: the tracking server has no such artifact (is it run with --serve-artifacts?)", shown)
		}
		return statusError(a.location, resp)
	})
}
