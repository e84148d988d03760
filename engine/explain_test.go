package engine

import (
	"strings"
	"testing"
)

// Plans as DuckDB draws them (EXPLAIN of rewritten queries), and as
// readablePlan must show them.
var planTests = []struct{ name, raw, want string }{
	{"filter", `┌─────────────┴─────────────┐
│           FILTER          │
│    ────────────────────   │
│(__augur_predict_rpm4cnvg84│
│ 2a('iris', a, b, c, d) =  │
│         'setosa')         │
│                           │
│          ~30 rows         │
└─────────────┬─────────────┘`, `┌─────────────┴─────────────┐
│           FILTER          │
│    ────────────────────   │
│ (ML_PREDICT(iris, a, b, c,│
│       d) = 'setosa')      │
│                           │
│          ~30 rows         │
└─────────────┬─────────────┘`},
	{"projection", `┌───────────────────────────┐
│         PROJECTION        │
│    ────────────────────   │
│(upper(__augur_predict_rpm4│
│ cnvg842a('iris', a, b, c, │
│         d)) || 'x')       │
│                           │
│          ~30 rows         │
└─────────────┬─────────────┘`, `┌───────────────────────────┐
│         PROJECTION        │
│    ────────────────────   │
│ (upper(ML_PREDICT(iris, a,│
│      b, c, d)) || 'x')    │
│                           │
│          ~30 rows         │
└─────────────┬─────────────┘`},
	{"cast", `┌─────────────┴─────────────┐
│           FILTER          │
│    ────────────────────   │
│(__augur_predict_rpm4cnvg84│
│ 2a('iris', a, b, c, (CAST │
│ (d AS DOUBLE) + (a * 2.0))│
│         ) != 'x')         │
│                           │
│          ~30 rows         │
└─────────────┬─────────────┘`, `┌─────────────┴─────────────┐
│           FILTER          │
│    ────────────────────   │
│ (ML_PREDICT(iris, a, b, c,│
│  (CAST(d AS DOUBLE) + (a *│
│       2.0))) != 'x')      │
│                           │
│          ~30 rows         │
└─────────────┬─────────────┘`},
}

func TestReadablePlan(t *testing.T) {
	for _, tt := range planTests {
		got := readablePlan(tt.raw, "", "")
		if got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestSplitPlanText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"(__augur_predict_rpm4cnvg842a('iris', a, b, c, (CAST(d AS DOUBLE) + (a * 2.0))) != 'x')",
			[]string{"(__augur_predict_rpm4cnvg84", "2a('iris', a, b, c, (CAST", "(d AS DOUBLE) + (a * 2.0))", ") != 'x')"}},
		{"(upper(__augur_predict_rpm4cnvg842a('iris', a, b, c, d)) || 'x')",
			[]string{"(upper(__augur_predict_rpm4", "cnvg842a('iris', a, b, c,", " d)) || 'x')"}},
		{"short", []string{"short"}},
	} {
		if got := splitPlanText(tt.in, boxInner); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitPlanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
