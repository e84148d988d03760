package model

import "testing"

// TestCompoundExtension: the longest registered ending names the flavor,
// so ".joblib.gz" can imply a flavor that ".gz" alone does not.
func TestCompoundExtension(t *testing.T) {
	RegisterExtension(".cmp", "cmpflavor")
	RegisterExtension(".cmp.gz", "cmpgz")
	for p, want := range map[string]string{
		"/m/model.cmp":           "cmpflavor",
		"/m/model.CMP.GZ":        "cmpgz",
		"/m/my.model.cmp.gz":     "cmpgz",
		"/m/model.gz":            "",
		"s3://b/k/model.cmp.gz":  "cmpgz",
		"https://h/m.cmp.gz?x=1": "cmpgz",
		"/m/model":               "",
		"/m.d/model":             "",
	} {
		if got := FlavorForPath(p); got != want {
			t.Errorf("FlavorForPath(%q) = %q, want %q", p, got, want)
		}
	}
}
