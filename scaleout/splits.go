package scaleout

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// inputFile is one file of the input and its size.
type inputFile struct {
	name  string
	bytes int64
}

// planSplits lists the scan's files (globs expanded by DuckDB, relative
// names made absolute here, since workers run elsewhere) and cuts them
// into splits of about the target size: small files grouped, a large
// file cut between its row groups.
func planSplits(ctx context.Context, conn *sql.Conn, scan node, opt Options) ([]Split, error) {
	patterns, err := scanFiles(scan)
	if err != nil {
		return nil, err
	}
	var files []inputFile
	var total int64
	for _, pat := range patterns {
		fs, err := expand(ctx, conn, pat)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			total += f.bytes
		}
		files = append(files, fs...)
	}
	target := opt.SplitBytes
	if target <= 0 {
		target = total / int64(4*opt.Workers)
		if target < 1<<20 {
			target = 1 << 20
		}
	}
	rowSplits := !scanHasRowNumber(scan)
	var splits []Split
	var cur Split
	flush := func() {
		if len(cur.Files) > 0 {
			splits = append(splits, cur)
			cur = Split{}
		}
	}
	for _, f := range files {
		if rowSplits && f.bytes > target && !strings.Contains(f.name, "://") {
			ranges, err := rowRanges(ctx, conn, f.name, target)
			if err != nil {
				return nil, err
			}
			if len(ranges) > 1 {
				flush()
				splits = append(splits, ranges...)
				continue
			}
		}
		if len(cur.Files) > 0 && cur.Bytes+f.bytes > target {
			flush()
		}
		cur.Files = append(cur.Files, f.name)
		cur.Bytes += f.bytes
	}
	flush()
	for i := range splits {
		splits[i].Index = i
	}
	return splits, nil
}

// expand lists the files of one name or glob pattern, as read_parquet
// would read them.
func expand(ctx context.Context, conn *sql.Conn, pat string) ([]inputFile, error) {
	if strings.Contains(pat, "://") {
		// Object stores are listed by DuckDB's extensions on the worker;
		// the pattern is one split.
		return []inputFile{{name: pat, bytes: 1}}, nil
	}
	abs, err := filepath.Abs(pat)
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, "SELECT file FROM glob(?) ORDER BY file", abs)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", pat, err)
	}
	defer rows.Close()
	var out []inputFile
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", f, err)
		}
		if st.Mode().IsRegular() {
			out = append(out, inputFile{name: f, bytes: st.Size()})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no files found that match the pattern %q", pat)
	}
	return out, nil
}

// rowRanges cuts one Parquet file between row groups into ranges of
// about target compressed bytes.
func rowRanges(ctx context.Context, conn *sql.Conn, file string, target int64) ([]Split, error) {
	rows, err := conn.QueryContext(ctx, `SELECT row_group_id, any_value(row_group_num_rows), sum(total_compressed_size)
		FROM parquet_metadata(?) GROUP BY row_group_id ORDER BY row_group_id`, file)
	if err != nil {
		return nil, fmt.Errorf("reading the row groups of %s: %w", file, err)
	}
	defer rows.Close()
	var out []Split
	var start, at, bytes int64
	for rows.Next() {
		var id, n, b int64
		if err := rows.Scan(&id, &n, &b); err != nil {
			return nil, err
		}
		if at > start && bytes+b > target {
			out = append(out, Split{Files: []string{file}, Rows: [2]int64{start, at}, Bytes: bytes})
			start, bytes = at, 0
		}
		at += n
		bytes += b
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if at > start {
		out = append(out, Split{Files: []string{file}, Rows: [2]int64{start, at}, Bytes: bytes})
	}
	return out, nil
}

// Buckets deals the splits to n workers, largest first to the least
// loaded (balanced by size), each bucket in split order.
func Buckets(splits []Split, n int) [][]Split {
	if n < 1 {
		n = 1
	}
	if n > len(splits) && len(splits) > 0 {
		n = len(splits)
	}
	order := append([]Split(nil), splits...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Bytes > order[j].Bytes })
	out := make([][]Split, n)
	load := make([]int64, n)
	for _, s := range order {
		min := 0
		for i := range load {
			if load[i] < load[min] {
				min = i
			}
		}
		out[min] = append(out[min], s)
		load[min] += s.Bytes
	}
	for _, b := range out {
		sort.Slice(b, func(i, j int) bool { return b[i].Index < b[j].Index })
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
