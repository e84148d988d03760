package sklearn

import "testing"

// n_features_in_ is the file's word: a huge one allocates nothing here.
func TestTakesMissingInBounded(t *testing.T) {
	m := &Model{est: &estimator{nFeatures: 1 << 30}, check: inputCheck{allowNaN: true}, pred: &transformOut{t: &imputer{missing: missingValue{nan: true}}}}
	if got := m.TakesMissingIn(); got != nil {
		t.Fatalf("%d features looked at", len(got))
	}
	m.est.nFeatures = 3
	if got := m.TakesMissingIn(); len(got) != 3 || !got[0] || !got[2] {
		t.Fatalf("an imputer's output: %v, want every feature", got)
	}
}
