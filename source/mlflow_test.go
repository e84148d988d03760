package source

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/augurdb/augur/model"
)

// The fake tracking server below answers as MLflow 2.x's REST API
// reference documents (https://mlflow.org/docs/2.22.0/rest-api.html):
// GET /api/2.0/mlflow/registered-models/get, model-versions/search,
// model-versions/get, registered-models/alias, runs/get,
// model-versions/get-download-uri, and the artifact proxy
// /api/2.0/mlflow-artifacts/artifacts/<path>; errors are HTTP 404 with
// {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...}; JSON omits
// empty lists, as MLflow's protobuf-to-JSON does.

type fakeVersion struct {
	Version string
	Stage   string
	RunID   string
	Aliases []string
	Tags    map[string]string
}

type fakeRun struct {
	Tags   map[string]string
	Params map[string]string
}

type fakeMLflow struct {
	mu     sync.Mutex
	token  string
	models map[string][]fakeVersion
	runs   map[string]fakeRun
	files  map[string][]byte // artifact path (below mlflow-artifacts:/) -> bytes
	hits   map[string]int
}

func kvs(m map[string]string) []map[string]string {
	var out []map[string]string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, map[string]string{"key": k, "value": m[k]})
	}
	return out
}

func (f *fakeMLflow) versionJSON(name string, v fakeVersion) map[string]any {
	out := map[string]any{
		"name": name, "version": v.Version, "creation_timestamp": 1700000000000 + len(v.Version),
		"last_updated_timestamp": 1700000000000, "current_stage": v.Stage,
		"source": "mlflow-artifacts:/0/" + v.RunID + "/artifacts/model", "run_id": v.RunID,
		"status": "READY",
	}
	if len(v.Tags) > 0 {
		out["tags"] = kvs(v.Tags)
	}
	if len(v.Aliases) > 0 {
		out["aliases"] = v.Aliases
	}
	return out
}

func mlflowNotFound(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	json.NewEncoder(w).Encode(map[string]string{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": msg})
}

func (f *fakeMLflow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[r.URL.Path]++
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html")
		return
	}
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	findVersion := func(name, version string) (fakeVersion, bool) {
		for _, v := range f.models[name] {
			if v.Version == version {
				return v, true
			}
		}
		return fakeVersion{}, false
	}
	if p, ok := strings.CutPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/"); ok {
		b, ok := f.files[p]
		if !ok {
			mlflowNotFound(w, "File not found: "+p)
			return
		}
		w.Write(b)
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/api/2.0/mlflow/") {
	case "registered-models/get":
		name := q.Get("name")
		vs, ok := f.models[name]
		if !ok {
			mlflowNotFound(w, fmt.Sprintf("Registered Model with name=%s not found", name))
			return
		}
		rm := map[string]any{"name": name, "creation_timestamp": 1700000000000, "last_updated_timestamp": 1700000000000}
		latest := map[string]fakeVersion{}
		var aliases []map[string]string
		for _, v := range vs {
			if n, _ := strconv.Atoi(v.Version); latest[v.Stage].Version == "" || n > atoi(latest[v.Stage].Version) {
				latest[v.Stage] = v
			}
			for _, a := range v.Aliases {
				aliases = append(aliases, map[string]string{"alias": a, "version": v.Version})
			}
		}
		var lv []map[string]any
		for _, v := range latest {
			lv = append(lv, f.versionJSON(name, v))
		}
		if len(lv) > 0 {
			rm["latest_versions"] = lv
		}
		if len(aliases) > 0 {
			rm["aliases"] = aliases
		}
		reply(map[string]any{"registered_model": rm})
	case "model-versions/search":
		filter := q.Get("filter")
		name, ok := strings.CutPrefix(filter, "name='")
		if !ok || !strings.HasSuffix(name, "'") {
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]string{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad filter " + filter})
			return
		}
		name = strings.TrimSuffix(name, "'")
		vs := f.models[name]
		// two per page, so that next_page_token is followed
		start := atoi(q.Get("page_token"))
		end := min(start+2, len(vs))
		out := map[string]any{}
		var page []map[string]any
		for _, v := range vs[start:end] {
			page = append(page, f.versionJSON(name, v))
		}
		if len(page) > 0 {
			out["model_versions"] = page
		}
		if end < len(vs) {
			out["next_page_token"] = strconv.Itoa(end)
		}
		reply(out)
	case "model-versions/get":
		v, ok := findVersion(q.Get("name"), q.Get("version"))
		if !ok {
			mlflowNotFound(w, fmt.Sprintf("Model Version (name=%s, version=%s) not found", q.Get("name"), q.Get("version")))
			return
		}
		reply(map[string]any{"model_version": f.versionJSON(q.Get("name"), v)})
	case "registered-models/alias":
		for _, v := range f.models[q.Get("name")] {
			for _, a := range v.Aliases {
				if a == q.Get("alias") {
					reply(map[string]any{"model_version": f.versionJSON(q.Get("name"), v)})
					return
				}
			}
		}
		mlflowNotFound(w, fmt.Sprintf("Registered model alias %s not found.", q.Get("alias")))
	case "model-versions/get-download-uri":
		v, ok := findVersion(q.Get("name"), q.Get("version"))
		if !ok {
			mlflowNotFound(w, fmt.Sprintf("Model Version (name=%s, version=%s) not found", q.Get("name"), q.Get("version")))
			return
		}
		reply(map[string]string{"artifact_uri": "mlflow-artifacts:/0/" + v.RunID + "/artifacts/model"})
	case "runs/get":
		id := q.Get("run_id")
		run, ok := f.runs[id]
		if !ok {
			mlflowNotFound(w, fmt.Sprintf("Run '%s' not found", id))
			return
		}
		data := map[string]any{}
		if len(run.Params) > 0 {
			data["params"] = kvs(run.Params)
		}
		if len(run.Tags) > 0 {
			data["tags"] = kvs(run.Tags)
		}
		reply(map[string]any{"run": map[string]any{
			"info": map[string]any{
				"run_id": id, "run_uuid": id, "run_name": "run-" + id, "experiment_id": "0",
				"user_id": "me", "status": "FINISHED", "start_time": 1700000000000, "end_time": 1700000001000,
				"artifact_uri": "mlflow-artifacts:/0/" + id + "/artifacts", "lifecycle_stage": "active",
			},
			"data": data,
		}})
	default:
		w.WriteHeader(http.StatusNotFound)
		reply(map[string]string{"error_code": "ENDPOINT_NOT_FOUND", "message": "No API route for " + r.URL.Path})
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// newFakeMLflow serves the model "iris": version 1 in None, 2 in
// Production (alias champion), 3 in Staging, 4 in Archived, 5 failing
// nothing but named only by a version tag's flavor; the model "bare"
// with a run that has no flavor tag.
func newFakeMLflow(t *testing.T) (*fakeMLflow, *httptest.Server) {
	f := &fakeMLflow{
		token: "s3cr3t-token",
		models: map[string][]fakeVersion{
			"iris": {
				{Version: "1", Stage: "None", RunID: "r1"},
				{Version: "2", Stage: "Production", RunID: "r2", Aliases: []string{"champion"}},
				{Version: "3", Stage: "Staging", RunID: "r3"},
				{Version: "4", Stage: "Archived", RunID: "r4", Tags: map[string]string{"rikai.model.type": "label"}},
			},
			"bare":  {{Version: "1", Stage: "None", RunID: "rb"}},
			"empty": nil,
		},
		runs:  map[string]fakeRun{},
		files: map[string][]byte{},
		hits:  map[string]int{},
	}
	for _, id := range []string{"r1", "r2", "r3", "r4", "rb"} {
		tags := map[string]string{
			"rikai.spec.version": "1.0", "rikai.model.flavor": "test", "rikai.model.type": "sum",
			"rikai.output.schema": "double", "rikai.option.Scale_Hint": id, "mlflow.runName": "run-" + id,
		}
		if id == "rb" {
			tags = map[string]string{"mlflow.runName": "bare"}
		}
		f.runs[id] = fakeRun{Tags: tags, Params: map[string]string{"batch_size": "8", "run": id}}
		f.files["0/"+id+"/artifacts/model/MLmodel"] = []byte("artifact_path: model\nflavors:\n  test:\n    data: model.testmodel\n  python_function:\n    loader_module: none\nrun_id: " + id + "\n")
		f.files["0/"+id+"/artifacts/model/model.testmodel"] = []byte(`{"scale": ` + id[1:] + `}`)
	}
	f.files["0/rb/artifacts/model/model.testmodel"] = []byte(`{"scale": 9}`)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv(envTrackingURI, srv.URL)
	t.Setenv(envTrackingToken, f.token)
	t.Setenv(envTrackingUser, "")
	t.Setenv(envTrackingPassword, "")
	return f, srv
}

func TestMLflowParseURI(t *testing.T) {
	good := map[string]mlflowRef{
		"mlflow:/iris":             {name: "iris"},
		"mlflow:///iris":           {name: "iris"},
		"mlflow://iris":            {name: "iris"},
		"MLflow:/iris":             {name: "iris"},
		"mlflow:/iris/3":           {name: "iris", version: "3"},
		"mlflow:///iris/007":       {name: "iris", version: "7"},
		"mlflow://iris/12":         {name: "iris", version: "12"},
		"mlflow:/iris/production":  {name: "iris", stage: "Production"},
		"mlflow:/iris/STAGING":     {name: "iris", stage: "Staging"},
		"mlflow://iris/None":       {name: "iris", stage: "None"},
		"mlflow:///iris/archived":  {name: "iris", stage: "Archived"},
		"mlflow:/iris/latest":      {name: "iris"},
		"mlflow:/iris@champion":    {name: "iris", alias: "champion"},
		"mlflow://iris@champion":   {name: "iris", alias: "champion"},
		"mlflow:///iris@champion":  {name: "iris", alias: "champion"},
		"mlflow:/my%20model/2":     {name: "my model", version: "2"},
		"mlflow:/team.model_v2-x":  {name: "team.model_v2-x"},
		"mlflow:/a@b@c":            {name: "a@b", alias: "c"},
		"mlflow:/iris@prod-2025_a": {name: "iris", alias: "prod-2025_a"},
	}
	for uri, want := range good {
		got, err := parseMLflowURI(uri)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", uri, got, err, want)
		}
	}
	bad := map[string]string{
		"mlflow:iris":           "must follow mlflow:/",
		"mlflow:":               "must follow mlflow:/",
		"mlflow:/":              "no model name",
		"mlflow:///":            "no model name",
		"mlflow:////iris":       "too many slashes",
		"mlflow:/iris/":         "nothing after",
		"mlflow:/iris/1/2":      "more than one part",
		"mlflow:/iris/prod":     "neither a version number nor a stage",
		"mlflow:/iris/0":        "versions count from 1",
		"mlflow:/iris@":         "no alias",
		"mlflow:/iris@a/1":      "alias cannot be followed",
		"mlflow:/@champion":     "no model name",
		"mlflow:/iris?x=1":      "query or fragment",
		"mlflow:/iris#frag":     "query or fragment",
		"mlflow:/ir%zzis":       "%-escape",
		"mlflow:/iris/1/../etc": "more than one part",
	}
	for uri, want := range bad {
		_, err := parseMLflowURI(uri)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), uri) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming the URI and %q", uri, err, want)
		}
	}
}

func resolveMLflow(t *testing.T, uri string) (model.Artifact, error) {
	t.Helper()
	return Resolve(context.Background(), uri, t.TempDir())
}

func TestMLflowSelectVersion(t *testing.T) {
	f, srv := newFakeMLflow(t)
	cases := map[string]string{ // URI -> run of the version chosen
		"mlflow:/iris":            "r4", // the highest version, whatever its stage
		"mlflow://iris":           "r4",
		"mlflow:///iris/latest":   "r4",
		"mlflow:/iris/1":          "r1",
		"mlflow:/iris/none":       "r1",
		"mlflow:/iris/Production": "r2",
		"mlflow://iris/staging":   "r3",
		"mlflow:/iris/ARCHIVED":   "r4",
		"mlflow:/iris@champion":   "r2",
	}
	for uri, run := range cases {
		art, err := resolveMLflow(t, uri)
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		want := "mlflow-artifacts:/0/" + run + "/artifacts/model/model.testmodel"
		if art.Location() != want {
			t.Errorf("%s: location %s, want %s", uri, art.Location(), want)
		}
		if _, ok := art.(Remote); !ok {
			t.Errorf("%s: a proxied artifact must be Remote", uri)
		}
		d, ok := art.(model.Described)
		if !ok {
			t.Fatalf("%s: not model.Described", uri)
		}
		def := d.SpecDefaults()
		wantType := "sum"
		if run == "r4" {
			wantType = "label" // the version's tag wins over the run's
		}
		wantDef := model.SpecDefaults{
			Flavor: "test", ModelType: wantType, Schema: "double", FlavorHint: mlflowFlavorHint,
			Options: map[string]string{"batch_size": "8", "run": run, "scale_hint": run},
		}
		if !reflect.DeepEqual(def, wantDef) {
			t.Errorf("%s: defaults %+v, want %+v", uri, def, wantDef)
		}
	}
	// the artifact downloads through the proxy, with the token
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	art, err := resolveMLflow(t, "mlflow:/iris/2")
	if err != nil {
		t.Fatal(err)
	}
	local, sha, err := Fetch(context.Background(), art.(Remote))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := local.LocalPath()
	if b, _ := os.ReadFile(p); string(b) != `{"scale": 2}` || len(sha) != 64 {
		t.Errorf("fetched %q, sha %s", b, sha)
	}
	// a later process resolves the recorded location alone
	again, err := Resolve(context.Background(), art.Location(), "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.(model.Described); ok {
		t.Errorf("the recorded location must resolve to the plain file")
	}
	if _, ok := again.(Remote); !ok {
		t.Errorf("the recorded location must resolve to a remote file")
	}
	f.mu.Lock()
	f.token = "other"
	f.mu.Unlock()
	_, err = resolveMLflow(t, "mlflow:/iris")
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), envTrackingToken) {
		t.Errorf("wrong token: %v", err)
	}
	rc, err := again.Open(context.Background())
	if err == nil {
		rc.Close()
		t.Errorf("download with the wrong token succeeded")
	} else if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error shows the token: %v", err)
	}
	_ = srv
}

func TestMLflowErrors(t *testing.T) {
	_, srv := newFakeMLflow(t)
	cases := map[string][]string{
		"mlflow:/nosuch":          {"no registered model", `"nosuch"`},
		"mlflow:/nosuch/2":        {"no version 2 of model", "not found"},
		"mlflow:/iris/9":          {"no version 9 of model", "Model Version (name=iris, version=9) not found"},
		"mlflow:/iris@gone":       {`no alias "gone" of model`},
		"mlflow:/empty":           {"has no version ready"},
		"mlflow:/empty/staging":   {"no version in stage Staging"},
		"mlflow:/iris/prod":       {"neither a version number nor a stage"},
		"mlflow:/nosuch@champion": {"no alias"},
	}
	for uri, wants := range cases {
		_, err := resolveMLflow(t, uri)
		if err == nil {
			t.Errorf("%s: no error", uri)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, uri) || strings.Contains(msg, "\n") || strings.Contains(msg, "s3cr3t") {
			t.Errorf("%s: %q is not one line naming the URI without secrets", uri, msg)
		}
		for _, w := range wants {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", uri, msg, w)
			}
		}
	}
	// a run without a flavor tag: described without a flavor, with the hint
	art, err := resolveMLflow(t, "mlflow:/bare")
	if err != nil {
		t.Fatal(err)
	}
	if def := art.(model.Described).SpecDefaults(); def.Flavor != "" || !strings.Contains(def.FlavorHint, "rikai.model.flavor") {
		t.Errorf("bare: %+v", def)
	}
	// the tracking server's address and credentials
	t.Setenv(envTrackingURI, "")
	if _, err := resolveMLflow(t, "mlflow:/iris"); err == nil || !strings.Contains(err.Error(), "no MLflow tracking server") || !strings.Contains(err.Error(), envTrackingURI) {
		t.Errorf("no tracking URI: %v", err)
	}
	t.Setenv(envTrackingURI, "sqlite:///mlflow.db")
	if _, err := resolveMLflow(t, "mlflow:/iris"); err == nil || !strings.Contains(err.Error(), "REST API") {
		t.Errorf("sqlite tracking URI: %v", err)
	}
	t.Setenv(envTrackingURI, strings.Replace(srv.URL, "http://", "http://me:pw-secret@", 1))
	t.Setenv(envTrackingToken, "")
	if _, err := resolveMLflow(t, "mlflow:/iris"); err == nil || strings.Contains(err.Error(), "pw-secret") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("basic auth: %v", err)
	}
	t.Setenv(envTrackingURI, "http://127.0.0.1:1")
	if _, err := resolveMLflow(t, "mlflow:/iris"); err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), "mlflow:/iris") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestMLflowBasicAuth(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got = u + ":" + p
		mlflowNotFound(w, "Registered Model with name=x not found")
	}))
	defer srv.Close()
	t.Setenv(envTrackingURI, srv.URL)
	t.Setenv(envTrackingToken, "")
	t.Setenv(envTrackingUser, "alice")
	t.Setenv(envTrackingPassword, "pw-secret")
	_, err := resolveMLflow(t, "mlflow:/x")
	if got != "alice:pw-secret" || err == nil || strings.Contains(err.Error(), "pw-secret") {
		t.Errorf("basic auth sent %q; error %v", got, err)
	}
}

// writeFileStore lays out a folder as MLflow 2.x's FileStore writes it
// (mlflow.sklearn.log_model(..., registered_model_name="wine") twice,
// then a stage transition and an alias).
func writeFileStore(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "mlruns")
	w := func(p, content string) {
		p = filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w("0/meta.yaml", "artifact_location: file://"+root+"/0\ncreation_time: 1700000000000\nexperiment_id: '0'\nlast_update_time: 1700000000000\nlifecycle_stage: active\nname: Default\n")
	for i, id := range []string{"aaa111", "bbb222"} {
		run := "0/" + id
		w(run+"/meta.yaml", "artifact_uri: file://"+root+"/0/"+id+"/artifacts\nend_time: 1700000001000\nentry_point_name: ''\nexperiment_id: '0'\nlifecycle_stage: active\nrun_id: "+id+"\nrun_name: run"+id+"\nrun_uuid: "+id+"\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 3\ntags: []\nuser_id: me\n")
		w(run+"/tags/mlflow.runName", "run"+id)
		w(run+"/tags/mlflow.log-model.history", `[{"artifact_path": "model"}]`)
		w(run+"/tags/rikai.model.flavor", "sklearn")
		w(run+"/tags/rikai.model.type", "classifier")
		w(run+"/tags/rikai.option.Threshold", "0.5")
		w(run+"/params/max_depth", strconv.Itoa(3+i))
		w(run+"/artifacts/model/MLmodel", "artifact_path: model\nflavors:\n  python_function:\n    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    predict_fn: predict\n    python_version: 3.11.4\n  sklearn:\n    code: null\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n    sklearn_version: 1.3.0\nmlflow_version: 2.9.2\nmodel_uuid: 0123\nrun_id: "+id+"\nutc_time_created: '2023-11-14 22:13:20.000000'\n")
		w(run+"/artifacts/model/model.pkl", "pickle-"+id)
		v := strconv.Itoa(i + 1)
		stage := []string{"None", "Production"}[i]
		w("models/wine/version-"+v+"/meta.yaml", "creation_timestamp: 1700000000000\ncurrent_stage: "+stage+"\ndescription: ''\nlast_updated_timestamp: 1700000000000\nname: wine\nrun_id: "+id+"\nrun_link: ''\nsource: file://"+root+"/0/"+id+"/artifacts/model\nstatus: READY\nstatus_message: null\nuser_id: null\nversion: "+v+"\n")
		w("models/wine/version-"+v+"/tags/note", "v"+v)
	}
	w("models/wine/meta.yaml", "creation_timestamp: 1700000000000\ndescription: null\nlast_updated_timestamp: 1700000000000\nname: wine\n")
	w("models/wine/aliases/champion", "1")
	return root
}

func TestMLflowFileStore(t *testing.T) {
	root := writeFileStore(t)
	for _, tracking := range []string{"file://" + root, root} {
		t.Setenv(envTrackingURI, tracking)
		for uri, run := range map[string]string{
			"mlflow:/wine": "bbb222", "mlflow:/wine/1": "aaa111", "mlflow://wine/production": "bbb222",
			"mlflow:///wine/None": "aaa111", "mlflow:/wine@champion": "aaa111",
		} {
			art, err := resolveMLflow(t, uri)
			if err != nil {
				t.Errorf("%s: %v", uri, err)
				continue
			}
			want := filepath.Join(root, "0", run, "artifacts", "model", "model.pkl")
			if p, ok := art.LocalPath(); art.Location() != want || !ok || p != want {
				t.Errorf("%s: location %s, want %s", uri, art.Location(), want)
			}
			if _, ok := art.(Remote); ok {
				t.Errorf("%s: a local file must not be Remote", uri)
			}
			def := art.(model.Described).SpecDefaults()
			depth := map[string]string{"aaa111": "3", "bbb222": "4"}[run]
			if def.Flavor != "sklearn" || def.ModelType != "classifier" || !reflect.DeepEqual(def.Options, map[string]string{"max_depth": depth, "threshold": "0.5"}) {
				t.Errorf("%s: %+v", uri, def)
			}
		}
	}
	for uri, want := range map[string]string{
		"mlflow:/red":             "no registered model",
		"mlflow:/wine/7":          "no version 7",
		"mlflow:/wine/staging":    "no version in stage Staging",
		"mlflow:/wine@none":       `no alias "none"`,
		"mlflow:/..%2fetc":        "cannot be in a file store",
		"mlflow:/wine@..%2f..%2f": `no alias`,
	} {
		if _, err := resolveMLflow(t, uri); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), uri) {
			t.Errorf("%s: %v, want %q", uri, err, want)
		}
	}
	t.Setenv(envTrackingURI, filepath.Join(root, "nothere"))
	if _, err := resolveMLflow(t, "mlflow:/wine"); err == nil || !strings.Contains(err.Error(), "no MLflow file store") {
		t.Errorf("missing store: %v", err)
	}
}

func TestMLflowMLmodelFile(t *testing.T) {
	cases := []struct{ mlmodel, flavor, want string }{
		{"flavors:\n  sklearn:\n    pickled_model: model.pkl\n", "sklearn", "model.pkl"},
		{"flavors:\n  sklearn: {}\n", "", "model.pkl"},
		{"flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.14.0\n", "onnx", "model.onnx"},
		{"flavors:\n  pytorch:\n    model_data: data\n    pytorch_version: 2.1.0\n", "pytorch", "data/model.pth"},
		{"flavors:\n  python_function: {}\n  pytorch:\n    model_data: data\n", "", "data/model.pth"},
		{"flavors:\n  test:\n    data: ./sub/m.testmodel\n", "test", "sub/m.testmodel"},
	}
	for _, c := range cases {
		got, err := mlmodelFile([]byte(c.mlmodel), c.flavor)
		if err != nil || got != c.want {
			t.Errorf("%q %s: %s, %v; want %s", c.mlmodel, c.flavor, got, err, c.want)
		}
	}
	bad := []struct{ mlmodel, flavor, want string }{
		{"flavors:\n  sklearn: {}\n", "onnx", "has no \"onnx\" model file (its flavors: sklearn)"},
		{"flavors:\n  python_function: {}\n", "", "no sklearn, onnx or pytorch model"},
		{"artifact_path: model\n", "", "lists no flavors"},
		{"flavors:\n  onnx:\n    data: ../../etc/passwd\n", "onnx", "outside the model's folder"},
		{"flavors:\n  onnx:\n    data: /etc/passwd\n", "onnx", "outside the model's folder"},
		{"\t- not yaml: [", "", "not an MLmodel file"},
	}
	for _, c := range bad {
		if _, err := mlmodelFile([]byte(c.mlmodel), c.flavor); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.mlmodel, err, c.want)
		}
	}
}
