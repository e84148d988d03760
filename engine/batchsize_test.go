package engine

import "testing"

// OPTIONS keys are case-insensitive: BATCH_SIZE is batch_size.
func TestParseBatchSizeAnyCase(t *testing.T) {
	for _, opts := range []map[string]string{{"batch_size": "16"}, {"BATCH_SIZE": "16"}, {"Batch_Size": " 16 "}} {
		if n, err := parseBatchSize(opts); err != nil || n != 16 {
			t.Errorf("%v: %d, %v", opts, n, err)
		}
	}
	if _, err := parseBatchSize(map[string]string{"BATCH_SIZE": "0"}); err == nil {
		t.Error("BATCH_SIZE 0 accepted")
	}
	if n, err := parseBatchSize(map[string]string{}); err != nil || n != 0 {
		t.Errorf("no batch_size: %d, %v", n, err)
	}
}
