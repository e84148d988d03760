package parser

import "testing"

// TestSetOption: SET and RESET of augur's own settings are augur's
// statements; every other SET is left to DuckDB.
func TestSetOption(t *testing.T) {
	for _, c := range []struct {
		sql   string
		want  SetOption
		other bool
	}{
		{sql: "SET mlflow_tracking_uri = 'http://h:5000'", want: SetOption{Name: "mlflow_tracking_uri", Value: "http://h:5000"}},
		{sql: "set SESSION MLflow_Tracking_URI TO 'file:///m';", want: SetOption{Name: "mlflow_tracking_uri", Value: "file:///m"}},
		{sql: "RESET mlflow_tracking_uri", want: SetOption{Name: "mlflow_tracking_uri", Reset: true}},
		{sql: "SET threads = 4", other: true},
		{sql: "SET memory_limit TO '1GB'", other: true},
	} {
		st, err := Parse(c.sql, Pos{Line: 1, Col: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if c.other {
			if st != nil {
				t.Errorf("%s: parsed as augur's %T", c.sql, st)
			}
			continue
		}
		got, ok := st.(*SetOption)
		if !ok || got.Name != c.want.Name || got.Value != c.want.Value || got.Reset != c.want.Reset {
			t.Errorf("%s: %#v", c.sql, st)
		}
	}
	for _, bad := range []string{"SET mlflow_tracking_uri 'x'", "SET mlflow_tracking_uri = 3", "SET mlflow_tracking_uri = 'x' y"} {
		if _, err := Parse(bad, Pos{Line: 1, Col: 1}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
