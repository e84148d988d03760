package pytorch

// Trusted code: models that only load by running their own Python code.
// A .pth/.pt file of a custom nn.Module (OPTIONS module = 'pkg.mod:Class')
// and a TorchHub model of another repository than pytorch/vision (its
// hubconf.py) are refused unless CREATE MODEL says OPTIONS (trust_code =
// true). Then a helper process, helper/export_onnx.py embedded in augur
// and run by a local Python with torch (AUGUR_PYTHON, default
// /usr/bin/python3), loads the model once and exports it to ONNX into the
// cache; augur runs that file as an ONNX model of MODEL_TYPE. A second
// CREATE of the same thing reuses the entry without starting Python.

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/source"
)

//go:embed helper/export_onnx.py
var helperScript []byte

// helperSHA is the helper script's sha256: part of every entry's key, so
// a changed helper exports again.
var helperSHA = func() string { s := sha256.Sum256(helperScript); return hex.EncodeToString(s[:]) }()

// defaultPython is AUGUR_PYTHON's default.
const defaultPython = "/usr/bin/python3"

// defaultHelperTimeout bounds one export; AUGUR_TRUST_TIMEOUT overrides it.
const defaultHelperTimeout = 10 * time.Minute

// installHint says how to get a Python with torch.
const installHint = "apt-get install python3-torch python3-torchvision, or pip install torch torchvision"

// trustedMagic ends every complete entry exported by the helper (the
// record is laid out as cache.go's, with this magic and trustedInfo).
const trustedMagic = "AUGURPTX"

// trustedInfo is what an exported entry's trailing record says, shown in
// augur_models().details.
type trustedInfo struct {
	Weights    string          `json:"-"` // per CREATE, as cacheInfo's
	SHA256     string          `json:"sha256,omitempty"`
	Module     string          `json:"module,omitempty"`
	Hub        string          `json:"hub,omitempty"`
	HubDir     string          `json:"hub_dir,omitempty"`
	Form       string          `json:"form"`
	Torch      string          `json:"torch"`
	InputShape []int64         `json:"input_shape"`
	Outputs    []trustedOutput `json:"outputs"`
	Helper     string          `json:"helper"`
}

type trustedOutput struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
}

// option reads an OPTIONS key case-insensitively.
func option(spec *model.Spec, key string) (string, bool) {
	for k, v := range spec.Options {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// wantsTrusted reports whether a .pth/.pt file goes through the trusted
// path (OPTIONS module or trust_code given) rather than the binding.
func wantsTrusted(spec *model.Spec) bool {
	_, m := option(spec, "module")
	_, t := option(spec, "trust_code")
	return m || t
}

// trustCode reads OPTIONS trust_code: true or false, nothing else.
func trustCode(spec *model.Spec) (bool, error) {
	v, ok := option(spec, "trust_code")
	if !ok {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("OPTIONS trust_code must be true or false, got %s", untrusted.Quote(v))
}

// optInHow is how the refusals say to opt in.
const optInHow = "give OPTIONS (trust_code = true) to run it: a local Python with torch (AUGUR_PYTHON, default " + defaultPython +
	") then loads the model once and exports it to ONNX into augur's cache; only do so for code you trust, as it runs with augur's rights"

// moduleRe is OPTIONS module: a dotted module name, optionally
// ':Class' (dotted too, for a nested class).
var moduleRe = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$`)

// loadTrustedModule loads a .pth/.pt file with OPTIONS module and/or
// trust_code: with module and trust_code = true, through the helper;
// module without trust_code is refused; trust_code alone binds the file
// as any .pth file.
func loadTrustedModule(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, error) {
	trust, err := trustCode(spec)
	if err != nil {
		return nil, err
	}
	mod, hasModule := option(spec, "module")
	path, local := art.LocalPath()
	if !local {
		return nil, fmt.Errorf("%s: augur reads PyTorch weights from local files only", art.Location())
	}
	if !hasModule {
		return loadWeights(ctx, spec, path)
	}
	mod = strings.TrimSpace(mod)
	if !moduleRe.MatchString(mod) {
		return nil, fmt.Errorf("OPTIONS module must be 'package.module:Class' (Python names), got %s", untrusted.Quote(mod))
	}
	if !trust {
		return nil, fmt.Errorf("%s: OPTIONS module = %s needs OPTIONS (trust_code = true): loading it imports and runs that Python code and unpickles the file with torch.load, which augur does not do by default; %s (or export the model to ONNX yourself with torch.onnx.export and use USING '<file>.onnx')",
			untrusted.Quote(path), untrusted.Quote(mod), optInHow)
	}
	lay, err := layoutOf(spec)
	if err != nil {
		return nil, err
	}
	paths, err := modulePaths(spec, path)
	if err != nil {
		return nil, err
	}
	sha, err := fileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("hash the weights: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	pkg, class, _ := strings.Cut(mod, ":")
	job := map[string]any{"kind": "module", "weights": abs, "module": pkg, "class": class, "path": paths}
	keyOf := func() map[string]any {
		return map[string]any{"weights": sha, "module": mod, "source": moduleSourceSHA(pkg, paths)}
	}
	info := trustedInfo{SHA256: sha, Module: mod}
	return loadExported(ctx, spec, lay, job, keyOf, info, path)
}

// loadTrustedHub loads a TorchHub model of another repository than
// pytorch/vision: refused without trust_code, else through the helper.
func loadTrustedHub(ctx context.Context, spec *model.Spec, th *source.TorchHub) (model.Model, error) {
	trust, err := trustCode(spec)
	if err != nil {
		return nil, err
	}
	if !trust {
		return nil, fmt.Errorf("USING %s: TorchHub repository %s would need its hubconf.py executed, and augur does not run hub code by default; %s, or export the model to ONNX (torch.onnx.export) and use USING '<file>.onnx' (only pytorch/vision models load from TorchHub URIs without running code)",
			untrusted.Quote(th.URI), untrusted.Quote(th.RepoOrDir()), optInHow)
	}
	lay, err := layoutOf(spec)
	if err != nil {
		return nil, err
	}
	hub, err := hubDir()
	if err != nil {
		return nil, err
	}
	if hubFolder(hub, th) == "" && offline() {
		return nil, fmt.Errorf("USING %s: the repository is not in the TorchHub folder %s (as %s) and AUGUR_OFFLINE forbids torch.hub from downloading it",
			untrusted.Quote(th.URI), hub, untrusted.Quote(hubFolderNames(th)[0]))
	}
	name := th.RepoOrDir() + "/" + th.Model
	job := map[string]any{"kind": "hub", "owner": th.Owner, "repo": th.Repo, "tag": th.Tag, "model": th.Model, "repo_or_dir": th.RepoOrDir()}
	keyOf := func() map[string]any {
		k := map[string]any{"hub": name}
		if d := hubFolder(hub, th); d != "" {
			k["hubconf"], _ = fileSHA256(filepath.Join(d, "hubconf.py"))
		}
		return k
	}
	return loadExported(ctx, spec, lay, job, keyOf, trustedInfo{Hub: name}, "")
}

// hubDir is torch.hub.get_dir(): the parent of the checkpoint folder.
func hubDir() (string, error) {
	d, err := checkpointDir()
	if err != nil {
		return "", err
	}
	return filepath.Dir(d), nil
}

// hubFolderNames are the folders torch.hub keeps a repository in:
// owner_repo_tag, or without a tag owner_repo_main, else _master.
func hubFolderNames(th *source.TorchHub) []string {
	refs := []string{th.Tag}
	if th.Tag == "" {
		refs = []string{"main", "master"}
	}
	var out []string
	for _, r := range refs {
		out = append(out, strings.Join([]string{th.Owner, th.Repo, strings.ReplaceAll(r, "/", "_")}, "_"))
	}
	return out
}

// hubFolder is the repository's folder under hub when it has a
// hubconf.py, else "".
func hubFolder(hub string, th *source.TorchHub) string {
	for _, n := range hubFolderNames(th) {
		d := filepath.Join(hub, n)
		if st, err := os.Stat(filepath.Join(d, "hubconf.py")); err == nil && st.Mode().IsRegular() {
			return d
		}
	}
	return ""
}

// layout is how the helper exports: the example input and output names.
type layout struct {
	modelType  string
	image      bool // [N,3,H,W], dynamic N, H, W
	classifier bool
	shape      []int64 // nil: derived by the helper
}

// trustedImageTypes are the model types a helper export may take, other
// than the generic one: classifiers and feature extractors of images.
var trustedImageTypes = func() map[string]bool {
	m := map[string]bool{"image_classifier": true, "feature_extractor": true, "resnet": true, "convnext": true}
	for _, n := range []string{"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large"} {
		m[n] = true
	}
	for i := 0; i <= 7; i++ {
		m["efficientnet_b"+strconv.Itoa(i)] = true
	}
	return m
}()

// layoutOf reads MODEL_TYPE and OPTIONS input_shape.
func layoutOf(spec *model.Spec) (layout, error) {
	mt := strings.ToLower(strings.TrimSpace(spec.ModelType))
	l := layout{modelType: mt}
	if mt != "" {
		if !trustedImageTypes[mt] {
			return l, fmt.Errorf("MODEL_TYPE %s is not one a model exported by the trusted helper can take: leave MODEL_TYPE out (the generic ONNX model, on rows of numbers), or give an image classifier's (resnet50, efficientnet_b0, convnext_tiny, image_classifier, ...) or feature_extractor; export a detector to ONNX yourself (see scripts/torchvision_export.py)", untrusted.Name(mt))
		}
		l.image, l.classifier = true, mt != "feature_extractor"
	}
	v, ok := option(spec, "input_shape")
	if !ok {
		if l.image {
			l.shape = []int64{1, 3, 224, 224}
		}
		return l, nil
	}
	s := strings.Trim(strings.TrimSpace(v), "[]()")
	total := int64(1)
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || n <= 0 || n > 1<<20 {
			return l, fmt.Errorf("OPTIONS input_shape must be a comma-separated list of positive sizes, batch first ('1,3,224,224'), got %s", untrusted.Quote(v))
		}
		total *= n
		if total > 1<<28 {
			return l, fmt.Errorf("OPTIONS input_shape %s is too large for an example input", untrusted.Quote(v))
		}
		l.shape = append(l.shape, n)
	}
	if len(l.shape) < 1 || len(l.shape) > 8 {
		return l, fmt.Errorf("OPTIONS input_shape must have 1 to 8 sizes, got %s", untrusted.Quote(v))
	}
	if l.image && (len(l.shape) != 4 || l.shape[1] != 3) {
		return l, fmt.Errorf("OPTIONS input_shape of an image model (MODEL_TYPE %s) must be N,3,H,W, got %s", untrusted.Name(mt), untrusted.Quote(v))
	}
	return l, nil
}

// modulePaths are the folders put first on the helper's sys.path:
// OPTIONS module_path (folders separated as in PATH), then the weights'
// folder.
func modulePaths(spec *model.Spec, weights string) ([]string, error) {
	var out []string
	if v, ok := option(spec, "module_path"); ok {
		for _, p := range filepath.SplitList(v) {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			if st, err := os.Stat(abs); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("OPTIONS module_path: %s is not a folder", untrusted.Quote(p))
			}
			out = append(out, abs)
		}
	}
	dir, err := filepath.Abs(filepath.Dir(weights))
	if err != nil {
		return nil, err
	}
	return append(out, dir), nil
}

// moduleSourceSHA hashes the module's file when it lies in one of the
// folders (pkg/mod.py or pkg/mod/__init__.py), so that changed code is a
// new cache entry; "" when it is elsewhere (an installed package).
func moduleSourceSHA(pkg string, paths []string) string {
	rel := filepath.Join(strings.Split(pkg, ".")...)
	for _, d := range paths {
		for _, f := range []string{filepath.Join(d, rel+".py"), filepath.Join(d, rel, "__init__.py")} {
			if sha, err := fileSHA256(f); err == nil {
				return sha
			}
		}
	}
	return ""
}

// entryKey names a helper export: the source (weights sha256 and module
// with its file's hash, or the hub model with its hubconf.py's hash), the
// example input, the layout and the helper script's hash.
func entryKey(src map[string]any, lay layout) string {
	k := map[string]any{"src": src, "shape": lay.shape, "image": lay.image, "classifier": lay.classifier, "helper": helperSHA}
	js, _ := json.Marshal(k) // maps marshal in key order
	s := sha256.Sum256(js)
	return hex.EncodeToString(s[:])
}

func trustedPath(dir, key string) string { return filepath.Join(dir, "trusted-"+key+".onnx") }

// loadExported finds the helper's export in the cache, or runs the
// helper to make it, and loads it as an ONNX model of MODEL_TYPE.
func loadExported(ctx context.Context, spec *model.Spec, lay layout, job map[string]any, keyOf func() map[string]any, info trustedInfo, weights string) (model.Model, error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	what := "module " + untrusted.Quote(info.Module)
	if info.Module == "" {
		what = "TorchHub model " + untrusted.Quote(info.Hub)
	}
	cp := trustedPath(dir, entryKey(keyOf(), lay))
	cached, ok := readTrusted(cp)
	if !ok {
		tmp, done, err := export(ctx, dir, lay, job, info)
		if err != nil {
			return nil, fmt.Errorf("trust_code: export %s to ONNX: %w", what, err)
		}
		// the key is taken again: torch.hub may have just downloaded the
		// repository whose hubconf.py is part of it
		cp = trustedPath(dir, entryKey(keyOf(), lay))
		if err := commitTrusted(tmp, cp); err != nil {
			return nil, err
		}
		cached = done
	}
	cached.Weights = weights
	run := *spec
	labels, err := optionLabels(spec)
	if err != nil {
		return nil, err
	}
	if labels != nil {
		run.Labels = labels
	}
	if lay.classifier && run.Labels == nil && len(cached.Outputs) == 1 && len(cached.Outputs[0].Shape) == 2 && cached.Outputs[0].Shape[1] != 1000 {
		run.Labels = make([]string, cached.Outputs[0].Shape[1]) // not ImageNet's: the class ids
		for i := range run.Labels {
			run.Labels[i] = strconv.Itoa(i)
		}
	}
	m, err := loadGraph(&run, cp, "")
	if err != nil {
		return nil, fmt.Errorf("%s (exported by the trusted helper into %s): %w", what, cp, err)
	}
	return wrapTrusted(m, cp, cached), nil
}

// export runs the helper in a temporary folder of the cache folder and
// returns that folder, where model.onnx is complete with its trailing
// record, and the entry's details. The folder is removed on failure.
func export(ctx context.Context, dir string, lay layout, job map[string]any, info trustedInfo) (string, trustedInfo, error) {
	python := os.Getenv("AUGUR_PYTHON")
	if python == "" {
		python = defaultPython
	}
	if _, err := exec.LookPath(python); err != nil {
		return "", info, fmt.Errorf("AUGUR_PYTHON %s: %v; trust_code = true needs a local Python with torch (%s), named by AUGUR_PYTHON (default %s)",
			untrusted.Quote(python), untrusted.Clean(err.Error()), installHint, defaultPython)
	}
	timeout := defaultHelperTimeout
	if v := os.Getenv("AUGUR_TRUST_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return "", info, fmt.Errorf("AUGUR_TRUST_TIMEOUT must be a positive duration (10m, 90s), got %s", untrusted.Quote(v))
		}
		timeout = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", info, fmt.Errorf("cache folder: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".export-*")
	if err != nil {
		return "", info, fmt.Errorf("cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	script := filepath.Join(tmp, "augur_export_onnx.py")
	job["out"] = filepath.Join(tmp, "model.onnx")
	job["result"] = filepath.Join(tmp, "result.json")
	if lay.shape != nil {
		job["input_shape"] = lay.shape
	}
	job["image"] = lay.image
	job["output_name"] = "output"
	if lay.classifier {
		job["output_name"] = "logits"
	}
	js, err := json.Marshal(job)
	if err != nil {
		return "", info, err
	}
	if err := os.WriteFile(script, helperScript, 0o644); err != nil {
		return "", info, fmt.Errorf("cache: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "job.json"), js, 0o644); err != nil {
		return "", info, fmt.Errorf("cache: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(hctx, python, script, filepath.Join(tmp, "job.json"))
	cmd.Dir = tmp
	cmd.Stdin = nil // the null device
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	tail := &tailBuffer{max: 4096}
	cmd.Stdout = tail
	cmd.Stderr = tail
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		switch {
		case hctx.Err() != nil && ctx.Err() == nil:
			return "", info, fmt.Errorf("the helper (AUGUR_PYTHON %s) ran past %v (AUGUR_TRUST_TIMEOUT) and was stopped; its output ends: %s", untrusted.Quote(python), timeout, tail.text())
		case ctx.Err() != nil:
			return "", info, ctx.Err()
		case errors.As(err, &ee) && ee.ExitCode() == 3:
			return "", info, fmt.Errorf("AUGUR_PYTHON %s cannot import torch (%s): install it (%s) or point AUGUR_PYTHON at a Python that has it", untrusted.Quote(python), tail.text(), installHint)
		}
		return "", info, fmt.Errorf("the helper (AUGUR_PYTHON %s) failed (%v); its output ends: %s", untrusted.Quote(python), err, tail.text())
	}
	raw, err := os.ReadFile(job["result"].(string))
	if err != nil {
		return "", info, fmt.Errorf("the helper wrote no result: %w", err)
	}
	var res struct {
		Torch      string          `json:"torch"`
		Form       string          `json:"form"`
		HubDir     string          `json:"hub_dir"`
		InputShape []int64         `json:"input_shape"`
		Outputs    []trustedOutput `json:"outputs"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", info, fmt.Errorf("the helper's result: %s", untrusted.Clean(err.Error()))
	}
	info.Torch, info.Form, info.HubDir, info.InputShape, info.Outputs = res.Torch, res.Form, res.HubDir, res.InputShape, res.Outputs
	info.Helper = helperSHA[:16]
	if err := appendTrusted(job["out"].(string), info); err != nil {
		return "", info, err
	}
	ok = true
	return tmp, info, nil
}

// commitTrusted renames the finished export in tmp into the cache as
// path and removes tmp.
func commitTrusted(tmp, path string) error {
	defer os.RemoveAll(tmp)
	if err := os.Rename(filepath.Join(tmp, "model.onnx"), path); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// appendTrusted ends the helper's ONNX file with the entry's record.
func appendTrusted(path string, info trustedInfo) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("the helper wrote no model: %w", err)
	}
	st, err := f.Stat()
	if err == nil {
		var tr []byte
		if tr, err = trustedTrailer(st.Size(), info); err == nil {
			if _, err = f.Write(tr); err == nil {
				err = f.Sync()
			}
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cache %s: %w", path, err)
	}
	return nil
}

// trustedTrailer is cache.go's trailing record (see trailer) holding
// trustedInfo and ending in trustedMagic.
func trustedTrailer(size int64, info trustedInfo) ([]byte, error) {
	js, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return record(size, js, trustedMagic), nil
}

// readTrusted returns the details of a complete helper export.
func readTrusted(path string) (info trustedInfo, ok bool) {
	js, ok := readRecord(path, trustedMagic)
	return info, ok && json.Unmarshal(js, &info) == nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf bytes.Buffer
	cut bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
		b := append([]byte(nil), t.buf.Bytes()...)
		t.buf.Reset()
		t.buf.Write(b)
		t.cut = true
	}
	return n, nil
}

// text is the tail, escaped: it comes from code augur does not trust.
func (t *tailBuffer) text() string {
	s := strings.TrimSpace(t.buf.String())
	if s == "" {
		return "(nothing)"
	}
	if t.cut {
		s = "..." + s
	}
	return untrusted.Clean(s)
}

var _ io.Writer = (*tailBuffer)(nil)
