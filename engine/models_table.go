package engine

import (
	"database/sql"
	"fmt"
	"slices"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/augurdb/augur/catalog"
)

// modelColumns are the columns of SHOW MODELS (sha256: of the artifact's
// bytes at CREATE MODEL, NULL when it has none of its own); DESCRIBE MODEL
// adds describeColumns: the model's inputs and outputs as JSON text (NULL
// when its flavor does not say), a classifier's classes in its order
// (JSON; NULL for other models) and the size of the bytes the database
// keeps for it (OPTIONS embed; NULL when none). augur_models() has all of
// them and then details, location and created_at.
var (
	modelColumns    = []string{"name", "flavor", "model_type", "uri", "options", "returns", "sha256"}
	describeColumns = []string{"inputs", "outputs", "classes", "embedded"}
)

// registerModelsTable installs augur_models(), the catalog as a table,
// and augur_model_stats(), the models' statistics (stats_table.go).
func registerModelsTable(conn *sql.Conn, e *Engine) error {
	if err := registerStatsTable(conn, e); err != nil {
		return err
	}
	cat := e.cat
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	ts, _ := duckdb.NewTypeInfo(duckdb.TYPE_TIMESTAMP)
	var cols []duckdb.ColumnInfo
	for _, c := range slices.Concat(modelColumns, describeColumns[:3]) {
		cols = append(cols, duckdb.ColumnInfo{Name: c, T: varchar})
	}
	bigint, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	cols = append(cols, duckdb.ColumnInfo{Name: "embedded", T: bigint})
	cols = append(cols, duckdb.ColumnInfo{Name: "details", T: varchar},
		duckdb.ColumnInfo{Name: "location", T: varchar}, duckdb.ColumnInfo{Name: "created_at", T: ts})
	f := duckdb.RowTableFunction{
		BindArguments: func(map[string]any, ...any) (duckdb.RowTableSource, error) {
			return &modelsSource{cols: cols, entries: cat.List()}, nil
		},
	}
	if err := duckdb.RegisterTableUDF(conn, "augur_models", f); err != nil {
		return fmt.Errorf("register augur_models(): %w", err)
	}
	return nil
}

type modelsSource struct {
	cols    []duckdb.ColumnInfo
	entries []*catalog.Entry
	next    int
}

func (s *modelsSource) ColumnInfos() []duckdb.ColumnInfo { return s.cols }
func (s *modelsSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.entries)), Exact: true}
}
func (s *modelsSource) Init() {}

func (s *modelsSource) FillRow(row duckdb.Row) (bool, error) {
	if s.next >= len(s.entries) {
		return false, nil
	}
	e := s.entries[s.next]
	s.next++
	vals := []any{e.Name, null(e.Flavor), null(e.ModelType), null(e.URI), e.OptionsJSON(), e.ShownType, null(e.SHA256), e.DetailJSON("inputs"), e.DetailJSON("outputs"), e.DetailJSON("classes"), embedded(e), e.DetailsJSON(), null(e.Location), e.Created}
	for i, v := range vals {
		if err := row.SetRowValue(i, v); err != nil {
			return false, err
		}
	}
	return true, nil
}

// embedded is the size of the bytes the database keeps for the model
// (OPTIONS embed), NULL when it keeps none.
func embedded(e *catalog.Entry) any {
	if e.Embedded == 0 {
		return nil
	}
	return e.Embedded
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
