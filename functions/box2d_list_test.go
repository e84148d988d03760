package functions_test

import (
	"fmt"
	"testing"
)

// TestBox2dFromList: Rikai's box2d, box2d_from_center and
// box2d_from_top_left take one list [a, b, c, d]; augur takes it (LIST or
// fixed-size ARRAY, of any numbers) besides the 4-argument form, and
// refuses a list of another length or with NULLs.
func TestBox2dFromList(t *testing.T) {
	db := openDB(t)
	for _, c := range []struct{ q, want string }{
		{"SELECT box2d([1, 2, 3, 4])", "map[xmax:3 xmin:1 ymax:4 ymin:2]"},
		{"SELECT box2d([1.5, 2, 3, 4]::DOUBLE[4])", "map[xmax:3 xmin:1.5 ymax:4 ymin:2]"},
		{"SELECT box2d([0.5::FLOAT, 1, 2, 3]) = box2d(0.5, 1, 2, 3)", "true"},
		{"SELECT box2d_from_center([2, 2, 2, 2])", "map[xmax:3 xmin:1 ymax:3 ymin:1]"},
		{"SELECT box2d_from_top_left([1, 1, 2, 2])", "map[xmax:3 xmin:1 ymax:3 ymin:1]"},
		{"SELECT box2d(NULL::DOUBLE[]) IS NULL", "true"},
		{"SELECT string_agg(area(box2d(l))::VARCHAR, ',') FROM (VALUES ([0, 0, 1, 1]), ([0, 0, 2, 3])) v(l)", "1.0,6.0"},
	} {
		if got := fmt.Sprint(one(t, db, c.q)); got != c.want {
			t.Errorf("%s = %s, want %s", c.q, got, c.want)
		}
	}
	wantErr(t, db, "SELECT box2d([1, 2, 3])", "box2d takes a list of 4 numbers [xmin, ymin, xmax, ymax], got 3")
	wantErr(t, db, "SELECT box2d([1, 2, 3, 4, 5])", "got 5")
	wantErr(t, db, "SELECT box2d([1, NULL, 3, 4])", "element 2 of [xmin, ymin, xmax, ymax] is NULL")
	wantErr(t, db, "SELECT box2d([3, 0, 1, 1])", "need 0 <= xmin <= xmax")
	wantErr(t, db, "SELECT box2d_from_center([0, 0, 2, 2])", "box2d_from_center(0, 0, 2, 2)")
	wantErr(t, db, "SELECT box2d_from_top_left([1, 1])", "box2d_from_top_left takes a list of 4 numbers [x, y, width, height], got 2")
}
