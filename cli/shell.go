package cli

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/peterh/liner"
	"golang.org/x/term"

	"github.com/augurdb/augur/internal/version"
	"github.com/augurdb/augur/source"
)

// Prompts of the interactive shell.
const (
	Prompt             = "augur> "
	ContinuationPrompt = "   ...> "
)

// HistoryFile is the shell's history file, in the home directory. It
// keeps the last historyLimit statements.
const HistoryFile = ".augur_history"

// historyLimit is how many entries the history keeps (liner's bound).
const historyLimit = liner.HistoryLimit

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// interrupter cancels the running query on SIGINT. While the shell waits
// for input, the line editor turns the terminal's signals off and Ctrl-C
// reaches it as a key instead, which clears the line.
type interrupter struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	hit    bool // a signal arrived during the current batch
	sigs   chan os.Signal
}

func newInterrupter() *interrupter {
	in := &interrupter{sigs: make(chan os.Signal, 1)}
	signal.Notify(in.sigs, os.Interrupt)
	go func() {
		for range in.sigs {
			in.mu.Lock()
			if in.cancel != nil {
				in.cancel()
				in.hit = true
			}
			in.mu.Unlock()
		}
	}()
	return in
}

// start returns the context for one batch of statements.
func (in *interrupter) start(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	in.mu.Lock()
	in.cancel, in.hit = cancel, false
	in.mu.Unlock()
	return ctx
}

// done ends the batch and reports whether it was interrupted.
func (in *interrupter) done() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cancel != nil {
		in.cancel()
		in.cancel = nil
	}
	return in.hit
}

func (in *interrupter) stop() {
	signal.Stop(in.sigs)
	close(in.sigs)
}

// Shell runs the interactive shell on a terminal: line editing (peterh/
// liner), history in ~/.augur_history, Tab completion (complete.go),
// statements that end with ';' and may span lines, the dot commands of
// .help, and a progress line for statements that run over two seconds.
// A failing statement is reported and the shell goes on. Ctrl-C cancels a
// running query (the shell stays) or clears the statement being typed;
// Ctrl-D, .quit or .exit leave.
//
// The line editor reads the process's standard input and writes its
// standard output, which tty and stdout are in practice.
func (r *Runner) Shell(ctx context.Context, tty *os.File, stdout, stderr io.Writer) error {
	if f, ok := stdout.(*os.File); !ok || !isTerminal(f) || !isTerminal(tty) {
		// No line editing without a terminal both ways: read lines as
		// they come, reporting errors and going on, as the shell does.
		return r.plainShell(ctx, tty, stderr)
	}
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetMultiLineMode(true)
	ln.SetTabCompletionStyle(liner.TabPrints)
	comp := newCompleter(func() *sql.Conn { return r.Conn })
	ln.SetWordCompleter(func(line string, pos int) (string, []string, string) {
		return comp.complete(ctx, line, pos)
	})
	hist := openHistory(ln)

	fmt.Fprintf(stdout, "augur %s (DuckDB %s)\nEnter \".help\" for usage hints.\n", version.String(), duckdbVersion(ctx, r.Conn))

	in := newInterrupter()
	defer in.stop()
	watcher := newQueryWatcher(stdout)
	f := &feeder{r: r}
	var lines []string // the lines of the statement being typed, for history
	for {
		prompt := Prompt
		if f.pending() {
			prompt = ContinuationPrompt
		}
		line, err := ln.Prompt(prompt)
		if errors.Is(err, liner.ErrPromptAborted) { // Ctrl-C; liner printed ^C
			f.clear()
			lines = lines[:0]
			continue
		}
		if errors.Is(err, io.EOF) { // Ctrl-D on an empty line
			fmt.Fprintln(stdout)
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the terminal: %w", err)
		}
		if strings.TrimSpace(line) == "" && !f.pending() {
			continue
		}
		lines = append(lines, line)
		qctx := in.start(ctx)
		if watcher != nil {
			// The watcher draws downloads in its line, instead of the
			// download line session() set up on standard error.
			qctx = source.WithProgress(withQueryWatcher(qctx, watcher), watcher.downloadProgress)
		}
		err = f.feed(qctx, line)
		in.done()
		if !f.pending() {
			hist.save(ln, lines)
			lines = lines[:0]
			f.restart()
			comp.invalidate() // the statement may have created or dropped names
		}
		if errors.Is(err, errQuit) {
			return nil
		}
		if r.reportFailure(err, stderr) {
			return nil
		}
	}
}

// plainShell reads statements from a terminal whose output is not one
// (augur > file): no prompt, no editing, no history; a failing statement
// is reported and the next one runs.
func (r *Runner) plainShell(ctx context.Context, tty *os.File, stderr io.Writer) error {
	in := newInterrupter()
	defer in.stop()
	f := &feeder{r: r}
	br := bufio.NewReader(tty)
	for {
		line, rerr := br.ReadString('\n')
		if line != "" {
			err := f.feed(in.start(ctx), line)
			in.done()
			if errors.Is(err, errQuit) {
				return nil
			}
			if r.reportFailure(err, stderr) {
				return nil
			}
		}
		if rerr != nil {
			err := f.finish(in.start(ctx))
			in.done()
			return err
		}
	}
}

// history is the shell's history file. Entries are written when a
// statement finishes, so that a shell that is killed keeps them.
type history struct {
	path string // "" when there is no home directory: no history
}

// Bounds of the history file: liner reads no line over 4096 bytes (and
// stops at one), so longer statements are not kept; at most
// historyLimit entries of that size are read.
const (
	maxHistoryEntry = 4000
	maxHistoryFile  = historyLimit * (maxHistoryEntry + 1)
)

// openHistory loads ~/.augur_history into the line editor.
func openHistory(ln *liner.State) history {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return history{}
	}
	h := history{path: filepath.Join(home, HistoryFile)}
	entries := readHistoryFile(h.path)
	ln.ReadHistory(strings.NewReader(strings.Join(entries, "\n")))
	return h
}

// readHistoryFile returns the last historyLimit usable entries of a
// history file: lines that are valid UTF-8 and not too long for liner
// (a bad line would make liner drop the rest). A file that cannot be
// read is an empty history.
func readHistoryFile(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	skipFirst := false
	if fi, err := f.Stat(); err == nil && fi.Size() > maxHistoryFile {
		// Only the end holds the newest entries; its first line is cut.
		f.Seek(fi.Size()-maxHistoryFile, io.SeekStart)
		skipFirst = true
	}
	sc := bufio.NewScanner(io.LimitReader(f, maxHistoryFile))
	sc.Buffer(make([]byte, 0, 64*1024), maxHistoryFile)
	var out []string
	for sc.Scan() {
		line := sc.Text()
		if skipFirst {
			skipFirst = false
			continue
		}
		if line == "" || len(line) > maxHistoryEntry || !utf8.ValidString(line) {
			continue
		}
		out = append(out, line)
	}
	if len(out) > historyLimit {
		out = out[len(out)-historyLimit:]
	}
	return out
}

// save records a finished statement as one history entry (a statement
// with a "--" comment, which would swallow the lines after it, line by
// line) and rewrites the file: liner bounds it to historyLimit entries.
// A history that cannot be written is not worth stopping the shell for.
func (h history) save(ln *liner.State, lines []string) {
	if len(lines) == 0 {
		return
	}
	for _, e := range historyEntries(lines) {
		if len(e) <= maxHistoryEntry && utf8.ValidString(e) {
			ln.AppendHistory(e)
		}
	}
	if h.path == "" {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), HistoryFile+".*")
	if err != nil {
		return
	}
	_, werr := ln.WriteHistory(tmp)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	// The history may hold secrets (CREATE SECRET ...): the temporary
	// file is the user's only (0600), and replaces the old one whole.
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		os.Remove(tmp.Name())
	}
}

// historyEntries turns the lines of one statement into history entries:
// one, the lines joined by spaces, unless a "--" comment would swallow
// the lines after it once joined.
func historyEntries(lines []string) []string {
	var out []string
	if strings.Contains(strings.Join(lines, "\n"), "--") {
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		return out
	}
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return []string{strings.Join(parts, " ")}
}

// reportFailure prints a failed statement's error, as both shells do,
// and reports whether the shell stops (-bail, .bail on: dot.go), with
// exit status 1. A nil err prints nothing.
func (r *Runner) reportFailure(err error, stderr io.Writer) (stop bool) {
	if err == nil {
		return false
	}
	r.Printer.Flush()
	fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
	if r.Bail() {
		r.ExitCode = 1
		return true
	}
	return false
}
