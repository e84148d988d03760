package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/source"
	"github.com/augurdb/augur/specfile"
	"github.com/augurdb/augur/types"
)

// maxSpecBytes bounds what augur reads from a YAML spec or label file.
const maxSpecBytes = 16 << 20

// resolved is a CREATE MODEL statement turned into a spec and an artifact.
type resolved struct {
	spec     model.Spec
	art      model.Artifact
	location string
}

// resolve builds the model spec of a CREATE MODEL statement: SQL clauses
// over a YAML spec's values, USING resolved to an artifact.
func resolve(ctx context.Context, st *parser.CreateModel) (*resolved, error) {
	r := &resolved{spec: model.Spec{Name: st.Name.Name, Options: map[string]string{}}}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("find the current directory: %w", err)
	}
	// in server mode a relative path resolves against the first model root
	cwd = source.BaseDir(ctx, cwd)
	if st.Using != nil {
		r.spec.URI = st.Using.Value
		if specfile.IsSpec(r.spec.URI) {
			if err := r.readSpec(ctx, r.spec.URI, cwd); err != nil {
				return nil, err
			}
		} else if r.art, err = source.Resolve(ctx, r.spec.URI, cwd); err != nil {
			return nil, err
		}
	}
	if st.Flavor != nil {
		r.spec.Flavor = st.Flavor.Name
	}
	if st.ModelType != nil {
		r.spec.ModelType = st.ModelType.Name
	}
	for _, o := range st.Options { // the last duplicate wins
		r.spec.Options[o.Key] = o.Value
	}
	if st.Returns != nil {
		t, err := TypeOf(st.Returns)
		if err != nil {
			return nil, err
		}
		r.spec.Returns = &t
	}
	if d, ok := r.art.(model.Described); ok {
		if err := r.applyDefaults(ctx, st, d, cwd); err != nil {
			return nil, err
		}
	}
	if r.art != nil {
		r.location = r.art.Location()
	}
	if r.spec.Flavor == "" && r.art != nil {
		r.spec.Flavor = model.FlavorForPath(r.art.Location())
	}
	if r.spec.Flavor == "" && r.art != nil {
		r.spec.Flavor = sniffFlavor(r.art)
	}
	if err := checkOptionKeys(&r.spec, st.Options); err != nil {
		return nil, err
	}
	return r, nil
}

// applyDefaults fills in what a registry records about the model (see
// model.Described) where the statement is silent: FLAVOR, MODEL_TYPE,
// RETURNS and each OPTIONS key given in SQL win.
func (r *resolved) applyDefaults(ctx context.Context, st *parser.CreateModel, d model.Described, cwd string) error {
	def := d.SpecDefaults()
	if st.Flavor == nil {
		r.spec.Flavor = def.Flavor
		if r.spec.Flavor == "" {
			return fmt.Errorf("model %q: %s records no flavor; add FLAVOR to CREATE MODEL (%s)", r.spec.Name, untrusted.Clean(r.spec.URI), def.FlavorHint)
		}
	}
	if st.ModelType == nil && def.ModelType != "" {
		r.spec.ModelType = def.ModelType
	}
	if st.Returns == nil && def.Schema != "" {
		t, err := ParseSchema(def.Schema)
		if err != nil {
			return fmt.Errorf("model %q: the schema %s records: %w", r.spec.Name, untrusted.Clean(r.spec.URI), err)
		}
		r.spec.Returns = &t
	}
	for k, v := range def.Options {
		if _, given := r.spec.Options[k]; !given {
			r.spec.Options[k] = v
		}
	}
	if def.LabelsURI != "" {
		labels, err := readLabels(ctx, def.LabelsURI, cwd)
		if err != nil {
			return fmt.Errorf("model %q: labels: %w", r.spec.Name, err)
		}
		r.spec.Labels = labels
	}
	return nil
}

// readSpec applies a YAML spec: its values first, SQL clauses later.
func (r *resolved) readSpec(ctx context.Context, uri, cwd string) error {
	art, err := source.Resolve(ctx, uri, cwd)
	if err != nil {
		return err
	}
	data, err := readAll(ctx, art)
	if err != nil {
		return err
	}
	f, err := specfile.Parse(data, art.Location())
	if err != nil {
		return err
	}
	base := specBase(art)
	r.spec.Flavor, r.spec.ModelType = f.Flavor, f.Type
	for _, k := range f.Keys {
		r.spec.Options[k] = f.Options[k]
	}
	if f.Schema != "" {
		t, err := ParseSchema(f.Schema)
		if err != nil {
			return fmt.Errorf("model spec %s: schema: %w", art.Location(), err)
		}
		r.spec.Returns = &t
	}
	if f.URI == "" {
		return fmt.Errorf("model spec %s has no model.uri", art.Location())
	}
	if specfile.IsSpec(f.URI) {
		return fmt.Errorf("model spec %s: model.uri %q names another spec; it must name the model file", art.Location(), f.URI)
	}
	if r.art, err = source.Resolve(ctx, f.URI, base); err != nil {
		return fmt.Errorf("model spec %s: %w", art.Location(), err)
	}
	if f.LabelURI != "" {
		if r.spec.Labels, err = readLabels(ctx, f.LabelURI, base); err != nil {
			return fmt.Errorf("model spec %s: labels: %w", art.Location(), err)
		}
	}
	return nil
}

// specBase is the folder relative references in a spec resolve against.
func specBase(art model.Artifact) string {
	if p, ok := art.LocalPath(); ok {
		return filepath.Dir(p)
	}
	loc := art.Location()
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[:i]
	}
	return loc
}

func readLabels(ctx context.Context, uri, base string) ([]string, error) {
	art, err := source.Resolve(ctx, uri, base)
	if err != nil {
		return nil, err
	}
	data, err := readAll(ctx, art)
	if err != nil {
		return nil, err
	}
	var labels []string
	if err := json.Unmarshal(data, &labels); err != nil {
		// The decoder's message can quote the file; describe it instead.
		return nil, fmt.Errorf("%s must hold a JSON list of strings; it is %s", art.Location(), untrusted.Describe(data))
	}
	// Labels become query results that a shell prints: no raw control
	// characters from the file.
	for i, l := range labels {
		labels[i] = untrusted.Clean(l)
	}
	return labels, nil
}

func readAll(ctx context.Context, art model.Artifact) ([]byte, error) {
	rc, err := art.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", art.Location(), err)
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB; it is not a model spec", art.Location(), maxSpecBytes>>20)
	}
	return data, nil
}

// loadModel runs the flavor and settles the result type: the model's own,
// or RETURNS when the values can be converted to it.
func loadModel(ctx context.Context, spec *model.Spec, art model.Artifact) (model.Model, types.Type, error) {
	if spec.Flavor == "" {
		known := strings.Join(model.Flavors.Names(), ", ")
		if art == nil {
			return nil, types.Type{}, fmt.Errorf("model %q has neither FLAVOR nor USING; augur does not download pretrained weights: give USING 'path/to/model' (and FLAVOR: %s)", spec.Name, known)
		}
		return nil, types.Type{}, fmt.Errorf("model %q has no FLAVOR and none follows from the file name %q; add FLAVOR (known: %s)",
			spec.Name, filepath.Base(art.Location()), known)
	}
	fl, err := model.Flavors.Lookup(spec.Flavor)
	if err != nil {
		return nil, types.Type{}, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	m, err := fl.Load(ctx, spec, art)
	if err != nil {
		if strings.Contains(err.Error(), fmt.Sprintf("%q", spec.Name)) {
			return nil, types.Type{}, err // the flavor named the model already (see model.Flavor)
		}
		return nil, types.Type{}, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	pm, err := model.ApplyProbabilities(spec, m)
	if err != nil {
		_ = m.Close()
		return nil, types.Type{}, err
	}
	m = pm
	t := m.Type()
	returns := spec.Returns
	if probs, _ := spec.WantsProbabilities(); probs && returns != nil && returns.Kind != types.Struct {
		// With probabilities, a scalar RETURNS is the class labels' type
		// (RETURNS string: the labels as text), and the result is the
		// probabilities struct of that type.
		r := model.ProbabilitiesType(*returns)
		returns = &r
	}
	if returns != nil && !t.Equal(*returns) {
		if !types.CanConvert(t, *returns) {
			_ = m.Close()
			mt := m.ModelType()
			if mt == "" {
				mt = spec.Flavor
			}
			return nil, types.Type{}, fmt.Errorf("model %q (%s) returns %s, which cannot be returned as %s (RETURNS)", spec.Name, mt, t, spec.Returns)
		}
		if err := checkBoolReturns(spec, m, t); err != nil {
			_ = m.Close()
			return nil, types.Type{}, err
		}
		t = *returns
	}
	return m, t, nil
}

// loadEntry loads a model that is in the catalog, from its recorded
// location, so that a process started elsewhere finds the same file.
func loadEntry(ctx context.Context, ent *catalog.Entry, cat *catalog.Catalog) (model.Model, error) {
	spec := model.Spec{
		Name: ent.Name, Flavor: ent.Flavor, ModelType: ent.ModelType, URI: ent.URI,
		Options: ent.Options, Returns: ent.Requested, Labels: ent.Labels,
	}
	var art model.Artifact
	if ent.Embedded > 0 {
		var err error
		if art, err = embeddedArtifact(ctx, ent, cat); err != nil {
			return nil, err
		}
		spec.SHA256 = ent.SHA256
	} else if ent.Location != "" {
		var err error
		if art, err = source.Resolve(ctx, ent.Location, "/"); err != nil {
			return nil, err
		}
		if art, spec.SHA256, err = artifactBytes(ctx, ent.Name, art, ent.Options, ent.SHA256); err != nil {
			return nil, err
		}
	}
	m, _, err := loadModel(ctx, &spec, art)
	return m, err
}

// sniffFlavor recognises a local file's flavor by its first bytes, when
// its name says nothing (model.json, model.txt); "" when it cannot.
// Remote artifacts are not fetched for this: their name must say.
func sniffFlavor(art model.Artifact) string {
	path, ok := art.LocalPath()
	if !ok {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return "" // the flavor's own open reports it
	}
	defer f.Close()
	head := make([]byte, model.SniffBytes)
	n, _ := io.ReadFull(f, head)
	return model.FlavorForContent(head[:n])
}
