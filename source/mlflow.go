package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
)

func init() { Schemes.Register("mlflow", mlflowScheme{}) }

// The environment variables MLflow's own client reads.
const (
	envTrackingURI      = "MLFLOW_TRACKING_URI"
	envTrackingToken    = "MLFLOW_TRACKING_TOKEN"
	envTrackingUser     = "MLFLOW_TRACKING_USERNAME"
	envTrackingPassword = "MLFLOW_TRACKING_PASSWORD"
)

// The run and model-version tags augur reads (those rikai.mlflow's
// log_model sets).
const (
	tagFlavor      = "rikai.model.flavor"
	tagModelType   = "rikai.model.type"
	tagSchema      = "rikai.output.schema"
	tagSpecVersion = "rikai.spec.version"
	tagLabelURI    = "rikai.model.label_uri"
	tagOptionPfx   = "rikai.option."
)

const mlflowFlavorHint = "set the tag rikai.model.flavor on the run, or log the model with rikai.mlflow.<flavor>.log_model"

// maxMLmodelBytes bounds what augur reads of an MLmodel file or a
// registry's answer.
const maxMLmodelBytes = 4 << 20

// mlflowRef is what an mlflow: URI asks for: the model's name and at
// most one of a version, a stage and an alias (none: the latest version
// in any stage).
type mlflowRef struct {
	name    string
	version string // digits
	stage   string // canonical: None, Staging, Production, Archived
	alias   string
}

// mlflowStages are MLflow's model stages, by their lower-cased names.
var mlflowStages = map[string]string{
	"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived",
}

var digitsRE = regexp.MustCompile(`^[0-9]+$`)

// parseMLflowURI reads mlflow:/name, mlflow:///name and mlflow://name,
// each optionally followed by /<version>, /<stage> or @<alias>.
func parseMLflowURI(uri string) (mlflowRef, error) {
	bad := func(why string) (mlflowRef, error) {
		return mlflowRef{}, fmt.Errorf("USING %s: %s; write mlflow:/<model>, mlflow:/<model>/<version>, mlflow:/<model>/<stage> or mlflow:/<model>@<alias>", untrusted.Quote(uri), why)
	}
	if SchemeOf(uri) != "mlflow" {
		return bad("not an mlflow: URI")
	}
	rest := uri[len("mlflow:"):]
	switch {
	case strings.HasPrefix(rest, "////"):
		return bad("too many slashes after mlflow:")
	case strings.HasPrefix(rest, "///"):
		rest = rest[3:]
	case strings.HasPrefix(rest, "//"):
		rest = rest[2:]
	case strings.HasPrefix(rest, "/"):
		rest = rest[1:]
	default:
		return bad("the model name must follow mlflow:/")
	}
	if strings.ContainsAny(rest, "?#") {
		return bad("a query or fragment is not part of an mlflow: URI")
	}
	var ref mlflowRef
	name, sel := rest, ""
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		name, ref.alias = rest[:i], rest[i+1:]
		if ref.alias == "" {
			return bad("no alias after @")
		}
		if strings.Contains(ref.alias, "/") {
			return bad("an alias cannot be followed by a version or stage")
		}
		a, err := url.PathUnescape(ref.alias)
		if err != nil {
			return bad("bad %-escape in the alias")
		}
		ref.alias = a
	} else if i := strings.IndexByte(rest, '/'); i >= 0 {
		name, sel = rest[:i], rest[i+1:]
		if sel == "" {
			return bad("nothing after the model name's /")
		}
		if strings.Contains(sel, "/") {
			return bad("more than one part after the model name")
		}
	}
	if name == "" {
		return bad("no model name")
	}
	if strings.Contains(name, "/") {
		return bad("more than one part after the model name")
	}
	n, err := url.PathUnescape(name)
	if err != nil {
		return bad("bad %-escape in the model name")
	}
	ref.name = n
	switch {
	case sel == "":
	case digitsRE.MatchString(sel):
		v, err := strconv.ParseInt(sel, 10, 64)
		if err != nil || v < 1 {
			return bad("version " + sel + " is not a model version (versions count from 1)")
		}
		ref.version = strconv.FormatInt(v, 10)
	case strings.EqualFold(sel, "latest"):
	default:
		s, ok := mlflowStages[strings.ToLower(sel)]
		if !ok {
			return bad(fmt.Sprintf("%s is neither a version number nor a stage (None, Staging, Production, Archived)", untrusted.Quote(sel)))
		}
		ref.stage = s
	}
	return ref, nil
}

// what says which version ref selects, for errors.
func (r mlflowRef) what() string {
	switch {
	case r.version != "":
		return "version " + r.version
	case r.stage != "":
		return "the latest version in stage " + r.stage
	case r.alias != "":
		return "alias " + untrusted.Quote(r.alias)
	}
	return "the latest version"
}

// kv is MLflow's tag or param: {"key": ..., "value": ...}.
type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// modelVersion is the part of MLflow's ModelVersion augur reads.
type modelVersion struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	CurrentStage    string `json:"current_stage"`
	Source          string `json:"source"`
	RunID           string `json:"run_id"`
	Status          string `json:"status"`
	Tags            []kv   `json:"tags"`
	StorageLocation string `json:"storage_location"` // newer servers; the file store's meta.yaml
}

// mlflowRun is the part of MLflow's Run augur reads.
type mlflowRun struct {
	Info struct {
		RunID       string `json:"run_id"`
		ArtifactURI string `json:"artifact_uri"`
	} `json:"info"`
	Data struct {
		Params []kv `json:"params"`
		Tags   []kv `json:"tags"`
	} `json:"data"`
}

// errNoSuch is a registry's RESOURCE_DOES_NOT_EXIST.
type errNoSuch struct{ msg string }

func (e *errNoSuch) Error() string { return e.msg }

// mlflowStore is a tracking store: a server's REST API or a local file
// store.
type mlflowStore interface {
	// registeredModel fails with *errNoSuch when there is no such model.
	registeredModel(ctx context.Context, name string) error
	versions(ctx context.Context, name string) ([]modelVersion, error)
	version(ctx context.Context, name, version string) (*modelVersion, error)
	alias(ctx context.Context, name, alias string) (*modelVersion, error)
	run(ctx context.Context, id string) (*mlflowRun, error)
	// downloadURI is where a version's files are stored.
	downloadURI(ctx context.Context, mv *modelVersion) (string, error)
	// artifactsBase is the tracking server's base URL for
	// mlflow-artifacts: URIs, nil for a file store.
	artifactsBase() *url.URL
	// String names the store without secrets.
	String() string
}

// trackingURI is the session's SET mlflow_tracking_uri, else
// MLFLOW_TRACKING_URI.
func trackingURI(ctx context.Context) string {
	if t := strings.TrimSpace(Setting(ctx, "mlflow_tracking_uri")); t != "" {
		return t
	}
	return strings.TrimSpace(os.Getenv(envTrackingURI))
}

// openStore opens the tracking store of trackingURI.
func openStore(ctx context.Context, base string) (mlflowStore, error) {
	t := trackingURI(ctx)
	if t == "" {
		return nil, fmt.Errorf("no MLflow tracking server: SET mlflow_tracking_uri = '…' or set %s to the tracking server (http://host:5000) or a local file store (file:///path/mlruns)", envTrackingURI)
	}
	switch SchemeOf(t) {
	case "http", "https":
		return newRESTStore(t)
	case "file", "":
		p := t
		if SchemeOf(t) == "file" {
			u, err := url.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("%s %s is not a valid URI: %v", envTrackingURI, untrusted.Quote(t), err)
			}
			if u.Host != "" && u.Host != "localhost" {
				return nil, fmt.Errorf("%s %s: file URIs name local folders (file:///path/mlruns)", envTrackingURI, untrusted.Quote(t))
			}
			p = u.Path
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		if roots := RootsFrom(ctx); roots != nil {
			real, err := roots.Check("MLflow file store", p)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", envTrackingURI, untrusted.Quote(t), err)
			}
			p = real
		}
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s %s: no MLflow file store at %s", envTrackingURI, untrusted.Quote(t), p)
		}
		return &fileStore{root: filepath.Clean(p)}, nil
	default:
		return nil, fmt.Errorf("%s %s: augur reads MLflow through a tracking server's REST API (http:// or https://) or a local file store (file:///path/mlruns), not %s:", envTrackingURI, untrusted.Quote(redactURI(t)), SchemeOf(t))
	}
}

// mlflowScheme resolves mlflow: URIs through the MLflow model registry.
type mlflowScheme struct{}

func (mlflowScheme) Resolve(ctx context.Context, uri, base string) (model.Artifact, error) {
	ref, err := parseMLflowURI(uri)
	if err != nil {
		return nil, err
	}
	shown := untrusted.Quote(uri)
	fail := func(err error) (model.Artifact, error) {
		return nil, fmt.Errorf("USING %s: %w", shown, err)
	}
	store, err := openStore(ctx, base)
	if err != nil {
		return fail(err)
	}
	mv, err := selectVersion(ctx, store, ref)
	if err != nil {
		return fail(err)
	}
	defaults, err := describeVersion(ctx, store, mv)
	if err != nil {
		return fail(err)
	}
	folder, err := store.downloadURI(ctx, mv)
	if err != nil {
		return fail(err)
	}
	if folder, err = resolveRunsURI(ctx, store, folder); err != nil {
		return fail(err)
	}
	if strings.HasPrefix(strings.ToLower(folder), "mlflow-artifacts:") && store.artifactsBase() == nil {
		return fail(fmt.Errorf("version %s is stored at %s, which only a tracking server serves; set %s to that server", mv.Version, untrusted.Quote(folder), envTrackingURI))
	}
	if strings.HasPrefix(strings.ToLower(defaults.LabelsURI), "runs:/") {
		if defaults.LabelsURI, err = resolveRunsURI(ctx, store, defaults.LabelsURI); err != nil {
			return fail(err)
		}
	}
	mlmodel, err := Resolve(ctx, childURI(folder, "MLmodel"), base)
	if err != nil {
		return fail(fmt.Errorf("version %s (%s): %w", mv.Version, untrusted.Quote(folder), err))
	}
	data, err := readSmall(ctx, mlmodel)
	if err != nil {
		return fail(fmt.Errorf("version %s: %w", mv.Version, err))
	}
	rel, err := mlmodelFile(data, defaults.Flavor)
	if err != nil {
		return fail(fmt.Errorf("version %s: %s: %w", mv.Version, mlmodel.Location(), err))
	}
	art, err := Resolve(ctx, childURI(folder, rel), base)
	if err != nil {
		return fail(fmt.Errorf("version %s: %w", mv.Version, err))
	}
	d := &mlflowModel{Artifact: art, defaults: defaults}
	if _, ok := art.(Remote); ok {
		return &mlflowRemoteModel{*d}, nil
	}
	return d, nil
}

// mlflowModel is a registered model's file, described by its run's and
// version's tags. Its Location is the file's own (a path, s3://...,
// mlflow-artifacts:/...), which a later process resolves without the
// registry.
type mlflowModel struct {
	model.Artifact
	defaults model.SpecDefaults
}

func (m *mlflowModel) SpecDefaults() model.SpecDefaults { return m.defaults }

// mlflowRemoteModel is an mlflowModel whose file the engine downloads
// into the artifact cache.
type mlflowRemoteModel struct{ mlflowModel }

func (*mlflowRemoteModel) Remote() {}

// selectVersion finds the model version ref names.
func selectVersion(ctx context.Context, store mlflowStore, ref mlflowRef) (*modelVersion, error) {
	noSuch := func(err error) error {
		var ns *errNoSuch
		if errors.As(err, &ns) {
			return fmt.Errorf("MLflow has no %s of model %s in %s (%s)", ref.what(), untrusted.Quote(ref.name), store, untrusted.Clean(oneLine(ns.msg)))
		}
		return err
	}
	switch {
	case ref.version != "":
		mv, err := store.version(ctx, ref.name, ref.version)
		return mv, noSuch(err)
	case ref.alias != "":
		mv, err := store.alias(ctx, ref.name, ref.alias)
		return mv, noSuch(err)
	}
	if err := store.registeredModel(ctx, ref.name); err != nil {
		var ns *errNoSuch
		if errors.As(err, &ns) {
			return nil, fmt.Errorf("MLflow has no registered model %s in %s", untrusted.Quote(ref.name), store)
		}
		return nil, err
	}
	all, err := store.versions(ctx, ref.name)
	if err != nil {
		return nil, err
	}
	var best *modelVersion
	bestN := int64(0)
	for i := range all {
		mv := &all[i]
		if mv.Status != "" && !strings.EqualFold(mv.Status, "READY") {
			continue
		}
		if ref.stage != "" && !strings.EqualFold(stageOf(mv), ref.stage) {
			continue
		}
		n, err := strconv.ParseInt(mv.Version, 10, 64)
		if err != nil {
			continue
		}
		if best == nil || n > bestN {
			best, bestN = mv, n
		}
	}
	if best == nil {
		if ref.stage != "" {
			return nil, fmt.Errorf("model %s has no version in stage %s in %s", untrusted.Quote(ref.name), ref.stage, store)
		}
		return nil, fmt.Errorf("model %s has no version ready in %s", untrusted.Quote(ref.name), store)
	}
	return best, nil
}

func stageOf(mv *modelVersion) string {
	if mv.CurrentStage == "" {
		return "None"
	}
	return mv.CurrentStage
}

// describeVersion reads what the run's (then the version's) tags and the
// run's params say about the model.
func describeVersion(ctx context.Context, store mlflowStore, mv *modelVersion) (model.SpecDefaults, error) {
	def := model.SpecDefaults{FlavorHint: mlflowFlavorHint, Options: map[string]string{}}
	tags := map[string]string{}
	if mv.RunID != "" {
		run, err := store.run(ctx, mv.RunID)
		if err != nil {
			var ns *errNoSuch
			if errors.As(err, &ns) {
				return def, fmt.Errorf("version %s names run %s, which %s does not have", mv.Version, untrusted.Quote(mv.RunID), store)
			}
			return def, err
		}
		for _, p := range run.Data.Params {
			def.Options[p.Key] = p.Value
		}
		for _, t := range run.Data.Tags {
			tags[t.Key] = t.Value
		}
	}
	for _, t := range mv.Tags {
		tags[t.Key] = t.Value
	}
	for k, v := range tags {
		if opt, ok := strings.CutPrefix(k, tagOptionPfx); ok && opt != "" {
			def.Options[strings.ToLower(opt)] = v
		}
	}
	if v := strings.TrimSpace(tags[tagSpecVersion]); v != "" {
		if major, _, _ := strings.Cut(v, "."); major != "1" {
			return def, fmt.Errorf("version %s: tag %s is %s; augur reads spec version 1.x", mv.Version, tagSpecVersion, untrusted.Quote(v))
		}
	}
	def.Flavor = strings.TrimSpace(tags[tagFlavor])
	def.ModelType = strings.TrimSpace(tags[tagModelType])
	def.Schema = strings.TrimSpace(tags[tagSchema])
	def.LabelsURI = strings.TrimSpace(tags[tagLabelURI])
	return def, nil
}

// resolveRunsURI turns runs:/<run_id>/<path> into the run's artifact
// location; any other URI is returned as is.
func resolveRunsURI(ctx context.Context, store mlflowStore, uri string) (string, error) {
	rest, ok := cutPrefixFold(uri, "runs:")
	if !ok {
		return uri, nil
	}
	rest = strings.TrimLeft(rest, "/")
	id, p, _ := strings.Cut(rest, "/")
	if id == "" {
		return "", fmt.Errorf("%s names no run", untrusted.Quote(uri))
	}
	run, err := store.run(ctx, id)
	if err != nil {
		var ns *errNoSuch
		if errors.As(err, &ns) {
			return "", fmt.Errorf("%s names run %s, which %s does not have", untrusted.Quote(uri), untrusted.Quote(id), store)
		}
		return "", err
	}
	if run.Info.ArtifactURI == "" {
		return "", fmt.Errorf("run %s has no artifact_uri", untrusted.Quote(id))
	}
	if p == "" {
		return run.Info.ArtifactURI, nil
	}
	return childURI(run.Info.ArtifactURI, p), nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// childURI is the file rel (slash-separated) inside the folder a path or
// URI names; a URI's query (s3://b/k?region=x) stays at the end.
func childURI(folder, rel string) string {
	if SchemeOf(folder) == "" {
		return filepath.Join(folder, filepath.FromSlash(rel))
	}
	query := ""
	if i := strings.IndexAny(folder, "?#"); i >= 0 {
		folder, query = folder[:i], folder[i:]
	}
	return strings.TrimRight(folder, "/") + "/" + rel + query
}

// readSmall reads an artifact of at most maxMLmodelBytes.
func readSmall(ctx context.Context, art model.Artifact) ([]byte, error) {
	rc, err := art.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxMLmodelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", art.Location(), err)
	}
	if len(data) > maxMLmodelBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", art.Location(), maxMLmodelBytes>>20)
	}
	return data, nil
}

// mlmodelFile reads an MLmodel file and returns the model file of the
// flavor (when flavor is "": the first of sklearn, onnx, pytorch it has,
// else its only flavor that names its data),
// relative to the model's folder: sklearn's pickled_model (model.pkl),
// onnx's data (model.onnx), pytorch's model_data folder's model.pth; any
// other flavor's data.
func mlmodelFile(data []byte, flavor string) (string, error) {
	var mm struct {
		Flavors map[string]map[string]any `yaml:"flavors"`
	}
	if err := yaml.Unmarshal(data, &mm); err != nil {
		return "", fmt.Errorf("not an MLmodel file (%s)", untrusted.Clean(oneLine(err.Error())))
	}
	if len(mm.Flavors) == 0 {
		return "", errors.New("the MLmodel file lists no flavors")
	}
	str := func(f map[string]any, key string) string {
		s, _ := f[key].(string)
		return s
	}
	pick := func(name string) (string, bool) {
		f, ok := mm.Flavors[name]
		if !ok {
			return "", false
		}
		var rel string
		switch name {
		case "sklearn":
			if rel = str(f, "pickled_model"); rel == "" {
				rel = "model.pkl"
			}
		case "onnx":
			if rel = str(f, "data"); rel == "" {
				rel = "model.onnx"
			}
		case "pytorch":
			dir := str(f, "model_data")
			if dir == "" {
				dir = "data"
			}
			rel = path.Join(dir, "model.pth")
		default:
			rel = str(f, "data")
		}
		return rel, rel != ""
	}
	var rel string
	if flavor != "" {
		r, ok := pick(flavor)
		if !ok {
			return "", fmt.Errorf("the model is tagged flavor %s, but the MLmodel file has no %s model file (its flavors: %s)", untrusted.Quote(flavor), untrusted.Quote(flavor), flavorNames(mm.Flavors))
		}
		rel = r
	} else {
		for _, name := range []string{"sklearn", "onnx", "pytorch"} {
			if r, ok := pick(name); ok {
				rel = r
				break
			}
		}
		if rel == "" { // else the one other flavor that names its data
			var found []string
			for name := range mm.Flavors {
				if r, ok := pick(name); ok {
					found = append(found, r)
				}
			}
			if len(found) != 1 {
				return "", fmt.Errorf("no sklearn, onnx or pytorch model in the MLmodel file (its flavors: %s)", flavorNames(mm.Flavors))
			}
			rel = found[0]
		}
	}
	clean := path.Clean(rel)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(rel, "\\") {
		return "", fmt.Errorf("the model file %s lies outside the model's folder", untrusted.Quote(rel))
	}
	return clean, nil
}

func flavorNames(m map[string]map[string]any) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, untrusted.Clean(k))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
