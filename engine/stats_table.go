package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/parser"
)

// statsColumns are the columns of SHOW MODEL STATS and
// augur_model_stats(): times in milliseconds (DOUBLE), counts and bytes
// as BIGINT.
var statsColumns = []struct {
	name string
	typ  duckdb.Type
	get  func(s *ModelStats) any
}{
	{"model", duckdb.TYPE_VARCHAR, func(s *ModelStats) any { return s.Model }},
	{"calls", duckdb.TYPE_BIGINT, func(s *ModelStats) any { return s.Calls }},
	{"rows", duckdb.TYPE_BIGINT, func(s *ModelStats) any { return s.Rows }},
	{"batches", duckdb.TYPE_BIGINT, func(s *ModelStats) any { return s.Batches }},
	{"total_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return ms(s.Total) }},
	{"p50_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return msOrNull(s.P50, s.Batches) }},
	{"p99_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return msOrNull(s.P99, s.Batches) }},
	{"pre_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return phaseMs(s, s.Pre) }},
	{"run_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return phaseMs(s, s.Run) }},
	{"post_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return phaseMs(s, s.Post) }},
	{"load_ms", duckdb.TYPE_DOUBLE, func(s *ModelStats) any { return msOrNull(s.Load, int64(s.Load)) }},
	{"memory_bytes", duckdb.TYPE_BIGINT, func(s *ModelStats) any {
		if !s.Loaded {
			return nil
		}
		return s.Memory
	}},
	{"loaded", duckdb.TYPE_BOOLEAN, func(s *ModelStats) any { return s.Loaded }},
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// msOrNull is NULL when there is nothing to measure (no batch yet, no
// load in this process).
func msOrNull(d time.Duration, n int64) any {
	if n == 0 {
		return nil
	}
	return ms(d)
}

// phaseMs is a phase's time, NULL when the model's flavor reports no
// phases at all.
func phaseMs(s *ModelStats, d time.Duration) any {
	if s.Pre == 0 && s.Run == 0 && s.Post == 0 {
		return nil
	}
	return ms(d)
}

// registerStatsTable installs augur_model_stats(), Engine.ModelStats as
// a table.
func registerStatsTable(conn *sql.Conn, e *Engine) error {
	var cols []duckdb.ColumnInfo
	for _, c := range statsColumns {
		t, err := duckdb.NewTypeInfo(c.typ)
		if err != nil {
			return fmt.Errorf("augur_model_stats(): column %s: %w", c.name, err)
		}
		cols = append(cols, duckdb.ColumnInfo{Name: c.name, T: t})
	}
	f := duckdb.RowTableFunction{
		BindArguments: func(map[string]any, ...any) (duckdb.RowTableSource, error) {
			return &statsSource{cols: cols, stats: e.ModelStats()}, nil
		},
	}
	if err := duckdb.RegisterTableUDF(conn, "augur_model_stats", f); err != nil {
		return fmt.Errorf("register augur_model_stats(): %w", err)
	}
	return nil
}

type statsSource struct {
	cols  []duckdb.ColumnInfo
	stats []ModelStats
	next  int
}

func (s *statsSource) ColumnInfos() []duckdb.ColumnInfo { return s.cols }
func (s *statsSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.stats)), Exact: true}
}
func (s *statsSource) Init() {}

func (s *statsSource) FillRow(row duckdb.Row) (bool, error) {
	if s.next >= len(s.stats) {
		return false, nil
	}
	st := &s.stats[s.next]
	s.next++
	for i, c := range statsColumns {
		if err := row.SetRowValue(i, c.get(st)); err != nil {
			return false, fmt.Errorf("augur_model_stats(): %s of %s: %w", c.name, st.Model, err)
		}
	}
	return true, nil
}

// queryStats answers SHOW MODEL STATS from augur_model_stats(), ordered
// by model name as SHOW MODELS is; ok is false for other statements.
func (c *Conn) queryStats(ctx context.Context, st parser.Statement) (r driver.Rows, ok bool, err error) {
	if _, is := st.(*parser.ShowModelStats); !is {
		return nil, false, nil
	}
	names := make([]string, len(statsColumns))
	for i, col := range statsColumns {
		names[i] = `"` + col.name + `"`
	}
	r, err = c.query(ctx, "SELECT "+strings.Join(names, ", ")+" FROM augur_model_stats() ORDER BY lower(model), model", nil)
	return r, true, err
}
