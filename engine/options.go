package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/parser"
)

// checkOptionKeys refuses an OPTIONS key written in the CREATE MODEL
// statement (sql) that neither model.CommonOptions nor the flavor knows,
// naming the closest known key. Keys from a YAML spec or a registry's
// tags are never checked: Rikai's specs carry keys for other engines. A
// flavor that does not implement model.OptionKeyer accepts every key, and
// an unknown flavor is left for loadModel to report.
func checkOptionKeys(spec *model.Spec, sql []parser.Option) error {
	if len(sql) == 0 || spec.Flavor == "" {
		return nil
	}
	fl, err := model.Flavors.Lookup(spec.Flavor)
	if err != nil {
		return nil
	}
	ok, isKeyer := fl.(model.OptionKeyer)
	if !isKeyer {
		return nil
	}
	known := knownOptionKeys(ok.OptionKeys(spec))
	for _, o := range sql {
		key := strings.ToLower(o.Key)
		if _, found := known[key]; found {
			continue
		}
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		where := "flavor " + spec.Flavor
		if spec.ModelType != "" {
			where += ", model type " + strings.ToLower(spec.ModelType)
		}
		hint := ""
		if c := closest(key, names); c != "" {
			hint = fmt.Sprintf(" did you mean %q?", c)
		}
		return fmt.Errorf("model %q: unknown OPTIONS key %s for %s;%s Known keys: %s",
			spec.Name, untrusted.Quote(o.Key), untrusted.Clean(where), hint, strings.Join(names, ", "))
	}
	return nil
}

// knownOptionKeys are the common keys and the flavor's, by lower-case
// name.
func knownOptionKeys(flavor []model.OptionKey) map[string]string {
	known := map[string]string{}
	for _, k := range model.CommonOptions {
		known[strings.ToLower(k.Name)] = k.Doc
	}
	for _, k := range flavor {
		known[strings.ToLower(k.Name)] = k.Doc
	}
	return known
}

// closest is the name nearest to key by edit distance, when it is near
// enough to be a slip (at most two fifths of the key's length, at least 2
// edits allowed); "" otherwise.
func closest(key string, names []string) string {
	best, bestD := "", -1
	for _, n := range names {
		d := editDistance(key, n)
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	if bestD < 0 || bestD > max(2, 2*len(key)/5) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes (OPTIONS
// keys are ASCII identifiers; a key from SQL is bounded by the
// statement's size, and only names of a few bytes are compared).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
