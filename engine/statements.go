package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/parser"
	"github.com/augurdb/augur/types"
)

// CreateModel runs CREATE MODEL: Rikai's semantics, made atomic. IF NOT
// EXISTS on an existing model does nothing; a duplicate fails before
// anything is resolved; OR REPLACE loads the new model first and keeps the
// old one if that fails.
func (e *Engine) CreateModel(ctx context.Context, st *parser.CreateModel) error {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	name := st.Name.Name
	if old, exists := e.cat.Get(name); exists {
		if st.IfNotExists {
			return nil
		}
		if !st.OrReplace {
			return fmt.Errorf("model %q already exists; use CREATE OR REPLACE MODEL to replace it", old.Name)
		}
	}
	r, err := resolve(ctx, st)
	if err != nil {
		return err
	}
	if err := checkOptions(r.spec.Options); err != nil {
		return fmt.Errorf("model %q: %w", name, err)
	}
	// downloaded, hashed and pinned once, here: a model that cannot run
	// fails at CREATE, not at its first query
	loadStart := time.Now()
	art, sha, err := artifactBytes(ctx, name, r.art, r.spec.Options, "")
	if err != nil {
		return err
	}
	r.spec.SHA256 = sha
	embed, err := embedBytes(name, art, sha, r.spec.Options)
	if err != nil {
		return err
	}
	m, returns, err := loadModel(ctx, &r.spec, art)
	if err != nil {
		return err
	}
	loadTime := time.Since(loadStart)
	ent := &catalog.Entry{
		Name: name, Flavor: r.spec.Flavor, ModelType: m.ModelType(), URI: r.spec.URI,
		Location: r.location, Options: r.spec.Options, Returns: returns,
		Requested: r.spec.Returns, Labels: r.spec.Labels, Created: time.Now().UTC(), SHA256: sha,
		Embedded: int64(len(embed)),
	}
	if ent.ModelType == "" {
		ent.ModelType = r.spec.ModelType
	}
	if d, ok := m.(model.Describer); ok {
		ent.Details = d.Describe()
	}
	if c, ok := m.(model.Classifier); ok && len(c.Classes()) > 0 {
		if ent.Details == nil {
			ent.Details = map[string]any{}
		}
		ent.Details["classes"] = c.Classes()
	}
	if embed != nil {
		if ent.Details == nil {
			ent.Details = map[string]any{}
		}
		ent.Details["embedded_bytes"] = len(embed)
	}
	h := &handle{entry: ent, batchSize: batchSize(ent), stats: &modelStats{}}
	h.stats.load.Store(int64(loadTime))
	if err := h.set(m); err != nil {
		return err
	}
	if _, err := e.predictFunc(ctx, returns); err != nil {
		h.close()
		return err
	}
	if ent.ShownType, err = e.typeName(ctx, returns); err != nil {
		h.close()
		return err
	}
	if err := e.cat.PutEmbedded(ctx, ent, embed); err != nil {
		h.close()
		return err
	}
	e.install(h)
	return nil
}

// typeName asks DuckDB how it spells t, so SHOW MODELS agrees with
// typeof(ML_PREDICT(...)).
func (e *Engine) typeName(ctx context.Context, t types.Type) (string, error) {
	var name string
	if err := e.db.QueryRowContext(ctx, "SELECT typeof(NULL::"+t.SQL()+")").Scan(&name); err != nil {
		return "", fmt.Errorf("result type %s: %w", t.SQL(), err)
	}
	return name, nil
}

// checkOptions validates the options augur itself reads.
func checkOptions(opts map[string]string) error {
	_, err := parseBatchSize(opts)
	return err
}

// DropModel runs DROP MODEL [IF EXISTS].
func (e *Engine) DropModel(ctx context.Context, st *parser.DropModel) error {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	ok, err := e.cat.Delete(ctx, st.Name.Name)
	if err != nil {
		return err
	}
	if !ok {
		if st.IfExists {
			return nil
		}
		return fmt.Errorf("model %q does not exist", st.Name.Name)
	}
	e.unload(st.Name.Name)
	return nil
}
