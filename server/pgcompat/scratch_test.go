package pgcompat

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/augurdb/augur"
)

func TestScratch(t *testing.T) {
	f := os.Getenv("SCRATCH")
	if f == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(f)
	db, err := augur.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range strings.Split(string(b), "\n;;\n") {
		q = strings.TrimSpace(q)
		if q == "" {
			continue
		}
		fmt.Println("==>", q)
		rows, err := db.Query(q)
		if err != nil {
			fmt.Println("ERR", err)
			continue
		}
		cols, _ := rows.Columns()
		fmt.Println(cols)
		for rows.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			rows.Scan(p...)
			fmt.Printf("%#v\n", v)
		}
		if err := rows.Err(); err != nil {
			fmt.Println("ERR", err)
		}
		rows.Close()
	}
}
