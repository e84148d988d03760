package limits

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		in   string
		want int64
		ok   bool
	}{
		{Count, "1000", 1000, true},
		{Count, " 7 ", 7, true},
		{Count, "0", 0, false},
		{Count, "-3", 0, false},
		{Count, "1e6", 0, false},
		{Bytes, "512MiB", 512 << 20, true},
		{Bytes, "4 GiB", 4 << 30, true},
		{Bytes, "4gib", 4 << 30, true},
		{Bytes, "100", 100, true},
		{Bytes, "2GB", 2e9, true},
		{Bytes, "99999999999TiB", 0, false},
		{Bytes, "lots", 0, false},
		{Duration, "30s", int64(30 * time.Second), true},
		{Duration, "0s", 0, false},
		{Duration, "soon", 0, false},
	} {
		got, err := Parse(c.kind, c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("Parse(%v, %q) = %d, %v; want %d, ok=%v", c.kind, c.in, got, err, c.want, c.ok)
		}
	}
}

func TestEnvAndSet(t *testing.T) {
	l := &Limit{Name: "widgets", Env: "AUGUR_TEST_MAX_WIDGETS", Kind: Bytes, Default: 1 << 20}
	t.Setenv(l.Env, "2MiB")
	if got := l.Get(); got != 2<<20 {
		t.Fatalf("from the environment: %d", got)
	}
	restore := l.Set(10)
	if err := l.Check("a widget", 11); err == nil || !strings.Contains(err.Error(), "AUGUR_TEST_MAX_WIDGETS") || !strings.Contains(err.Error(), "11 bytes is more than the limit of 10 bytes widgets") {
		t.Errorf("Check: %v", err)
	}
	if err := l.Check("a widget", 10); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	restore()
	if got := l.Get(); got != 2<<20 {
		t.Errorf("after restore: %d", got)
	}

	bad := &Limit{Name: "x", Env: "AUGUR_TEST_MAX_X", Kind: Count, Default: 5}
	t.Setenv(bad.Env, "many")
	if bad.Get() != 5 || bad.envError == nil {
		t.Errorf("an invalid value keeps the default and is reported: %d %v", bad.Get(), bad.envError)
	}
}

// TestReadme: the README's Limits table lists every limit with its
// environment variable and default, and nothing else.
func TestReadme(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "\n## Limits")
	if start < 0 {
		t.Fatal("README has no Limits section")
	}
	section := text[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	row := regexp.MustCompile("(?m)^\\| `(AUGUR_[A-Z_]+)` \\| ([^|]+) \\|")
	seen := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		seen[m[1]] = strings.TrimSpace(m[2])
	}
	for _, l := range All() {
		def, ok := seen[l.Env]
		if !ok {
			t.Errorf("README's Limits table lacks %s", l.Env)
			continue
		}
		if want := Format(l.Kind, l.Default); def != want {
			t.Errorf("README gives %s a default of %q; the code has %q", l.Env, def, want)
		}
		delete(seen, l.Env)
	}
	for env := range seen {
		t.Errorf("README lists %s, which is no limit", env)
	}
}
