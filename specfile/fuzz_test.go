package specfile

import (
	"strings"
	"testing"
	"unicode"

	"github.com/augurdb/augur/internal/peakrss"
)

// FuzzParse feeds arbitrary bytes to the spec reader: it must return a
// spec or an error, never panic, and its errors must hold no raw control
// characters (a spec's text is untrusted). Run it longer with
//
//	go test ./specfile -run '^$' -fuzz '^FuzzParse$' -fuzztime 10m
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"version: \"1.0\"\nmodel: {uri: m.onnx, flavor: onnx, type: resnet50}\n",
		"version: \"1.0\"\nschema: struct<a:int>\nmodel:\n  uri: m.pkl\nlabels: {uri: l.json}\noptions: {a: 1, b: true}\n",
		"version: 1.0\n",
		"version: \"2\x1b[2J\"\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"version: \"1.0\"\nmodel: {uri: m}\noptions: {\"\x1b]0;t\x07\": [1]}\n",
		"- - - - [",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse(data, "s.yml")
		if err == nil {
			if spec.Version != "1.0" {
				t.Fatalf("accepted version %q", spec.Version)
			}
			return
		}
		if strings.IndexFunc(err.Error(), func(r rune) bool { return unicode.IsControl(r) }) >= 0 {
			t.Fatalf("control character in error: %q", err.Error())
		}
	})
}

// TestHostileSpec: text from a spec is escaped in errors, and an alias
// bomb (YAML's "billion laughs") costs no memory: specs are read as YAML
// nodes, whose aliases are never expanded.
func TestHostileSpec(t *testing.T) {
	_, err := Parse([]byte(`version: "9\e[2J\e]0;pwned\a"`+"\n"), "s.yml")
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") || !strings.Contains(err.Error(), `\x1b[2J`) {
		t.Errorf("version with escapes: %v", err)
	}
	_, err = Parse([]byte("version: \"1.0\"\nmodel: {uri: m}\noptions:\n  \"a\\eb\": [1]\n"), "s.yml")
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) || !strings.Contains(err.Error(), `a\x1bb`) {
		t.Errorf("option name with escapes: %v", err)
	}
	var b strings.Builder
	b.WriteString("version: \"1.0\"\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("model: {uri: m}\n")
	peakrss.Within(t, 256<<20, func() {
		_, err = Parse([]byte(b.String()), "s.yml")
	})
	if err != nil {
		t.Errorf("alias bomb: %v", err)
	}
}
