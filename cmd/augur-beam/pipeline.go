package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/augurdb/augur/scaleout"
)

// The pipeline: for each worker, its splits (balanced by size) →
// Reshuffle (so that a runner may spread them further) → a DoFn that
// runs each split with DuckDB and augur's models. COPY writes its part
// files there; an aggregate emits its partials keyed by merge shard,
// which Beam groups (the only shuffle, of partial aggregates) for a DoFn
// that merges each shard into the job folder. The launcher finishes.

func init() {
	register.DoFn3x1[context.Context, string, func(int, int64), error](&copyFn{})
	register.Function2x0(discardCounts)
	register.Emitter2[int, int64]()
	register.Iter1[int64]()
	register.DoFn3x1[context.Context, string, func(int, []byte), error](&partialFn{})
	register.DoFn3x1[context.Context, int, func(*[]byte) bool, error](&mergeFn{})
	register.Emitter2[int, []byte]()
	register.Iter1[[]byte]()
}

// openWorker opens a plan's worker (once per DoFn instance, at Setup);
// the plan travels as JSON in the DoFn.
func openWorker(ctx context.Context, plan string, withModels bool) (*scaleout.Worker, error) {
	var p scaleout.Plan
	if err := json.Unmarshal([]byte(plan), &p); err != nil {
		return nil, fmt.Errorf("augur-beam worker: reading the plan: %w", err)
	}
	if !withModels {
		p.Models = nil
	}
	return scaleout.OpenWorker(ctx, &p)
}

func closeWorker(w **scaleout.Worker) error {
	if *w == nil {
		return nil
	}
	err := (*w).Close()
	*w = nil
	return err
}

func decodeSplit(js string) (scaleout.Split, error) {
	var sp scaleout.Split
	if err := json.Unmarshal([]byte(js), &sp); err != nil {
		return sp, fmt.Errorf("augur-beam worker: reading a split: %w", err)
	}
	return sp, nil
}

// copyFn writes the rows of each split into COPY's folder.
type copyFn struct {
	Plan string
	w    *scaleout.Worker
}

func (f *copyFn) Setup(ctx context.Context) (err error) {
	f.w, err = openWorker(ctx, f.Plan, true)
	return err
}
func (f *copyFn) Teardown() error { return closeWorker(&f.w) }

// ProcessElement emits the rows written, under one key, though the
// launcher counts them from the splits' records: prism (2.77) busy-waits
// beside a stage that has no output, taking a core from the workers.
func (f *copyFn) ProcessElement(ctx context.Context, split string, emit func(int, int64)) error {
	sp, err := decodeSplit(split)
	if err != nil {
		return err
	}
	n, err := f.w.Copy(ctx, sp)
	if err != nil {
		return err
	}
	emit(0, n)
	return nil
}

// discardCounts ends the COPY pipeline's counts.
func discardCounts(int, func(*int64) bool) {}

// partialFn computes each split's partial aggregates, one Parquet file
// per merge shard.
type partialFn struct {
	Plan string
	w    *scaleout.Worker
}

func (f *partialFn) Setup(ctx context.Context) (err error) {
	f.w, err = openWorker(ctx, f.Plan, true)
	return err
}
func (f *partialFn) Teardown() error { return closeWorker(&f.w) }

func (f *partialFn) ProcessElement(ctx context.Context, split string, emit func(int, []byte)) error {
	sp, err := decodeSplit(split)
	if err != nil {
		return err
	}
	shards, err := f.w.Partials(ctx, sp)
	if err != nil {
		return err
	}
	for _, s := range shards {
		emit(s.Shard, s.Data)
	}
	return nil
}

// mergeFn merges one shard's partials from every split.
type mergeFn struct {
	Plan string
	w    *scaleout.Worker
}

func (f *mergeFn) Setup(ctx context.Context) (err error) {
	f.w, err = openWorker(ctx, f.Plan, false)
	return err
}
func (f *mergeFn) Teardown() error { return closeWorker(&f.w) }

func (f *mergeFn) ProcessElement(ctx context.Context, shard int, parts func(*[]byte) bool) error {
	var all [][]byte
	var b []byte
	for parts(&b) {
		all = append(all, b)
	}
	return f.w.Merge(ctx, shard, all)
}

// buildPipeline makes the pipeline of a plan's pending splits for the
// given number of workers.
func buildPipeline(p *scaleout.Plan, workers int) (*beam.Pipeline, error) {
	// The splits travel as elements; the plan each DoFn carries is the
	// rest (its size does not grow with workers x files).
	carried := *p
	carried.Splits = nil
	planJSON, err := json.Marshal(&carried)
	if err != nil {
		return nil, err
	}
	pipe, s := beam.NewPipelineWithRoot()
	plan := string(planJSON)
	var partials, counts []beam.PCollection
	for i, bucket := range scaleout.Buckets(p.Pending(), workers) {
		ws := s.Scope(fmt.Sprintf("worker%d", i))
		elems := make([]string, len(bucket))
		for j, sp := range bucket {
			b, err := json.Marshal(sp)
			if err != nil {
				return nil, err
			}
			elems[j] = string(b)
		}
		splits := beam.Reshuffle(ws, beam.CreateList(ws, elems))
		if p.Kind == scaleout.Copy {
			counts = append(counts, beam.ParDo(ws, &copyFn{Plan: plan}, splits))
		} else {
			partials = append(partials, beam.ParDo(ws, &partialFn{Plan: plan}, splits))
		}
	}
	if len(counts) > 0 {
		c := s.Scope("counts")
		beam.ParDo0(c, discardCounts, beam.GroupByKey(c, beam.Flatten(c, counts...)))
	}
	if p.Kind == scaleout.Aggregate && len(partials) > 0 {
		m := s.Scope("merge")
		grouped := beam.GroupByKey(m, beam.Flatten(m, partials...))
		beam.ParDo0(m, &mergeFn{Plan: plan}, grouped)
	}
	return pipe, nil
}
