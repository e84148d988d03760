package modeltype

import (
	"strings"
	"testing"
)

// FuzzMetadata feeds arbitrary metadata values, as an ONNX file's
// metadata_props hold them, to the label and mean/std readers: no panic,
// and no raw control character in the labels that reach query results or
// in the errors.
//
//	go test ./modeltype -run '^$' -fuzz '^FuzzMetadata$' -fuzztime 10m -parallel 1
func FuzzMetadata(f *testing.F) {
	for _, s := range []string{`["cat", "dog"]`, `[0, 1.5, true, null, {"a": 1}]`, `"x"`, `[0.485, 0.456, 0.406]`, `0.5`,
		"[\"\x1b[2J\", \"\u009b1m\"]", `["\u001b]0;pwned\u0007"]`, `[`, ``, `[1e999]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		labels, err := parseLabels(raw)
		if err != nil {
			checkClean(t, err.Error())
		}
		for _, l := range labels {
			checkClean(t, l)
		}
		for _, n := range []int{1, 3} {
			if _, err := metaFloats(map[string]string{"mean": raw}, "mean", n); err != nil {
				checkClean(t, err.Error())
			}
		}
	})
}

func checkClean(t *testing.T, s string) {
	t.Helper()
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
		t.Fatalf("raw control characters in %q", s)
	}
}
