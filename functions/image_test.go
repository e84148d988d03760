package functions_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/augurdb/augur"
	"github.com/augurdb/augur/types"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func one(t *testing.T, db *sql.DB, q string) any {
	t.Helper()
	var v any
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func wantErr(t *testing.T, db *sql.DB, q string, sub string) {
	t.Helper()
	var v any
	err := db.QueryRow(q).Scan(&v)
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Errorf("%s: error %v, want one containing %q", q, err, sub)
	}
}

func TestImageFunctions(t *testing.T) {
	db := openDB(t)
	cases := []struct{ q, want string }{
		{"SELECT image('/tmp/cat.jpg')", "map[data:<nil> uri:/tmp/cat.jpg]"},
		{"SELECT to_image('s3://b/cat.jpg')", "map[data:<nil> uri:s3://b/cat.jpg]"},
		{"SELECT to_image('\\x01\\x02'::BLOB)", "map[data:[1 2] uri:<nil>]"},
		{"SELECT image('a.png').uri", "a.png"},
		{"SELECT typeof(image('a.png'))", "STRUCT(\"data\" BLOB, uri VARCHAR)"},
		{"SELECT image(NULL) IS NULL", "true"},
		{"SELECT count(*) FROM (SELECT image('x' || i) FROM range(3000) r(i))", "3000"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(one(t, db, c.q)); got != c.want {
			t.Errorf("%s = %s, want %s", c.q, got, c.want)
		}
	}
	if tt, ok := types.Lookup("image"); !ok || tt.SQL() != `STRUCT("data" BLOB, "uri" VARCHAR)` {
		t.Errorf("named type image: %v %v", tt, ok)
	}
}

func TestBox2dFunctions(t *testing.T) {
	db := openDB(t)
	cases := []struct{ q, want string }{
		{"SELECT box2d(1, 2, 3, 5)", "map[xmax:3 xmin:1 ymax:5 ymin:2]"},
		{"SELECT area(box2d(1, 2, 3, 5))", "6"},
		{"SELECT iou(box2d(0, 0, 20, 20), box2d(10, 10, 30, 30))", fmt.Sprint(1.0 / 7)},
		{"SELECT iou(box2d(0, 0, 1, 1), box2d(2, 2, 3, 3))", "0"},
		{"SELECT iou(box2d(0, 0, 10, 10), box2d(0, 0, 10, 10))", "1"},
		{"SELECT iou(box2d(0, 0, 0, 0), box2d(0, 0, 0, 0))", "0"},
		// a box from another query, and a plain struct with integer fields
		{"SELECT area({'xmin': 0, 'ymin': 0, 'xmax': 4, 'ymax': 2.5})", "10"},
		{"SELECT area(NULL) IS NULL", "true"},
		{"SELECT box2d(1, 2, 3, 5).xmax", "3"},
		{"SELECT typeof(box2d(1, 2, 3, 5))", "STRUCT(xmin DOUBLE, ymin DOUBLE, xmax DOUBLE, ymax DOUBLE)"},
		{"SELECT sum(area(box2d(0, 0, i, i)))::BIGINT FROM range(3000) r(i)", fmt.Sprint(int64(2999) * 3000 * 5999 / 6)},
		// Rikai's box2d_from_center and box2d_from_top_left
		{"SELECT box2d_from_center(10, 10, 4, 6)", "map[xmax:12 xmin:8 ymax:13 ymin:7]"},
		{"SELECT box2d_from_top_left(1, 2, 3, 4)", "map[xmax:4 xmin:1 ymax:6 ymin:2]"},
		// to_struct: Rikai's types are structs already
		{"SELECT to_struct(box2d(1, 2, 3, 5)).xmax", "3"},
		{"SELECT to_struct(image('a.png')).uri", "a.png"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(one(t, db, c.q)); got != c.want {
			t.Errorf("%s = %s, want %s", c.q, got, c.want)
		}
	}
	wantErr(t, db, "SELECT box2d(3, 2, 1, 5)", "0 <= xmin <= xmax")
	wantErr(t, db, "SELECT box2d(-1, 0, 1, 5)", "0 <= xmin <= xmax")
	wantErr(t, db, "SELECT box2d_from_center(1, 1, 4, 4)", "box2d_from_center(1, 1, 4, 4): need 0 <= xmin")
	wantErr(t, db, "SELECT box2d_from_top_left(1, 1, -4, 4)", "box2d_from_top_left(1, 1, -4, 4): need 0 <= xmin")
	wantErr(t, db, "SELECT area(123)", "area")
	wantErr(t, db, "SELECT area('s')", "")
	if tt, ok := types.Lookup("box2d"); !ok || len(tt.Fields) != 4 {
		t.Errorf("named type box2d: %v %v", tt, ok)
	}
}
