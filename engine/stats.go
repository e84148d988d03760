package engine

import (
	"cmp"
	"context"
	"math/bits"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/model"
)

// ModelStats is what the engine has measured of one model since the
// process started: SHOW MODEL STATS, augur_model_stats(), the server's
// logs and the shell's progress line read it.
type ModelStats struct {
	Model   string        // catalog name
	Calls   int64         // ML_PREDICT invocations (one per DuckDB chunk handed to the model)
	Rows    int64         // rows predicted
	Batches int64         // batches run by the model's runtime
	Total   time.Duration // time spent in batches
	P50     time.Duration // median batch latency
	P99     time.Duration // 99th percentile batch latency
	// Time split of Total where the flavor reports it: pre-processing
	// (decoding, tensors), the runtime, post-processing.
	Pre, Run, Post time.Duration
	Load           time.Duration // the last load's duration
	Memory         int64         // bytes the loaded model holds (estimate); 0 when not loaded
	Loaded         bool
}

// ModelStats returns the statistics of every model that has been loaded
// or predicted with since the engine opened, ordered by name. A dropped
// model is no longer listed; a replaced one keeps its counts.
func (e *Engine) ModelStats() []ModelStats {
	e.mu.Lock()
	hs := make([]*handle, 0, len(e.handles))
	for _, h := range e.handles {
		hs = append(hs, h)
	}
	e.mu.Unlock()
	out := make([]ModelStats, 0, len(hs))
	for _, h := range hs {
		s := h.stats.snapshot(h.entry.Name)
		s.Loaded = h.loaded.Load()
		if s.Loaded {
			s.Memory = h.mem.Load()
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ModelStats) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Model), strings.ToLower(b.Model)), cmp.Compare(a.Model, b.Model))
	})
	return out
}

// counters are what both a model's lifetime statistics and one query's
// share of them count. Atomics: ML_PREDICT runs on many DuckDB threads.
type counters struct {
	calls, rows, batches atomic.Int64
	total                atomic.Int64 // nanoseconds
	phases               [model.NumPhases]atomic.Int64
}

func (c *counters) fill(s *ModelStats) {
	s.Calls, s.Rows, s.Batches = c.calls.Load(), c.rows.Load(), c.batches.Load()
	s.Total = time.Duration(c.total.Load())
	s.Pre = time.Duration(c.phases[model.Pre].Load())
	s.Run = time.Duration(c.phases[model.Run].Load())
	s.Post = time.Duration(c.phases[model.Post].Load())
}

// modelStats are one model's statistics since the process started. A
// handle points at them; CREATE OR REPLACE hands them to the new handle.
type modelStats struct {
	counters
	load atomic.Int64 // the last load's duration, nanoseconds
	hist latencies
}

func (s *modelStats) snapshot(name string) ModelStats {
	out := ModelStats{Model: name, Load: time.Duration(s.load.Load())}
	s.fill(&out)
	out.P50, out.P99 = s.hist.quantile(0.50), s.hist.quantile(0.99)
	return out
}

// latencies is a histogram of batch latencies in logarithmic buckets,
// 8 to an octave (a quantile is off by at most 1/16, about 6%), in a
// fixed 4 KiB whatever the number of batches. Quantiles are clamped to
// the largest latency seen, so that p99 never exceeds what was measured.
type latencies struct {
	buckets [latencyBuckets]atomic.Int64
	max     atomic.Int64
}

const latencyBuckets = 8 + 61*8

// bucketOf is the bucket of a latency of ns nanoseconds: 0..7 exactly,
// above that the octave and the next three bits.
func bucketOf(ns int64) int {
	if ns < 8 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 1 // >= 3
	m := int(ns>>(e-3)) & 7
	return 8 + (e-3)*8 + m
}

// bucketMid is the middle of bucket i's range.
func bucketMid(i int) int64 {
	if i < 8 {
		return int64(i)
	}
	e, m := (i-8)/8+3, int64((i-8)%8)
	lo := (8 + m) << (e - 3)
	return lo + (int64(1)<<(e-3))/2
}

func (l *latencies) add(d time.Duration) {
	ns := int64(d)
	l.buckets[bucketOf(ns)].Add(1)
	for {
		old := l.max.Load()
		if ns <= old || l.max.CompareAndSwap(old, ns) {
			return
		}
	}
}

// quantile estimates the q-quantile (0 < q <= 1); 0 when empty.
func (l *latencies) quantile(q float64) time.Duration {
	var counts [latencyBuckets]int64
	var n int64
	for i := range l.buckets {
		counts[i] = l.buckets[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return 0
	}
	rank := int64(q*float64(n) + 0.999999) // the ceil(q*n)-th latency
	rank = min(max(rank, 1), n)
	var seen int64
	for i, c := range counts {
		if seen += c; seen >= rank {
			return time.Duration(min(bucketMid(i), l.max.Load()))
		}
	}
	return time.Duration(l.max.Load())
}

// batch counts one batch that took d.
func (s *modelStats) batch(d time.Duration) {
	s.batches.Add(1)
	s.total.Add(int64(d))
	s.hist.add(d)
}

// QueryStats are the ML_PREDICT work of the queries run with one
// context (TrackQuery), per model: EXPLAIN ANALYZE reports them, and the
// shell's progress line reads them while a query runs.
type QueryStats struct {
	mu     sync.Mutex
	models map[string]*queryModel // by catalog key
}

type queryModel struct {
	name string
	counters
}

type queryStatsKey struct{}

// TrackQuery returns ctx carrying a new QueryStats: the ML_PREDICT calls
// of the statements run with ctx (QueryContext, ExecContext) add to it,
// exactly, whatever other sessions run at the same time.
func TrackQuery(ctx context.Context) (context.Context, *QueryStats) {
	q := &QueryStats{models: map[string]*queryModel{}}
	return context.WithValue(ctx, queryStatsKey{}, q), q
}

func queryStatsFrom(ctx context.Context) *QueryStats {
	if ctx == nil {
		return nil
	}
	q, _ := ctx.Value(queryStatsKey{}).(*QueryStats)
	return q
}

func (q *QueryStats) model(name string) *queryModel {
	key := catalog.Key(name)
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.models[key]
	if m == nil {
		m = &queryModel{name: name}
		q.models[key] = m
	}
	return m
}

// Models returns, per model the query has called so far, its calls,
// rows, batches, time and phases (no latency quantiles, load or memory),
// ordered by name. Safe to call while the query runs.
func (q *QueryStats) Models() []ModelStats {
	q.mu.Lock()
	out := make([]ModelStats, 0, len(q.models))
	for _, m := range q.models {
		s := ModelStats{Model: m.name}
		m.fill(&s)
		out = append(out, s)
	}
	q.mu.Unlock()
	slices.SortFunc(out, func(a, b ModelStats) int { return cmp.Compare(a.Model, b.Model) })
	return out
}

// chunkRecorder is the model.Recorder of one chunk's Predict calls: it
// adds to the model's statistics and, when the query is tracked, to its
// share of them.
type chunkRecorder struct {
	m *modelStats
	q *queryModel // nil: the query is not tracked
	// reports: the model reports its own batches (model.BatchReporter)
	reports bool
}

// recorder starts counting one ML_PREDICT call (a chunk) of h.
func (h *handle) recorder(ctx context.Context) *chunkRecorder {
	r := &chunkRecorder{m: h.stats, reports: h.reports}
	if q := queryStatsFrom(ctx); q != nil {
		r.q = q.model(h.entry.Name)
	}
	r.m.calls.Add(1)
	if r.q != nil {
		r.q.calls.Add(1)
	}
	return r
}

// Phase implements model.Recorder.
func (r *chunkRecorder) Phase(p model.Phase, d time.Duration) {
	if p < 0 || p >= model.NumPhases {
		return
	}
	r.m.phases[p].Add(int64(d))
	if r.q != nil {
		r.q.phases[p].Add(int64(d))
	}
}

// Batch implements model.Recorder.
func (r *chunkRecorder) Batch(d time.Duration) {
	r.m.batch(d)
	if r.q != nil {
		r.q.batches.Add(1)
		r.q.total.Add(int64(d))
	}
}

// ran counts rows that ran in a batch of the engine's own that took d
// (the batch itself only when the model does not report its own).
func (r *chunkRecorder) ran(rows int, d time.Duration) {
	r.m.rows.Add(int64(rows))
	if r.q != nil {
		r.q.rows.Add(int64(rows))
	}
	if !r.reports {
		r.Batch(d)
	}
}

// modelSize estimates the memory a loaded model holds: its own estimate
// (model.Sizer), else the size of the bytes it was loaded from (the
// embedded copy, or a local file), else 0.
func modelSize(m model.Model, ent *catalog.Entry) int64 {
	if s, ok := model.As[model.Sizer](m); ok {
		if n := s.SizeBytes(); n > 0 {
			return n
		}
	}
	if ent.Embedded > 0 {
		return ent.Embedded
	}
	if ent.Location != "" && !strings.Contains(ent.Location, "://") {
		if st, err := os.Stat(ent.Location); err == nil && st.Mode().IsRegular() {
			return st.Size()
		}
	}
	return 0
}
