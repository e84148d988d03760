// Command onnxbench compares, on one machine, resnet50 classification of
// a folder of JPEG photos by augur (SELECT ML_PREDICT(r, image) FROM
// photos) with ONNX Runtime alone on already-decoded tensors (the
// floor). bench/onnx/run.sh also runs PyTorch eager for the same work.
//
//	go run ./bench/onnx -photos DIR -model resnet50.onnx [-threads N]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/augurdb/augur"
	_ "github.com/augurdb/augur/flavor/onnx"
	"github.com/augurdb/augur/imaging"
	rt "github.com/augurdb/augur/runtime/onnx"
)

func main() {
	photos := flag.String("photos", "", "folder of *.jpg photos")
	modelPath := flag.String("model", "", "resnet50 exported to ONNX")
	threads := flag.Int("threads", runtime.NumCPU(), "ONNX Runtime intra-op threads")
	batch := flag.Int("batch", 8, "images per Run for ONNX Runtime alone and augur's batch_size")
	which := flag.String("only", "", "augur or ort: run one side only")
	reps := flag.Int("reps", 3, "runs of each side; the median counts (the machines are noisy)")
	spin := flag.Bool("spin", false, "compare augur with and without its spin guard (AUGUR_SPIN_GUARD), reps runs each, taking turns")
	parts := flag.Int("parts", 1, "with -spin: split the photos between this many concurrent queries")
	flag.Parse()
	paths, _ := filepath.Glob(filepath.Join(*photos, "*.jpg"))
	sort.Strings(paths)
	if len(paths) == 0 || *modelPath == "" {
		fmt.Fprintln(os.Stderr, "usage: onnxbench -photos DIR -model resnet50.onnx")
		os.Exit(2)
	}
	res := map[string]any{"images": len(paths), "threads": *threads, "cpus": runtime.NumCPU(), "batch": *batch, "jpeg": imaging.JPEGDecoder}
	if *spin {
		res["parts"] = *parts
		spinCompare(res, paths, *modelPath, *threads, *batch, *reps, *parts)
		return
	}
	// the sides take turns, so that a slow spell of the machine hits all
	for r := 0; r < *reps; r++ {
		if *which != "ort" {
			secs, err := augurRun(paths, *modelPath, *threads, *batch, false, 1)
			check(err)
			add(res, "augur", secs)
			secs, err = augurRun(paths, *modelPath, *threads, *batch, true, 1)
			check(err)
			add(res, "augur_fast_decode", secs)
		}
		if *which != "augur" {
			secs, err := ortAlone(paths, *modelPath, *threads, *batch)
			check(err)
			add(res, "ort", secs)
		}
		if *which == "" {
			secs, err := entropyFloor(paths)
			check(err)
			add(res, "entropy_floor", secs)
		}
	}
	for _, side := range []string{"augur", "augur_fast_decode", "ort", "entropy_floor"} {
		if all, ok := res[side+"_all_seconds"].([]float64); ok {
			secs := median(all)
			res[side+"_seconds"], res[side+"_images_per_s"] = secs, float64(len(paths))/secs
		}
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// add records one run's seconds under side_all_seconds.
func add(res map[string]any, side string, secs float64) {
	all, _ := res[side+"_all_seconds"].([]float64)
	res[side+"_all_seconds"] = append(all, secs)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// augurRun times SELECT ML_PREDICT(r, image) over the photos, as one
// query or split between parts concurrent queries.
func augurRun(paths []string, modelPath string, threads, batch int, fast bool, parts int) (float64, error) {
	db, err := augur.Open("")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(parts + 1)
	if _, err := db.Exec(fmt.Sprintf("CREATE MODEL r MODEL_TYPE resnet50 OPTIONS (image_size = 224, threads = %d, batch_size = %d, fast_decode = %v) USING '%s'", threads, batch, fast, modelPath)); err != nil {
		return 0, err
	}
	if n := os.Getenv("DUCKDB_THREADS"); n != "" {
		if _, err := db.Exec("SET threads = " + n); err != nil {
			return 0, err
		}
	}
	if _, err := db.Exec("CREATE TABLE photos (id INTEGER, image STRUCT(data BLOB, uri VARCHAR))"); err != nil {
		return 0, err
	}
	for i, p := range paths {
		if _, err := db.Exec("INSERT INTO photos SELECT ?, image(?)", i, p); err != nil {
			return 0, err
		}
	}
	// warm up the session (first Run allocates)
	if _, err := db.Exec("SELECT ML_PREDICT(r, image) FROM photos LIMIT 1"); err != nil {
		return 0, err
	}
	count := func(q string) (int, error) {
		rows, err := db.Query(q)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var v any
			if err := rows.Scan(&v); err != nil {
				return 0, err
			}
			n++
		}
		return n, rows.Err()
	}
	start := time.Now()
	n := 0
	if parts == 1 {
		if n, err = count("SELECT ML_PREDICT(r, image) FROM photos"); err != nil {
			return 0, err
		}
	} else {
		// the photos split between concurrent queries
		var wg sync.WaitGroup
		ns, errs := make([]int, parts), make([]error, parts)
		for k := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ns[k], errs[k] = count(fmt.Sprintf("SELECT ML_PREDICT(r, image) FROM photos WHERE id %% %d = %d", parts, k))
			}()
		}
		wg.Wait()
		for k := range parts {
			if errs[k] != nil {
				return 0, errs[k]
			}
			n += ns[k]
		}
	}
	secs := time.Since(start).Seconds()
	if n != len(paths) {
		return 0, fmt.Errorf("%d results for %d photos", n, len(paths))
	}
	return secs, nil
}

// ortAlone decodes and transforms every photo first (untimed), then times
// ONNX Runtime on the tensors in batches.
func ortAlone(paths []string, modelPath string, threads, batch int) (float64, error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return 0, err
	}
	s, err := rt.NewSession(data, rt.Options{Threads: threads})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	const plane = 3 * 224 * 224
	all := make([]float32, plane*len(paths))
	for i, p := range paths {
		enc, err := os.ReadFile(p)
		if err != nil {
			return 0, err
		}
		im, err := imaging.Decode(enc)
		if err != nil {
			return 0, err
		}
		im.RGB().EvalTransform(224).ToTensor(all[i*plane:(i+1)*plane], imaging.ImageNetMean[:], imaging.ImageNetStd[:])
	}
	run := func(from, to int) error {
		t, err := ort.NewTensor(ort.NewShape(int64(to-from), 3, 224, 224), all[from*plane:to*plane])
		if err != nil {
			return err
		}
		defer t.Destroy()
		outs, err := s.Run([]ort.Value{t})
		rt.Destroy(outs)
		return err
	}
	if err := run(0, 1); err != nil {
		return 0, err
	}
	start := time.Now()
	for from := 0; from < len(paths); from += batch {
		if err := run(from, min(from+batch, len(paths))); err != nil {
			return 0, err
		}
	}
	return time.Since(start).Seconds(), nil
}

// entropyFloor times the least work any JPEG pipeline must do: reading
// each photo and decoding it at libjpeg's smallest DCT scale (1/8), where
// the inverse DCT keeps only the DC terms but every coefficient is still
// Huffman-decoded. One goroutine, so the seconds are core-seconds.
func entropyFloor(paths []string) (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	for _, p := range paths {
		enc, err := os.ReadFile(p)
		if err != nil {
			return 0, err
		}
		if _, err := imaging.DecodeDraft(enc, 1); err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
	}
	return time.Since(start).Seconds(), nil
}

// spinCompare runs augur's exact side with the spin guard on and off,
// taking turns, and prints every run's images/s.
func spinCompare(res map[string]any, paths []string, modelPath string, threads, batch, reps, parts int) {
	for r := 0; r < reps; r++ {
		for _, mode := range []string{"on", "off"} {
			check(os.Setenv("AUGUR_SPIN_GUARD", mode))
			secs, err := augurRun(paths, modelPath, threads, batch, false, parts)
			check(err)
			add(res, "spin_guard_"+mode, secs)
		}
	}
	for _, mode := range []string{"on", "off"} {
		all := res["spin_guard_"+mode+"_all_seconds"].([]float64)
		ips := make([]float64, len(all))
		for i, s := range all {
			ips[i] = math.Round(float64(len(paths))/s*100) / 100
		}
		res["spin_guard_"+mode+"_runs_images_per_s"] = ips
		res["spin_guard_"+mode+"_images_per_s"] = float64(len(paths)) / median(all)
		delete(res, "spin_guard_"+mode+"_all_seconds")
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
