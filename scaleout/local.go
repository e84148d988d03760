package scaleout

import (
	"context"
	"sync"
)

// RunLocal runs the plan's pending splits in this process, on up to
// workers splits at a time, and merges the partial aggregates: the
// plan's semantics without a distributed engine (tests, and a check of
// a plan before it is submitted).
func RunLocal(ctx context.Context, p *Plan, workers int) error {
	w, err := OpenWorker(ctx, p)
	if err != nil {
		return err
	}
	defer w.Close()
	if workers < 1 {
		workers = 1
	}
	var (
		mu     sync.Mutex
		shards = map[int][][]byte{}
		first  error
		wg     sync.WaitGroup
		next   = make(chan Split)
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				var err error
				if p.Kind == Copy {
					_, err = w.Copy(ctx, s)
				} else {
					var out []Shard
					out, err = w.Partials(ctx, s)
					mu.Lock()
					for _, sh := range out {
						shards[sh.Shard] = append(shards[sh.Shard], sh.Data)
					}
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range p.Pending() {
		next <- s
	}
	close(next)
	wg.Wait()
	if first != nil || p.Kind == Copy {
		return first
	}
	for shard, parts := range shards {
		if err := w.Merge(ctx, shard, parts); err != nil {
			return err
		}
	}
	return nil
}
