package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/augurdb/augur/catalog"
	"github.com/augurdb/augur/model"
)

func TestBucketsOrdered(t *testing.T) {
	prev := -1
	for _, ns := range []int64{0, 1, 7, 8, 9, 15, 16, 17, 1000, 1 << 20, 1<<40 + 5, 1<<62 + 1<<61} {
		b := bucketOf(ns)
		if b < prev || b >= latencyBuckets {
			t.Errorf("bucketOf(%d) = %d after %d", ns, b, prev)
		}
		if mid := bucketMid(b); ns >= 8 && (float64(mid) < float64(ns)*0.93 || float64(mid) > float64(ns)*1.07) {
			t.Errorf("bucketMid(bucketOf(%d)) = %d: more than 7%% off", ns, mid)
		}
		prev = b
	}
}

// The quantiles of the histogram are within its resolution of the exact
// ones, and never above the largest latency seen.
func TestLatencyQuantiles(t *testing.T) {
	var l latencies
	if l.quantile(0.5) != 0 {
		t.Fatal("an empty histogram has a quantile")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	for range 10000 {
		d := time.Duration(r.ExpFloat64() * float64(time.Millisecond))
		all = append(all, d)
		l.add(d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.99} {
		exact := all[int(q*float64(len(all)))-1]
		got := l.quantile(q)
		if float64(got) < float64(exact)*0.93 || float64(got) > float64(exact)*1.07 {
			t.Errorf("quantile(%v) = %v, exact %v", q, got, exact)
		}
	}
	var one latencies
	one.add(1234567)
	if p := one.quantile(0.99); p != 1234567 && p > 1234567 {
		t.Errorf("one batch of 1.234567ms: p99 %v", p)
	}
	if one.quantile(0.5) > one.quantile(0.99) {
		t.Error("p50 > p99")
	}
}

// A tracked query's share counts what ran with its context only.
func TestQueryStats(t *testing.T) {
	h := &handle{entry: &catalog.Entry{Name: "m"}, stats: &modelStats{}}
	ctx, qs := TrackQuery(context.Background())
	r := h.recorder(ctx)
	r.ran(10, time.Millisecond)
	r.Phase(model.Run, time.Millisecond)
	h.recorder(context.Background()).ran(5, time.Millisecond) // another session
	got := qs.Models()
	if len(got) != 1 || got[0].Model != "m" || got[0].Rows != 10 || got[0].Batches != 1 || got[0].Calls != 1 || got[0].Run != time.Millisecond {
		t.Errorf("query stats %+v", got)
	}
	all := h.stats.snapshot("m")
	if all.Rows != 15 || all.Batches != 2 || all.Calls != 2 {
		t.Errorf("model stats %+v", all)
	}
}

// BenchmarkRecordBatch is what the statistics add to a batch of
// ML_PREDICT: two clock readings, counters and a histogram bucket.
func BenchmarkRecordBatch(b *testing.B) {
	h := &handle{entry: &catalog.Entry{Name: "m"}, stats: &modelStats{}}
	r := h.recorder(context.Background())
	for b.Loop() {
		t0 := time.Now()
		r.ran(1, time.Since(t0))
	}
}
