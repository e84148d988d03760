package cli

// A harness that runs augur's command line in a pseudo-terminal, as a user
// at a terminal would: the shell's line editing, completion, Ctrl-C and
// the output that depends on the terminal (its width, progress lines) are
// only reachable this way.
//
// The child is this test binary itself: TestMain runs Main instead of the
// tests when AUGUR_PTY_CHILD is set, so no second build is needed and the
// child has what the tests link in (the "test" flavor, for models without
// model files).
//
//	sh := startPTY(t, ptyOptions{Args: []string{"my.db"}})
//	sh.Expect("augur> ")
//	sh.Line("SELECT 42;")
//	sh.Expect("42")
//	sh.Send(keyCtrlD)
//	sh.Wait() // exit status

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	_ "github.com/augurdb/augur/internal/testflavor" // models without model files
)

// ptyChildEnv marks the child process that runs Main instead of the tests.
const ptyChildEnv = "AUGUR_PTY_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(ptyChildEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// Keys as a terminal sends them.
const (
	keyEnter = "\r"
	keyTab   = "\t"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
	keyUp    = "\x1b[A"
	keyDown  = "\x1b[B"
)

// The terminal's size for every pty test, so that output fitted to the
// width is the same on every machine.
const (
	ptyCols = 120
	ptyRows = 40
)

// ptyWait is how long Expect waits for output before failing. It only
// bounds a hang: no test asserts that anything is fast.
var ptyWait = 60 * time.Second

// ptyOptions says how to start the child.
type ptyOptions struct {
	Args []string // command-line arguments of augur
	Home string   // HOME; default: a new temporary directory
	Dir  string   // working directory; default: Home
	Env  []string // extra environment variables, "K=V"
	Cols int      // terminal width; default ptyCols
	Rows int      // terminal height; default ptyRows
}

// ptyShell is augur running in a pseudo-terminal.
type ptyShell struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File // the terminal's master side
	Home string
	Dir  string

	mu   sync.Mutex
	out  bytes.Buffer // everything the terminal has shown, raw
	mark int          // Expect searches the plain output from here
	read chan struct{}
	eof  chan struct{} // closed when the child's side is gone

	waitOnce sync.Once
	status   int
}

// startPTY starts augur in a new pseudo-terminal; the test's cleanup kills
// it if it is still running.
func startPTY(t *testing.T, o ptyOptions) *ptyShell {
	t.Helper()
	if o.Home == "" {
		o.Home = t.TempDir()
	}
	if o.Dir == "" {
		o.Dir = o.Home
	}
	if o.Cols == 0 {
		o.Cols = ptyCols
	}
	if o.Rows == 0 {
		o.Rows = ptyRows
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	cmd := exec.Command(exe, o.Args...)
	cmd.Dir = o.Dir
	cmd.Env = append(childEnv(), "HOME="+o.Home, "TERM=xterm", "COLUMNS=", "LINES=", ptyChildEnv+"=1")
	cmd.Env = append(cmd.Env, o.Env...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(o.Cols), Rows: uint16(o.Rows)})
	if err != nil {
		t.Fatalf("starting augur in a pty: %v", err)
	}
	s := &ptyShell{t: t, cmd: cmd, tty: tty, Home: o.Home, Dir: o.Dir,
		read: make(chan struct{}, 1), eof: make(chan struct{})}
	go s.copy()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
		}
		s.wait()
		tty.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%s", s.Plain())
		}
	})
	return s
}

// childEnv is this process's environment without what would change the
// child's behaviour (the parent's HOME, terminal and marker).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "TERM", "COLUMNS", "LINES", ptyChildEnv:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// copy collects what the child writes to the terminal.
func (s *ptyShell) copy() {
	defer close(s.eof)
	buf := make([]byte, 4096)
	for {
		n, err := s.tty.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.read <- struct{}{}:
			default:
			}
		}
		if err != nil { // EIO on Linux once the child has closed its side
			return
		}
	}
}

// Send types text (keys included) as it is.
//
// Ctrl-C is a key for the line editor only while it reads a line: the
// editor prints the prompt before it turns the terminal's signals off,
// and a Ctrl-C typed in between is SIGINT (on which the kernel also drops
// the keys typed ahead). So at a prompt, Type something first: its echo
// shows that the editor reads keys.
func (s *ptyShell) Send(text string) {
	s.t.Helper()
	if _, err := io.WriteString(s.tty, text); err != nil {
		s.t.Fatalf("typing %q: %v", text, err)
	}
}

// Type types text and waits for the line editor's echo of it.
func (s *ptyShell) Type(text string) {
	s.t.Helper()
	s.Send(text)
	s.Expect(text)
}

// Line types text and Enter, and waits for the line editor's echo of
// text, so that the next Expect looks at what the line produced: the line
// editor redraws the prompt with the line, and Expect(Prompt) would
// otherwise match that redraw. text is one line that fits the terminal.
func (s *ptyShell) Line(text string) {
	s.t.Helper()
	s.Send(text + keyEnter)
	if text != "" {
		s.Expect(text)
	}
}

// Raw returns everything the terminal has received, escape sequences
// included.
func (s *ptyShell) Raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Plain returns the output without escape sequences and carriage returns.
func (s *ptyShell) Plain() string { return stripEscapes(s.Raw()) }

var escapeSeq = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r`)

// stripEscapes drops terminal escape sequences and carriage returns.
func stripEscapes(s string) string { return escapeSeq.ReplaceAllString(s, "") }

// Expect waits until the plain output after the previous Expect contains
// what, moves past it and returns the plain output up to and including
// it. It fails the test after ptyWait.
func (s *ptyShell) Expect(what string) string {
	s.t.Helper()
	return s.expect(what, func(p string) (int, int) {
		i := strings.Index(p, what)
		return i, i + len(what)
	})
}

// ExpectRe is Expect for a regular expression.
func (s *ptyShell) ExpectRe(re string) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	return s.expect("/"+re+"/", func(p string) (int, int) {
		m := rx.FindStringIndex(p)
		if m == nil {
			return -1, -1
		}
		return m[0], m[1]
	})
}

func (s *ptyShell) expect(what string, find func(string) (int, int)) string {
	s.t.Helper()
	deadline := time.NewTimer(ptyWait)
	defer deadline.Stop()
	for {
		p := s.Plain()
		if s.mark <= len(p) {
			if i, j := find(p[s.mark:]); i >= 0 {
				got := p[s.mark : s.mark+j]
				s.mark += j
				return got
			}
		}
		select {
		case <-s.read:
		case <-s.eof:
			// One last look: the final output may have come with the EOF.
			if p := s.Plain(); s.mark <= len(p) {
				if i, j := find(p[s.mark:]); i >= 0 {
					got := p[s.mark : s.mark+j]
					s.mark += j
					return got
				}
			}
			s.t.Fatalf("augur ended before printing %q; after the last match:\n%s", what, s.rest())
		case <-deadline.C:
			s.t.Fatalf("waited %v for %q; after the last match:\n%s", ptyWait, what, s.rest())
		}
	}
}

// rest is the plain output after the last match.
func (s *ptyShell) rest() string {
	p := s.Plain()
	if s.mark > len(p) {
		return ""
	}
	return p[s.mark:]
}

// Wait waits for augur to exit (after Ctrl-D, .quit, ...) and returns its
// exit status; it fails the test after ptyWait.
func (s *ptyShell) Wait() int {
	s.t.Helper()
	done := make(chan struct{})
	go func() { s.wait(); close(done) }()
	select {
	case <-done:
		return s.status
	case <-time.After(ptyWait):
		s.t.Fatalf("augur did not exit within %v; after the last match:\n%s", ptyWait, s.rest())
		return -1
	}
}

func (s *ptyShell) wait() {
	s.waitOnce.Do(func() {
		err := s.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			s.status = ee.ExitCode()
		default:
			s.status = -1
		}
		// The output the child wrote before exiting is still readable.
		select {
		case <-s.eof:
		case <-time.After(5 * time.Second):
		}
	})
}

// TestPTYHarness: the harness runs Main in a terminal, reads what it
// prints and sees it exit.
func TestPTYHarness(t *testing.T) {
	sh := startPTY(t, ptyOptions{})
	sh.Expect(Prompt)
	sh.Line("SELECT 6 * 7 AS answer;")
	sh.Expect("42")
	sh.Expect(Prompt)
	sh.Send(keyCtrlD)
	if code := sh.Wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if got := fmt.Sprint(stripEscapes("a\x1b[1;32mb\x1b[0m\r\n")); got != "ab\n" {
		t.Errorf("stripEscapes: %q", got)
	}
}
