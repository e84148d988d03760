package pickle

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/augurdb/augur/limits"
)

const fixtures = "../testdata/sklearn"

// sklearnClasses are the classes the sklearn flavor admits.
var sklearnClasses = []string{
	"sklearn.ensemble._forest.RandomForestClassifier", "sklearn.ensemble._forest.RandomForestRegressor",
	"sklearn.ensemble._forest.ExtraTreesClassifier", "sklearn.ensemble._forest.ExtraTreesRegressor",
	"sklearn.tree._classes.DecisionTreeClassifier", "sklearn.tree._classes.DecisionTreeRegressor",
	"sklearn.tree._classes.ExtraTreeClassifier", "sklearn.tree._classes.ExtraTreeRegressor",
	"sklearn.tree._tree.Tree", "sklearn.linear_model._base.LinearRegression",
	"sklearn.linear_model._ridge.Ridge", "sklearn.linear_model._coordinate_descent.Lasso",
	"sklearn.linear_model._coordinate_descent.ElasticNet", "sklearn.linear_model._logistic.LogisticRegression",
	"sklearn.decomposition._pca.PCA",
}

func fixtureFiles(t testing.TB) []string {
	t.Helper()
	var man struct {
		Models []struct{ Files []string } `json:"models"`
	}
	b, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range man.Models {
		for _, f := range m.Files {
			out = append(out, filepath.Join(fixtures, f))
		}
	}
	return out
}

func loadBytes(b []byte, opts *Options) (any, error) {
	if opts == nil {
		opts = &Options{Classes: sklearnClasses}
	}
	return Load(bytes.NewReader(b), opts)
}

func TestFixturesLoad(t *testing.T) {
	formats := map[string]bool{}
	for _, f := range fixtureFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		formats[Format(b)] = true
		v, err := loadBytes(b, nil)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		o, ok := v.(*Object)
		if !ok || o.Dict == nil {
			t.Errorf("%s: got %T", filepath.Base(f), v)
			continue
		}
		if _, ok := o.Attr("_sklearn_version"); !ok {
			t.Errorf("%s: no _sklearn_version", filepath.Base(f))
		}
	}
	for _, f := range []string{"pickle", "zlib", "gzip", "bz2", "xz", "lzma", "lz4"} {
		if !formats[f] {
			t.Errorf("no fixture in format %s", f)
		}
	}
}

// TestNumpy checks array contents against what the generator wrote.
func TestNumpy(t *testing.T) {
	for _, name := range []string{"rf_strings.p2.pkl", "rf_strings.np2.p5.pkl", "rf_strings.joblib", "dt_objlabels.joblib.lz4", "dt_objlabels.p4.pkl"} {
		b, _ := os.ReadFile(filepath.Join(fixtures, name))
		v, err := loadBytes(b, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, _ := v.(*Object).Attr("classes_")
		vals, err := c.(*Array).Values()
		if err != nil {
			t.Fatal(err)
		}
		want := "[setosa versicolor virginica]"
		if strings.HasPrefix(name, "dt_obj") {
			want = "[class_0 class_1 class_2]"
		}
		if got := strings.Join(strings.Fields(strings.Trim(strings.ReplaceAll(fmtVals(vals), ",", " "), "")), " "); got != want {
			t.Errorf("%s: classes %s, want %s", name, got, want)
		}
	}
}

func fmtVals(vals []any) string {
	var s []string
	for _, v := range vals {
		s = append(s, v.(string))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestRefusesForeignGlobals(t *testing.T) {
	cases := map[string][]byte{
		"os.system":                 []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."),
		"posix.system":              []byte("\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x02ls\x85R."),
		"builtins.eval":             []byte("\x80\x04\x95\x17\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R."),
		"__builtin__.getattr":       []byte("\x80\x02c__builtin__\ngetattr\n."),
		"sklearn.pipeline.Pipeline": []byte("\x80\x04\x8c\x10sklearn.pipeline\x8c\x08Pipeline\x93)\x81."),
		"subprocess.Popen":          []byte("csubprocess\nPopen\n(S'ls'\ntR."),
	}
	for name, b := range cases {
		_, err := loadBytes(b, nil)
		want := "pickle references " + name + ", which augur does not load"
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
	// The same global inside a joblib-compressed stream.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(cases["os.system"])
	zw.Close()
	if _, err := loadBytes(buf.Bytes(), nil); err == nil || !strings.Contains(err.Error(), "os.system, which augur does not load") {
		t.Errorf("gzip: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	long := func(op byte, n uint64, w int) []byte {
		b := []byte{0x80, 4, op}
		var l [8]byte
		binary.LittleEndian.PutUint64(l[:], n)
		return append(append(b, l[:w]...), "abc."...)
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":               {nil, "not a pickle"},
		"wrong magic":         {[]byte("PK\x03\x04hello"), "not a pickle or joblib file"},
		"text":                {[]byte("hello world"), "not a pickle"},
		"no stop":             {[]byte("\x80\x04K\x01"), "truncated"},
		"binbytes8 huge":      {long(0x8e, 1<<40, 8), "exceeds"},
		"unicode8 huge":       {long(0x8d, 1<<62, 8), "exceeds"},
		"binunicode 4G":       {long('X', 0xffffffff, 4), "exceeds"},
		"long4 huge":          {long(0x8b, 0x7fffffff, 4), "exceeds"},
		"frame huge":          {long(0x95, 1<<50, 8), "exceeds"},
		"bytearray huge":      {long(0x96, 1<<33, 8), "exceeds"},
		"bad opcode":          {[]byte("\x80\x04\xff."), "unknown opcode"},
		"proto 9":             {[]byte("\x80\x09N."), "protocol 9"},
		"underflow":           {[]byte("\x80\x04t."), "no mark"},
		"empty stop":          {[]byte("\x80\x04."), "empty stack"},
		"memo miss":           {[]byte("\x80\x04h\x05."), "never stored"},
		"sparse memo":         {[]byte("\x80\x04Nr\xff\xff\xff\xff0j\xff\xff\xff\xff."), ""},
		"reduce non-callable": {[]byte("\x80\x04K\x01)R."), "not callable"},
		"gzip garbage":        {[]byte("\x1f\x8b\x08\x00garbage"), "gzip"},
		"truncated xz":        {[]byte("\xfd7zXZ\x00\x00"), "xz"},
		"lzma huge dict":      {[]byte("\x5d\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x01\x02"), "dictionary"},
		"out-of-band":         {[]byte("\x80\x05\x97."), "out-of-band"},
		// numpy: an array claiming 2^40 float64s with 8 bytes of data.
		"numpy shape":          {[]byte("\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01\x8a\x06\x00\x00\x00\x00\x00\x01\x85cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x08\x00\x00\x00\x00\x00\x00\x00\x00tb."), "larger than the input"},
		"numpy negative shape": {[]byte("\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01J\xff\xff\xff\xff\x85cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x00tb."), "bad numpy shape"},
		"joblib wrapper huge":  {[]byte("\x80\x04cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(\x8c\x05shape\x8a\x06\x00\x00\x00\x00\x00\x01\x85\x8c\x05dtypecnumpy\ndtype\n\x8c\x02f8\x89\x88\x87R(K\x03\x8c\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x8c\x05order\x8c\x01Cub\x00\x00\x00."), "larger than the input"},
	}
	for name, c := range cases {
		v, err := loadBytes(c.data, nil)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, %v; want error containing %q", name, v, err, c.want)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	n := 100000
	cases := map[string][]byte{
		"marks":       append(append([]byte{0x80, 4}, bytes.Repeat([]byte("("), n)...), '.'),
		"tuple1":      append(append([]byte{0x80, 4, 'N'}, bytes.Repeat([]byte{0x85}, n)...), '.'),
		"lists":       append(append(append([]byte{0x80, 4}, bytes.Repeat([]byte("]"), n)...), bytes.Repeat([]byte("a"), n-1)...), '.'),
		"dicts":       append(append([]byte{0x80, 4, '}', 'K', 1}, bytes.Repeat([]byte("}K\x01"), n)...), '.'),
		"tuple marks": append(append(append([]byte{0x80, 4}, bytes.Repeat([]byte("("), 1200)...), bytes.Repeat([]byte(")t"), 1200)...), '.'),
	}
	// dicts: build {1: {1: ...}} with SETITEM.
	d := []byte{0x80, 4}
	for i := 0; i < n; i++ {
		d = append(d, '}', 'K', 1)
	}
	d = append(d, 'N')
	d = append(d, bytes.Repeat([]byte("s"), n)...)
	cases["dicts"] = append(d, '.')
	for name, b := range cases {
		_, err := loadBytes(b, nil)
		if err == nil || !strings.Contains(err.Error(), "deeper than") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := loadBytes(append(append([]byte{0x80, 4, 'N'}, bytes.Repeat([]byte{0x85}, 500)...), '.'), nil); err != nil {
		t.Errorf("500 levels should load: %v", err)
	}
}

func TestLimits(t *testing.T) {
	// Too many values.
	defer limits.PickleObjects.Set(1000)()
	b := append(append([]byte{0x80, 4}, bytes.Repeat([]byte("N"), 2000)...), '.')
	if _, err := loadBytes(b, nil); err == nil || !strings.Contains(err.Error(), "more than 1000 objects") {
		t.Errorf("objects: %v", err)
	}
	// A decompression bomb.
	defer limits.DecompressedBytes.Set(1 << 20)()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte{0x80, 4})
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	if _, err := loadBytes(buf.Bytes(), nil); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("bomb: %v", err)
	}
}

// TestTruncatedAndCorrupt cuts and flips fixture bytes: every result
// must be an error or a value, never a panic.
func TestTruncatedAndCorrupt(t *testing.T) {
	for _, name := range []string{"dt_clf.p2.pkl", "rf_strings.p5.pkl", "pca.joblib", "dt_objlabels.joblib", "logreg_multinomial.joblib.zlib"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(b)/2000)
		for n := 0; n < len(b); n += step {
			if _, err := loadBytes(b[:n], nil); err == nil {
				t.Errorf("%s cut at %d loaded", name, n)
			}
		}
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 2000; i++ {
			c := append([]byte(nil), b...)
			for k := 0; k < 1+rng.Intn(4); k++ {
				c[rng.Intn(len(c))] = byte(rng.Intn(256))
			}
			loadBytes(c, nil) // must not panic
		}
	}
}

// FuzzUnpickle feeds the VM pickles: every fixture (the compressed ones
// as Load sees them), and small hostile ones (code, bombs, escapes). The
// limits are lowered so that one input cannot take more than about
// 100 MB.
func FuzzUnpickle(f *testing.F) {
	for _, p := range fixtureFiles(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."))
	f.Add([]byte("\x80\x02c\x1b[2J\nsystem\n."))
	for _, b := range objectBombs(64) {
		f.Add(b)
	}
	defer limits.DecompressedBytes.Set(8 << 20)()
	defer limits.ModelBytes.Set(8 << 20)()
	defer limits.PickleObjects.Set(1 << 18)()
	defer limits.PickleMemo.Set(1 << 16)()
	opts := &Options{Classes: sklearnClasses}
	f.Fuzz(func(t *testing.T, b []byte) {
		// An input that takes seconds is a failure too: report where.
		timer := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("slow input:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer timer.Stop()
		v, err := Load(bytes.NewReader(b), opts)
		if err == nil {
			if a, ok := v.(*Array); ok {
				a.Values()
			}
		}
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("recovered panic: %v", err)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\x1b\x07") {
			t.Fatalf("raw control characters in %q", err)
		}
	})
}

// FuzzDecompress feeds joblib's decompressors (gzip, zlib, bz2, xz, lzma,
// lz4), seeded with every compressed fixture and small bombs: the output
// never exceeds the limit, and what decompresses is a pickle.
func FuzzDecompress(f *testing.F) {
	for _, p := range fixtureFiles(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if fm := Format(b); fm != "pickle" && fm != "" {
			f.Add(b)
		}
	}
	for _, mk := range compressors {
		f.Add(compressZeros(f, 1<<20, mk))
	}
	const limit = 4 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		timer := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("slow input:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer timer.Stop()
		out, format, err := Decompress(b, limit)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\x1b\x07") {
				t.Fatalf("raw control characters in %q", err)
			}
			return
		}
		if len(out) > limit || Format(out) != "pickle" || format == "" {
			t.Fatalf("%s: %d bytes of %s", format, len(out), Format(out))
		}
	})
}

// TestEmptyArrays: numpy arrays with a zero dimension, as numpy's pickle
// (protocols 2, 4, 5) and joblib write them, load as empty arrays of
// their shape, whatever their other dimensions. The bytes were written by
// numpy 1.24 and joblib 1.2:
//
//	a = np.zeros(shape)
//	pickle.dumps(a, protocol=p).hex()  # or joblib.dump(a, buf)
func TestEmptyArrays(t *testing.T) {
	for _, c := range []struct {
		format string
		shape  []int
		hex    string
	}{
		{"p2", []int{3, 0}, "8002636e756d70792e636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b00857102635f636f646563730a656e636f64650a7103580100000062710458060000006c6174696e317105867106527107877108527109284b014b034b0086710a636e756d70790a64747970650a710b58020000006638710c898887710d52710e284b0358010000003c710f4e4e4e4affffffff4affffffff4b007471106289635f5f6275696c74696e5f5f0a62797465730a711129527112747113622e"},
		{"p4", []int{3, 0}, "8004958a000000000000008c156e756d70792e636f72652e6d756c74696172726179948c0c5f7265636f6e7374727563749493948c056e756d7079948c076e6461727261799493944b0085944301629487945294284b014b034b00869468038c0564747970659493948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b00749462894300947494622e"},
		{"p5", []int{3, 0}, "80059575000000000000008c126e756d70792e636f72652e6e756d65726963948c0b5f66726f6d62756666657294939428960000000000000000948c056e756d7079948c0564747970659493948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494624b034b0086948c014394749452942e"},
		{"joblib", []int{3, 0}, "800495cd000000000000008c136a6f626c69622e6e756d70795f7069636b6c65948c114e756d70794172726179577261707065729493942981947d94288c08737562636c617373948c056e756d7079948c076e6461727261799493948c057368617065944b034b0086948c056f72646572948c0143948c056474797065946806680d93948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494628c0a616c6c6f775f6d6d617094888c1b6e756d70795f61727261795f616c69676e6d656e745f6279746573944b10756207ffffffffffffff2e"},
		{"p2", []int{2, 0, 4}, "8002636e756d70792e636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b00857102635f636f646563730a656e636f64650a7103580100000062710458060000006c6174696e317105867106527107877108527109284b014b024b004b0487710a636e756d70790a64747970650a710b58020000006638710c898887710d52710e284b0358010000003c710f4e4e4e4affffffff4affffffff4b007471106289635f5f6275696c74696e5f5f0a62797465730a711129527112747113622e"},
		{"p4", []int{2, 0, 4}, "8004958c000000000000008c156e756d70792e636f72652e6d756c74696172726179948c0c5f7265636f6e7374727563749493948c056e756d7079948c076e6461727261799493944b0085944301629487945294284b014b024b004b04879468038c0564747970659493948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b00749462894300947494622e"},
		{"p5", []int{2, 0, 4}, "80059577000000000000008c126e756d70792e636f72652e6e756d65726963948c0b5f66726f6d62756666657294939428960000000000000000948c056e756d7079948c0564747970659493948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494624b024b004b0487948c014394749452942e"},
		{"joblib", []int{2, 0, 4}, "800495cf000000000000008c136a6f626c69622e6e756d70795f7069636b6c65948c114e756d70794172726179577261707065729493942981947d94288c08737562636c617373948c056e756d7079948c076e6461727261799493948c057368617065944b024b004b0487948c056f72646572948c0143948c056474797065946806680d93948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494628c0a616c6c6f775f6d6d617094888c1b6e756d70795f61727261795f616c69676e6d656e745f6279746573944b10756205ffffffffff2e"},
	} {
		b, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatal(err)
		}
		v, err := loadBytes(b, nil)
		if err != nil {
			t.Fatalf("%v %s: %v", c.shape, c.format, err)
		}
		a, ok := v.(*Array)
		if !ok {
			t.Fatalf("%v %s: a %T, not an array", c.shape, c.format, v)
		}
		if !slices.Equal(a.Shape, c.shape) || a.Len() != 0 {
			t.Errorf("%v %s: shape %v (%d elements), want %v and none", c.shape, c.format, a.Shape, a.Len(), c.shape)
		}
	}
	// Empty, but a reader may loop over its other dimensions: bounded.
	if _, _, err := count(Tuple{int64(1) << 40, int64(0)}, 1<<30); err == nil {
		t.Error("shape (2**40, 0) accepted")
	}
}
