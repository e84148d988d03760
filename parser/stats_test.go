package parser

import (
	"reflect"
	"testing"
)

func TestParseShowModelStats(t *testing.T) {
	for _, tt := range []struct {
		src string
		at  Pos
	}{
		{"SHOW MODEL STATS", at(0, 1, 1)},
		{"show model stats;;", at(0, 1, 1)},
		{"  Show /* c */ Model\n Stats -- x", at(2, 1, 3)},
	} {
		got, err := Parse(tt.src, origin)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		if want := (&ShowModelStats{At: tt.at}); !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.src, got, want)
		}
	}
}

// SHOW model is DuckDB's DESCRIBE of a table named model: only SHOW
// MODEL STATS is ours.
func TestParseShowModelPassThrough(t *testing.T) {
	for _, src := range []string{"SHOW model", "show model;", "SHOW model.stats", "SHOW MODEL STATS.x", `SHOW MODEL "STATS"`, "SHOW \"model\" stats"} {
		st, err := Parse(src, origin)
		if st != nil || err != nil {
			t.Errorf("Parse(%q) = %#v, %v; want nil, nil (DuckDB's)", src, st, err)
		}
	}
}

func TestParseShowModelStatsErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"SHOW MODEL STATS LIKE 'x'", "line 1, column 18: unexpected 'LIKE' after SHOW MODEL STATS"},
		{"SHOW MODEL STATS; x", "line 1, column 19: unexpected 'x' after SHOW MODEL STATS"},
		{"SHOW MODEL STATS 'abc", "line 1, column 18: unterminated string literal"},
	} {
		_, err := Parse(tt.src, origin)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v, want %s", tt.src, err, tt.want)
		}
	}
}
