package engine

import "time"

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
// or predicted with since the engine opened, ordered by name.
func (e *Engine) ModelStats() []ModelStats {
	return nil // filled in by the statistics work (issues 14 and 15)
}
