package scaleout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PrepareTarget makes COPY's folder, which must be new or empty: parts
// of an earlier job would be read back with this one's, and an input
// file inside it could be replaced by a part before it was read.
func (p *Plan) PrepareTarget() error {
	if p.Target == "" {
		return nil
	}
	if strings.Contains(p.Target, "://") {
		return unsupported("COPY TO %s: augur-beam writes to a folder of a file system every worker sees (parts are renamed into place)", p.Target)
	}
	for _, s := range p.Splits {
		for _, f := range s.Files {
			if rel, err := filepath.Rel(p.Target, f); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return fmt.Errorf("COPY TO %s: the input %s is inside the folder, and the parts written there would replace it; write to another folder", p.Target, f)
			}
		}
	}
	st, err := os.Stat(p.Target)
	switch {
	case errors.Is(err, os.ErrNotExist):
		p.madeTarget = true
		return os.MkdirAll(p.Target, 0o755)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("COPY TO %s: it is a file; augur-beam writes a folder of part files", p.Target)
	}
	entries, err := os.ReadDir(p.Target)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("COPY TO %s: the folder is not empty (it holds %s); augur-beam writes part-NNNNN.%s files into a new or empty folder: remove what it holds, or write to another folder", p.Target, entries[0].Name(), p.Ext)
	}
	return nil
}

// Pending returns the splits still to run: for COPY, those without a
// record of having finished (a job run again after a failure does only
// the rest); for aggregates, all (partials are not kept between runs).
func (p *Plan) Pending() []Split {
	if p.Kind != Copy {
		return p.Splits
	}
	var out []Split
	for _, s := range p.Splits {
		if _, err := os.Stat(p.doneName(s.Index)); err != nil {
			out = append(out, s)
		}
	}
	return out
}

// Finish readies the result on the launcher's connection (the user's
// database) and returns the statement that prints it as the embedded
// engine prints the original: for COPY of rows, the count of rows
// written; for aggregates, the user's query over the merged partials (or
// the COPY of it into the folder).
func (p *Plan) Finish(ctx context.Context, conn *sql.Conn) (string, error) {
	defer p.removeTemporaries()
	if p.Kind == Copy {
		var total int64
		for _, s := range p.Splits {
			b, err := os.ReadFile(p.doneName(s.Index))
			if err != nil {
				return "", fmt.Errorf("split %d (%s) did not finish", s.Index, strings.Join(s.Files, ", "))
			}
			n, err := strconv.ParseInt(string(b), 10, 64)
			if err != nil {
				return "", fmt.Errorf("split %d: bad record %q", s.Index, b)
			}
			total += n
		}
		return "SELECT CAST(" + strconv.FormatInt(total, 10) + " AS BIGINT) AS \"Count\"", nil
	}
	files, err := filepath.Glob(filepath.Join(p.Temp, "merged-*.parquet"))
	if err != nil {
		return "", err
	}
	view := p.Empty
	if len(files) > 0 {
		quoted := make([]string, len(files))
		for i, f := range files {
			quoted[i] = quoteString(f)
		}
		view = "SELECT * FROM read_parquet([" + strings.Join(quoted, ", ") + "])"
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+MergedView+" AS "+view); err != nil {
		return "", fmt.Errorf("reading the merged partials: %w", err)
	}
	if p.Target == "" {
		return p.Final, nil
	}
	return "COPY (" + p.Final + ") TO " + quoteString(p.PartName(0)) + " (" + p.CopyOptions + ")", nil
}

// Discard removes what a failed COPY job wrote, so that no partial
// result is left to be read as the whole: the parts of the splits that
// finished, the temporary files of those that did not, and the folder
// when the job made it. The folder was new or empty before the job
// (PrepareTarget), so all of it is the job's.
func (p *Plan) Discard() {
	if p.Target == "" || strings.Contains(p.Target, "://") {
		return
	}
	p.removeTemporaries()
	for _, s := range p.Splits {
		os.Remove(p.PartName(s.Index))
	}
	if p.madeTarget {
		os.Remove(p.Target) // only when empty
	}
}

// removeTemporaries removes what failed attempts left in COPY's folder.
func (p *Plan) removeTemporaries() {
	if p.Target == "" {
		return
	}
	left, _ := filepath.Glob(filepath.Join(p.Target, tmpPrefix+"*"))
	for _, f := range left {
		os.Remove(f)
	}
}
