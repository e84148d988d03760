package glibctune

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The test binary imports this package, so its init executes it again as
// it does the augur command. TestReexec starts the test binary as a child
// (running only TestChildReport) with and without GLIBC_TUNABLES and reads
// what the child saw after its init.

func TestChildReport(t *testing.T) {
	if os.Getenv("GLIBCTUNE_CHILD") != "1" {
		t.Skip("run by TestReexec")
	}
	v, ok := os.LookupEnv("GLIBC_TUNABLES")
	fmt.Printf("pid=%d set=%t value=%q\n", os.Getpid(), ok, v)
}

func TestReexec(t *testing.T) {
	cases := []struct {
		name string
		env  []string // GLIBC_TUNABLES as the parent sets it; nil: unset
		want string
	}{
		{"unset: tuned", nil, `set=true value="` + Tunables + `"`},
		{"set by the user: kept", []string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2"}, `set=true value="glibc.malloc.arena_max=2"`},
		{"empty: off", []string{"GLIBC_TUNABLES="}, `set=true value=""`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestChildReport$", "-test.v")
			cmd.Env = append(without(os.Environ(), "GLIBC_TUNABLES"), "GLIBCTUNE_CHILD=1")
			cmd.Env = append(cmd.Env, c.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("child reported\n%s\nwant %s", out, c.want)
			}
			// executed in place: the process that reports is the one started
			if want := "pid=" + strconv.Itoa(cmd.Process.Pid) + " "; !strings.Contains(string(out), want) {
				t.Fatalf("child reported\n%s\nwant %s (the same process, executed again)", out, want)
			}
		})
	}
}

func without(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
