package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/augurdb/augur/internal/untrusted"
)

// fileStore is MLflow's local file store (MLflow 2.x FileStore and the
// model registry's FileStore), as mlflow writes it:
//
//	mlruns/<experiment_id>/<run_id>/meta.yaml     run_id, artifact_uri, ...
//	mlruns/<experiment_id>/<run_id>/tags/<key>    the value
//	mlruns/<experiment_id>/<run_id>/params/<key>  the value
//	mlruns/<experiment_id>/<run_id>/artifacts/    the run's files
//	mlruns/models/<name>/meta.yaml                the registered model
//	mlruns/models/<name>/aliases/<alias>          the version number
//	mlruns/models/<name>/version-<n>/meta.yaml    version, current_stage, source, run_id, status, ...
//	mlruns/models/<name>/version-<n>/tags/<key>   the value
type fileStore struct{ root string }

func (s *fileStore) String() string { return "the MLflow file store " + untrusted.Quote(s.root) }

func (s *fileStore) artifactsBase() *url.URL { return nil }

// modelDir is the registered model's folder; a name that is not one
// folder name is refused.
func (s *fileStore) modelDir(name string) (string, error) {
	if name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("model name %s cannot be in a file store", untrusted.Quote(name))
	}
	return filepath.Join(s.root, "models", name), nil
}

// readMeta reads a meta.yaml file into a map; a missing one is *errNoSuch.
func readMeta(p, what string) (map[string]any, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &errNoSuch{msg: what + " not found"}
	}
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s is not MLflow's meta.yaml (%s)", p, untrusted.Clean(oneLine(err.Error())))
	}
	return m, nil
}

// metaString is a meta.yaml value as text ("" when absent or null).
func metaString(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// readTags reads a folder of tag (or param) files: the file's path below
// the folder is the key (MLflow writes a key with / as sub-folders), its
// content the value.
func readTags(dir string) ([]kv, error) {
	var out []kv
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return filepath.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(data) > maxMLmodelBytes {
			return fmt.Errorf("%s is larger than %d MiB", p, maxMLmodelBytes>>20)
		}
		out = append(out, kv{Key: filepath.ToSlash(rel), Value: string(data)})
		return nil
	})
	return out, err
}

func (s *fileStore) registeredModel(_ context.Context, name string) error {
	dir, err := s.modelDir(name)
	if err != nil {
		return err
	}
	_, err = readMeta(filepath.Join(dir, "meta.yaml"), "registered model "+untrusted.Quote(name))
	return err
}

func (s *fileStore) readVersion(dir string) (*modelVersion, error) {
	m, err := readMeta(filepath.Join(dir, "meta.yaml"), "model version")
	if err != nil {
		return nil, err
	}
	tags, err := readTags(filepath.Join(dir, "tags"))
	if err != nil {
		return nil, err
	}
	return &modelVersion{
		Name:            metaString(m, "name"),
		Version:         metaString(m, "version"),
		CurrentStage:    metaString(m, "current_stage"),
		Source:          metaString(m, "source"),
		RunID:           metaString(m, "run_id"),
		Status:          metaString(m, "status"),
		StorageLocation: metaString(m, "storage_location"),
		Tags:            tags,
	}, nil
}

func (s *fileStore) versions(_ context.Context, name string) ([]modelVersion, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []modelVersion
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "version-") {
			continue
		}
		mv, err := s.readVersion(filepath.Join(dir, e.Name()))
		if err != nil {
			var ns *errNoSuch
			if errors.As(err, &ns) {
				continue
			}
			return nil, err
		}
		out = append(out, *mv)
	}
	return out, nil
}

func (s *fileStore) version(_ context.Context, name, version string) (*modelVersion, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	if err := s.registeredModel(context.Background(), name); err != nil {
		return nil, err
	}
	return s.readVersion(filepath.Join(dir, "version-"+version))
}

// alias reads aliases/<alias> (the version number), or an aliases list
// in the registered model's meta.yaml.
func (s *fileStore) alias(ctx context.Context, name, alias string) (*modelVersion, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	if alias == "." || alias == ".." || strings.ContainsAny(alias, `/\`) {
		return nil, &errNoSuch{msg: "no alias " + untrusted.Quote(alias)}
	}
	if err := s.registeredModel(ctx, name); err != nil {
		return nil, err
	}
	version := ""
	if data, err := os.ReadFile(filepath.Join(dir, "aliases", alias)); err == nil {
		version = strings.TrimSpace(string(data))
	} else if m, err := readMeta(filepath.Join(dir, "meta.yaml"), "registered model"); err == nil {
		if list, ok := m["aliases"].([]any); ok {
			for _, item := range list {
				if e, ok := item.(map[string]any); ok && metaString(e, "alias") == alias {
					version = metaString(e, "version")
				}
			}
		}
	}
	if version == "" || !digitsRE.MatchString(version) {
		return nil, &errNoSuch{msg: "registered model alias " + untrusted.Quote(alias) + " not found"}
	}
	return s.version(ctx, name, version)
}

// run finds the run in any experiment's folder.
func (s *fileStore) run(_ context.Context, id string) (*mlflowRun, error) {
	if id == "." || id == ".." || strings.ContainsAny(id, `/\`) || id == "" {
		return nil, &errNoSuch{msg: "run " + untrusted.Quote(id) + " not found"}
	}
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "models" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(s.root, e.Name(), id)
		m, err := readMeta(filepath.Join(dir, "meta.yaml"), "run")
		if err != nil {
			var ns *errNoSuch
			if errors.As(err, &ns) {
				continue
			}
			return nil, err
		}
		run := &mlflowRun{}
		run.Info.RunID = metaString(m, "run_id")
		run.Info.ArtifactURI = metaString(m, "artifact_uri")
		if run.Info.ArtifactURI == "" {
			run.Info.ArtifactURI = filepath.Join(dir, "artifacts")
		}
		if run.Data.Tags, err = readTags(filepath.Join(dir, "tags")); err != nil {
			return nil, err
		}
		if run.Data.Params, err = readTags(filepath.Join(dir, "params")); err != nil {
			return nil, err
		}
		return run, nil
	}
	return nil, &errNoSuch{msg: "run " + untrusted.Quote(id) + " not found"}
}

func (s *fileStore) downloadURI(_ context.Context, mv *modelVersion) (string, error) {
	if mv.StorageLocation != "" {
		return mv.StorageLocation, nil
	}
	if mv.Source != "" {
		return mv.Source, nil
	}
	return "", fmt.Errorf("version %s has no source", mv.Version)
}
