package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chzyer/readline"

	"github.com/augurdb/augur/internal/version"
)

// Prompts of the interactive shell.
const (
	Prompt             = "augur> "
	ContinuationPrompt = "   ...> "
)

// HistoryFile is the shell's history file, in the home directory.
const HistoryFile = ".augur_history"

func isTerminal(f *os.File) bool { return readline.IsTerminal(int(f.Fd())) }

// interrupter cancels the running query on SIGINT. While the shell waits
// for input the terminal is in raw mode and Ctrl-C reaches readline as a
// key instead, which clears the line.
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

// Shell runs the interactive shell on a terminal: line editing, history in
// ~/.augur_history, statements that end with ';' and may span lines, the
// dot commands of .help. A failing statement is reported and the shell
// goes on. Ctrl-C cancels a running query (the shell stays) or clears the
// line being typed; Ctrl-D, .quit or .exit leave.
func (r *Runner) Shell(ctx context.Context, tty *os.File, stdout, stderr io.Writer) error {
	cfg := &readline.Config{
		Prompt:                 Prompt,
		DisableAutoSaveHistory: true,
		HistorySearchFold:      true,
		InterruptPrompt:        "^C",
		EOFPrompt:              "\n", // readline: just a newline
		Stdin:                  io.NopCloser(tty),
		Stdout:                 stdout,
		Stderr:                 stderr,
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		cfg.HistoryFile = filepath.Join(home, HistoryFile)
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return err
	}
	defer rl.Close()
	fmt.Fprintf(stdout, "augur %s (DuckDB %s)\nEnter \".help\" for usage hints.\n", version.String(), duckdbVersion(ctx, r.Conn))

	in := newInterrupter()
	defer in.stop()
	f := &feeder{r: r}
	var lines []string // the lines of the statement being typed, for history
	for {
		if f.pending() {
			rl.SetPrompt(ContinuationPrompt)
		} else {
			rl.SetPrompt(Prompt)
		}
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			f.clear()
			lines = lines[:0]
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "" && !f.pending() {
			continue
		}
		lines = append(lines, line)
		qctx := in.start(ctx)
		err = f.feed(qctx, line)
		if in.done() {
			fmt.Fprintln(stdout) // after the ^C the terminal echoed
		}
		if !f.pending() {
			saveHistory(rl, lines)
			lines = lines[:0]
			f.restart()
		}
		if errors.Is(err, errQuit) {
			return nil
		}
		if err != nil {
			r.Printer.Flush()
			fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
		}
	}
}

// saveHistory records a finished statement as one history entry; one with
// a "--" comment (which would swallow the lines after it) line by line.
func saveHistory(rl *readline.Instance, lines []string) {
	if len(lines) == 0 {
		return
	}
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "--") {
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		rl.SaveHistory(strings.Join(lines, " "))
		return
	}
	for _, l := range lines {
		rl.SaveHistory(l)
	}
}
