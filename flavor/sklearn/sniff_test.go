package sklearn

import "testing"

func TestSniffPickle(t *testing.T) {
	for _, c := range []struct {
		head string
		want bool
	}{
		{"\x80\x02csklearn.linear_model._base\nLinearRegression\n", true},
		{"\x80\x04\x95\x28\x02\x00\x00\x00\x00\x00\x00\x8c\x1asklearn.linear_model._base\x94", true},
		// torch's legacy format starts with a pickled magic number
		{"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02", false},
		// an XGBoost wrapper, numpy, protocol 1, truncated, empty
		{"\x80\x04\x95\x28\x02\x00\x00\x00\x00\x00\x00\x8c\x0fxgboost.sklearn\x94", false},
		{"\x80\x02cnumpy.core.multiarray\n_reconstruct\n", false},
		{"\x80\x01csklearn.tree\n", false},
		{"\x80\x04\x95\x28", false},
		{"", false},
	} {
		if got := isSklearnPickle([]byte(c.head)); got != c.want {
			t.Errorf("%q: %v, want %v", c.head, got, c.want)
		}
	}
}
