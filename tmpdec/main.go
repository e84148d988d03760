package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/augurdb/augur"
)

func main() {
	db, _ := augur.Open("")
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(fmt.Sprintf("CREATE MODEL r MODEL_TYPE resnet50 OPTIONS (image_size = 224) USING '%s'", os.Args[2])); err != nil {
		panic(err)
	}
	db.Exec("CREATE TABLE photos AS SELECT row_number() OVER (ORDER BY file) AS id, image(file) AS image FROM glob('" + os.Args[1] + "/*.jpg')")
	db.Exec("SELECT ML_PREDICT(r, image) FROM photos LIMIT 8")
	q := func(where string) {
		rows, err := db.Query("SELECT ML_PREDICT(r, image) FROM photos WHERE " + where)
		if err != nil {
			panic(err)
		}
		for rows.Next() {
		}
	}
	for rep := 0; rep < 3; rep++ {
		t := time.Now()
		q("true")
		one := 256 / time.Since(t).Seconds()
		t = time.Now()
		var wg sync.WaitGroup
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() { defer wg.Done(); q(fmt.Sprintf("id %% 2 = %d", k)) }()
		}
		wg.Wait()
		two := 256 / time.Since(t).Seconds()
		fmt.Printf("one query %.2f img/s, two concurrent queries %.2f img/s (%.2fx)\n", one, two, two/one)
	}
}
