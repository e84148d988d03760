package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	vcs := func(main string, kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Version: main}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	for _, c := range []struct {
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"v9.9.9", vcs("v1.0.0"), "v9.9.9"},
		{"", nil, "dev"},
		{"", vcs("v1.2.3"), "v1.2.3"},
		{"", vcs("(devel)"), "dev"},
		{"", vcs("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "false"), "dev-0123456789ab"},
		{"", vcs("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "true"), "dev-0123456789ab-modified"},
		{"", vcs("", "vcs.revision", "ab c\x1b"), "dev-ab_c_"},
	} {
		if got := fromBuild(c.set, c.bi); got != c.want {
			t.Errorf("fromBuild(%q, %+v) = %q, want %q", c.set, c.bi, got, c.want)
		}
	}
}
