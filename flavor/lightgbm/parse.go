package lightgbm

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The text model, as LightGBM's GBDT::SaveModelToString writes it:
//
//	tree
//	version=v4
//	num_class=1
//	num_tree_per_iteration=1
//	label_index=0
//	max_feature_idx=29
//	objective=binary sigmoid:1
//	[average_output]
//	feature_names=...
//	feature_infos=...
//	tree_sizes=...
//
//	Tree=0
//	num_leaves=10
//	num_cat=0
//	split_feature=...
//	...
//	end of trees
//
//	feature_importances: ...
//	parameters: ... end of parameters
//
// Every array's length is checked against the count that the tree
// claims, and every array is allocated from the tokens actually present,
// so a count in the file never drives an allocation by itself.

// maxFeatures bounds max_feature_idx: a bigger index is a hostile or
// corrupt file (LightGBM keeps feature indices in an int32, and dense
// rows this wide would not fit in memory anyway).
const maxFeatures = 1 << 24

// rawModel is the file's header and trees, validated.
type rawModel struct {
	version        string
	numClass       int
	treesPerIter   int
	nFeatures      int // max_feature_idx + 1
	objective      string
	averageOutput  bool
	featureNames   []string
	trees          []*rawTree
	params         map[string]string // "[key: value]" lines of parameters:
	linear         bool              // any tree is linear
	headerObjRaw   string            // objective= as written
	hasFeatureInfo bool
}

// rawTree is one Tree= block.
type rawTree struct {
	numLeaves    int
	numCat       int
	splitFeature []int
	threshold    []float64
	decisionType []int
	left, right  []int
	leafValue    []float64
	catBoundary  []int
	catThreshold []uint32
	isLinear     bool
	leafConst    []float64
	leafNumFeat  []int
	leafFeatures []int
	leafCoeff    []float64
}

// parseError says where in the file something is wrong.
type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return e.msg
}

// lineReader walks the file's lines; \r\n ends a line as \n does.
type lineReader struct {
	data []byte
	pos  int
	n    int // number of the line last returned, 1-based
}

func (r *lineReader) next() (string, bool) {
	if r.pos >= len(r.data) {
		return "", false
	}
	rest := r.data[r.pos:]
	i := bytes.IndexByte(rest, '\n')
	var line []byte
	if i < 0 {
		line, r.pos = rest, len(r.data)
	} else {
		line, r.pos = rest[:i], r.pos+i+1
	}
	r.n++
	return strings.TrimSuffix(string(line), "\r"), true
}

func (r *lineReader) errorf(format string, args ...any) error {
	return &parseError{line: r.n, msg: fmt.Sprintf(format, args...)}
}

// parseModel reads a text model.
func parseModel(data []byte) (*rawModel, error) {
	r := &lineReader{data: data}
	first, _ := r.next()
	if strings.TrimSpace(first) != "tree" {
		return nil, errNotText
	}
	header := map[string]string{}
	var line string
	var ok bool
	for {
		line, ok = r.next()
		if !ok {
			return nil, r.errorf("the file ends before its first tree (Tree=0)")
		}
		if strings.HasPrefix(line, "Tree=") || line == "end of trees" {
			break
		}
		if line == "" {
			continue
		}
		key, val, _ := strings.Cut(line, "=")
		if _, dup := header[key]; dup {
			return nil, r.errorf("%s appears twice in the header", quoteKey(key))
		}
		header[key] = val
	}
	m, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	for strings.HasPrefix(line, "Tree=") {
		idx, err := strconv.Atoi(strings.TrimPrefix(line, "Tree="))
		if err != nil || idx != len(m.trees) {
			return nil, r.errorf("expected Tree=%d, found %s", len(m.trees), quoteKey(line))
		}
		kv := map[string]string{}
		for {
			line, ok = r.next()
			if !ok || strings.HasPrefix(line, "Tree=") || line == "end of trees" {
				break
			}
			if line == "" {
				continue
			}
			key, val, isKV := strings.Cut(line, "=")
			if !isKV {
				// LightGBM 2.x before "end of trees" went on with
				// "feature importances:" directly.
				break
			}
			if _, dup := kv[key]; dup {
				return nil, r.errorf("tree %d: %s appears twice", idx, quoteKey(key))
			}
			kv[key] = val
		}
		t, err := parseTree(kv, m.nFeatures)
		if err != nil {
			return nil, &parseError{line: r.n, msg: fmt.Sprintf("tree %d: %v", idx, err)}
		}
		m.linear = m.linear || t.isLinear
		m.trees = append(m.trees, t)
		if !ok {
			break
		}
	}
	if len(m.trees) == 0 {
		return nil, r.errorf("the model has no trees")
	}
	if len(m.trees)%m.treesPerIter != 0 {
		return nil, r.errorf("%d trees is not a multiple of num_tree_per_iteration=%d", len(m.trees), m.treesPerIter)
	}
	if sizes, ok := header["tree_sizes"]; ok && sizes != "" {
		if n := len(strings.Fields(sizes)); n != len(m.trees) {
			return nil, r.errorf("tree_sizes lists %d trees but the file has %d", n, len(m.trees))
		}
	}
	// The parameters section is informational (what training used).
	m.params = map[string]string{}
	inParams := false
	for {
		line, ok = r.next()
		if !ok || line == "end of parameters" {
			break
		}
		if line == "parameters:" {
			inParams = true
			continue
		}
		if inParams && strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			k, v, _ := strings.Cut(line[1:len(line)-1], ": ")
			m.params[k] = v
		}
	}
	return m, nil
}

// quoteKey shows at most 40 characters of the file's text, quoted.
func quoteKey(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

func headerInt(h map[string]string, key string, lo, hi int) (int, bool, error) {
	v, ok := h[key]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, true, &parseError{msg: fmt.Sprintf("%s=%s is not a number from %d to %d", key, quoteKey(v), lo, hi)}
	}
	return n, true, nil
}

// parseHeader reads the model's header, as LightGBM's
// GBDT::LoadModelFromString requires it.
func parseHeader(h map[string]string) (*rawModel, error) {
	m := &rawModel{version: h["version"]}
	switch m.version {
	case "v2", "v3", "v4":
	case "":
		return nil, &parseError{msg: "the header has no version="}
	default:
		return nil, &parseError{msg: fmt.Sprintf("version=%s: augur reads LightGBM text models v2, v3 and v4", quoteKey(m.version))}
	}
	var ok bool
	var err error
	if m.numClass, ok, err = headerInt(h, "num_class", 1, 1<<20); err != nil {
		return nil, err
	} else if !ok {
		return nil, &parseError{msg: "the header has no num_class="}
	}
	if m.treesPerIter, ok, err = headerInt(h, "num_tree_per_iteration", 1, 1<<20); err != nil {
		return nil, err
	} else if !ok {
		m.treesPerIter = m.numClass
	}
	maxIdx, ok, err := headerInt(h, "max_feature_idx", 0, maxFeatures-1)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, &parseError{msg: "the header has no max_feature_idx="}
	}
	m.nFeatures = maxIdx + 1
	if _, ok := h["label_index"]; !ok {
		return nil, &parseError{msg: "the header has no label_index="}
	}
	_, m.averageOutput = h["average_output"]
	names, ok := h["feature_names"]
	if !ok {
		return nil, &parseError{msg: "the header has no feature_names="}
	}
	m.featureNames = strings.Split(names, " ")
	if len(m.featureNames) != m.nFeatures {
		return nil, &parseError{msg: fmt.Sprintf("feature_names lists %d names but max_feature_idx=%d says %d features", len(m.featureNames), maxIdx, m.nFeatures)}
	}
	_, m.hasFeatureInfo = h["feature_infos"]
	m.headerObjRaw = h["objective"]
	return m, nil
}

// ints parses a space-separated array of exactly n integers in [lo, hi].
func ints(kv map[string]string, key string, n, lo, hi int) ([]int, error) {
	f, err := fields(kv, key, n)
	if err != nil || f == nil {
		return nil, err
	}
	out := make([]int, len(f))
	for i, s := range f {
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return nil, fmt.Errorf("%s: %s at position %d is not a number from %d to %d", key, quoteKey(s), i, lo, hi)
		}
		out[i] = v
	}
	return out, nil
}

// floats parses a space-separated array of exactly n numbers.
func floats(kv map[string]string, key string, n int) ([]float64, error) {
	f, err := fields(kv, key, n)
	if err != nil || f == nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, s := range f {
		v, err := parseFloat(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %s at position %d is not a number", key, quoteKey(s), i)
		}
		out[i] = v
	}
	return out, nil
}

// parseFloat reads a number as LightGBM writes it (%.17g, and inf, nan
// as C++ streams print them).
func parseFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity":
		return math.Inf(1), nil
	case "-inf", "-infinity":
		return math.Inf(-1), nil
	case "nan", "-nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

// fields splits an array; nil without error when the key is absent and
// n is 0. The length check comes before any conversion.
func fields(kv map[string]string, key string, n int) ([]string, error) {
	v, ok := kv[key]
	if !ok {
		if n == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%s is missing", key)
	}
	f := strings.Fields(v)
	if len(f) != n {
		return nil, fmt.Errorf("%s has %d values, expected %d", key, len(f), n)
	}
	return f, nil
}

// parseTree reads one tree's keys, as LightGBM's Tree::Tree(const char*)
// does, and checks that it is a tree: every child index in range, every
// node and leaf reached exactly once from the root.
func parseTree(kv map[string]string, nf int) (*rawTree, error) {
	t := &rawTree{}
	var err error
	nl, ok := kv["num_leaves"]
	if !ok {
		return nil, fmt.Errorf("num_leaves is missing")
	}
	// Bounded by the length of leaf_value, checked below; this bound
	// only keeps the arithmetic in range.
	if t.numLeaves, err = strconv.Atoi(nl); err != nil || t.numLeaves < 1 || t.numLeaves > 1<<30 {
		return nil, fmt.Errorf("num_leaves=%s is not a positive number", quoteKey(nl))
	}
	nc, ok := kv["num_cat"]
	if !ok {
		return nil, fmt.Errorf("num_cat is missing")
	}
	if t.numCat, err = strconv.Atoi(nc); err != nil || t.numCat < 0 || t.numCat > t.numLeaves {
		return nil, fmt.Errorf("num_cat=%s is not a number from 0 to num_leaves", quoteKey(nc))
	}
	if t.leafValue, err = floats(kv, "leaf_value", t.numLeaves); err != nil {
		return nil, err
	}
	if il, ok := kv["is_linear"]; ok {
		switch il {
		case "0":
		case "1":
			t.isLinear = true
		default:
			return nil, fmt.Errorf("is_linear=%s is neither 0 nor 1", quoteKey(il))
		}
	}
	ni := t.numLeaves - 1
	if t.splitFeature, err = ints(kv, "split_feature", ni, 0, nf-1); err != nil {
		return nil, fmt.Errorf("%w (the model has %d features)", err, nf)
	}
	if t.threshold, err = floats(kv, "threshold", ni); err != nil {
		return nil, err
	}
	if t.decisionType, err = ints(kv, "decision_type", ni, 0, 15); err != nil {
		return nil, err
	}
	if t.decisionType == nil {
		t.decisionType = make([]int, ni)
	}
	// A child is a node index (>= 0) or the bitwise complement of a leaf
	// index.
	if t.left, err = ints(kv, "left_child", ni, -t.numLeaves, ni-1); err != nil {
		return nil, err
	}
	if t.right, err = ints(kv, "right_child", ni, -t.numLeaves, ni-1); err != nil {
		return nil, err
	}
	if err := t.checkShape(); err != nil {
		return nil, err
	}
	if t.numCat > 0 {
		if t.catBoundary, err = ints(kv, "cat_boundaries", t.numCat+1, 0, math.MaxInt32); err != nil {
			return nil, err
		}
		words, err := fields(kv, "cat_threshold", t.catBoundary[t.numCat])
		if err != nil {
			return nil, err
		}
		t.catThreshold = make([]uint32, len(words))
		for i, s := range words {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("cat_threshold: %s at position %d is not a 32-bit word", quoteKey(s), i)
			}
			t.catThreshold[i] = uint32(v)
		}
		if t.catBoundary[0] != 0 {
			return nil, fmt.Errorf("cat_boundaries must start at 0")
		}
		for i := 1; i <= t.numCat; i++ {
			if t.catBoundary[i] < t.catBoundary[i-1] {
				return nil, fmt.Errorf("cat_boundaries decrease at position %d", i)
			}
		}
	}
	for i, d := range t.decisionType {
		if d&catMask == 0 {
			continue
		}
		c := t.threshold[i]
		if !(c >= 0 && c < float64(t.numCat)) || c != math.Trunc(c) {
			return nil, fmt.Errorf("node %d is a categorical split whose threshold %g is not one of the tree's %d category sets", i, c, t.numCat)
		}
	}
	if t.isLinear {
		if err := t.parseLinear(kv, nf); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// parseLinear reads a linear tree's leaf models: leaf_const, num_features
// per leaf, then leaf_features and leaf_coeff for all leaves together.
func (t *rawTree) parseLinear(kv map[string]string, nf int) error {
	var err error
	if t.leafConst, err = floats(kv, "leaf_const", t.numLeaves); err != nil {
		return err
	}
	if t.leafNumFeat, err = ints(kv, "num_features", t.numLeaves, 0, nf); err != nil {
		return err
	}
	total := 0
	for _, n := range t.leafNumFeat {
		total += n
	}
	if t.leafFeatures, err = ints(kv, "leaf_features", total, 0, nf-1); err != nil {
		return err
	}
	if t.leafCoeff, err = floats(kv, "leaf_coeff", total); err != nil {
		return err
	}
	if t.leafConst == nil {
		t.leafConst = make([]float64, t.numLeaves)
		t.leafNumFeat = make([]int, t.numLeaves)
	}
	return nil
}

// checkShape makes sure that the children form one binary tree rooted at
// node 0, so that every walk from the root ends at a leaf.
func (t *rawTree) checkShape() error {
	ni := t.numLeaves - 1
	if ni == 0 {
		return nil
	}
	seenNode := make([]bool, ni)
	seenLeaf := make([]bool, t.numLeaves)
	stack := []int{0}
	seenNode[0] = true
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range [2]int{t.left[n], t.right[n]} {
			if c < 0 {
				if seenLeaf[^c] {
					return fmt.Errorf("leaf %d is the child of two nodes", ^c)
				}
				seenLeaf[^c] = true
				continue
			}
			if seenNode[c] {
				return fmt.Errorf("node %d is reached twice (the children form a loop or a graph, not a tree)", c)
			}
			seenNode[c] = true
			stack = append(stack, c)
		}
	}
	for i, s := range seenNode {
		if !s {
			return fmt.Errorf("node %d cannot be reached from the root", i)
		}
	}
	for i, s := range seenLeaf {
		if !s {
			return fmt.Errorf("leaf %d cannot be reached from the root", i)
		}
	}
	return nil
}

// decision_type bits (LightGBM's tree.h).
const (
	catMask         = 1 // categorical split
	defaultLeftMask = 2 // missing values go left
	// bits 2-3: the missing type
	missingNone = 0
	missingZero = 1
	missingNaN  = 2
)
