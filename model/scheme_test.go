package model

import "testing"

// TestFlavorForPath: a registered URI scheme names the flavor before any
// extension does; otherwise the extension, case-insensitively.
func TestFlavorForPath(t *testing.T) {
	RegisterScheme("testhub", "testflavor")
	RegisterExtension(".testext", "extflavor")
	for p, want := range map[string]string{
		"testhub:///org/repo/model.testext": "testflavor",
		"TESTHUB://org/repo/model":          "testflavor",
		"/models/m.TESTEXT":                 "extflavor",
		"file:///models/m.testext":          "extflavor",
		"other://org/repo/model":            "",
		"/models/m":                         "",
	} {
		if got := FlavorForPath(p); got != want {
			t.Errorf("FlavorForPath(%q) = %q, want %q", p, got, want)
		}
	}
}
