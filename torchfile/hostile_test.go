package torchfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/pickle"
)

// Pickle pieces, protocol 2, for files torch would never write.
func pstr(s string) string {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	return "X" + string(n[:]) + s
}

func pint(v int64) string {
	return "\x8a\x08" + string(binary.LittleEndian.AppendUint64(nil, uint64(v)))
}

func pglobal(mod, name string) string { return "c" + mod + "\n" + name + "\n" }

func ptuple(vs ...int64) string {
	s := "("
	for _, v := range vs {
		s += pint(v)
	}
	return s + "t"
}

var odict = pglobal("collections", "OrderedDict") + ")R"

// ptensor is _rebuild_tensor_v2 of storage key (numel float32 elements).
func ptensor(key string, numel, offset int64, size, stride []int64) string {
	return pglobal("torch._utils", "_rebuild_tensor_v2") + "((" + pstr("storage") + pglobal("torch", "FloatStorage") +
		pstr(key) + pstr("cpu") + pint(numel) + "tQ" + pint(offset) + ptuple(size...) + ptuple(stride...) +
		"\x89" + odict + "tR"
}

// stateDict pickles an OrderedDict of one entry "w".
func stateDict(value string) []byte { return []byte("\x80\x02" + odict + pstr("w") + value + "s.") }

// zipFile writes a torch-like zip: archive/<name> for each entry, stored.
func zipFile(t testing.TB, entries ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := w.CreateHeader(&zip.FileHeader{Name: "archive/" + entries[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(entries[i+1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var legacyHead = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19." + // magic number
	"\x80\x02M\xe9\x03." + // protocol 1001
	"\x80\x02}" + pstr("little_endian") + "\x88s." // sys_info

// legacyFile writes a legacy file of a data pickle and float32 storages
// (key, values) in order.
func legacyFile(data []byte, storages ...any) []byte {
	b := []byte(legacyHead)
	b = append(b, data...)
	keys := "\x80\x02]"
	var raw []byte
	for i := 0; i+1 < len(storages); i += 2 {
		keys += pstr(storages[i].(string)) + "a"
		vals := storages[i+1].([]float32)
		raw = binary.LittleEndian.AppendUint64(raw, uint64(len(vals)))
		for _, v := range vals {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	b = append(b, keys+"."...)
	return append(b, raw...)
}

func f32bytes(vs ...float32) string {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return string(b)
}

func load(b []byte) (*StateDict, error) { return Load(bytes.NewReader(b), int64(len(b))) }

// A transposed 2x2 view of storage [1 2 3 4] at offset 1 of 5.
var goodData = stateDict(ptensor("0", 5, 1, []int64{2, 2}, []int64{1, 2}))

func TestHandMadeFiles(t *testing.T) {
	for name, b := range map[string][]byte{
		"zip":    zipFile(t, "data.pkl", string(goodData), "data/0", f32bytes(0, 1, 2, 3, 4)),
		"legacy": legacyFile(goodData, "0", []float32{0, 1, 2, 3, 4}),
	} {
		sd, err := load(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f, err := sd.Tensors["w"].Float32()
		if err != nil || fmt.Sprint(f) != "[1 3 2 4]" || sd.Format != name || sd.Kind != "state_dict" {
			t.Errorf("%s: %v %v %s %s", name, f, err, sd.Format, sd.Kind)
		}
	}
}

// TestTorch2Rebuilders: torch 2 wraps tensors with Python attributes in
// _rebuild_from_type_v2 and parameters with them in
// _rebuild_parameter_with_state; the attributes are dropped.
func TestTorch2Rebuilders(t *testing.T) {
	inner := ptensor("0", 5, 1, []int64{2}, []int64{2})
	attrs := "}" + pstr("note") + "K\x01s"
	fromType := pglobal("torch._tensor", "_rebuild_from_type_v2") + "(" + pglobal("torch._utils", "_rebuild_tensor_v2") +
		pglobal("torch", "Tensor") + inner[len(pglobal("torch._utils", "_rebuild_tensor_v2")):len(inner)-1] + attrs + "tR"
	withState := pglobal("torch._utils", "_rebuild_parameter_with_state") + "(" + inner + "\x88" + odict + attrs + "tR"
	for name, v := range map[string]string{"_rebuild_from_type_v2": fromType, "_rebuild_parameter_with_state": withState} {
		sd, err := load(zipFile(t, "data.pkl", string(stateDict(v)), "data/0", f32bytes(0, 1, 2, 3, 4)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if f, _ := sd.Tensors["w"].Float32(); fmt.Sprint(f) != "[1 3]" {
			t.Errorf("%s: %v", name, f)
		}
	}
}

// TestStorageViews: legacy files of old torch name windows of a storage
// as (view key, offset, size).
func TestStorageViews(t *testing.T) {
	view := func(off, n int64) string {
		v := ptensor("0", 5, 0, []int64{2}, []int64{1})
		i := strings.Index(v, "tQ")
		return v[:i] + "(" + pstr("v") + pint(off) + pint(n) + "t" + v[i:]
	}
	sd, err := load(legacyFile(stateDict(view(2, 3)), "0", []float32{0, 1, 2, 3, 4}))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := sd.Tensors["w"].Float32(); fmt.Sprint(f) != "[2 3]" {
		t.Errorf("view at 2: %v", f)
	}
	if _, err := load(legacyFile(stateDict(view(4, 3)), "0", []float32{0, 1, 2, 3, 4})); err == nil ||
		!strings.Contains(err.Error(), "outside its storage of 5 elements") {
		t.Errorf("a view past its storage: %v", err)
	}
	if _, err := load(legacyFile(stateDict(view(4, 1)), "0", []float32{0, 1, 2, 3, 4})); err == nil ||
		!strings.Contains(err.Error(), "needs more elements than its storage of 1") {
		t.Errorf("a tensor past its view: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	system := []byte("\x80\x02" + pglobal("os", "system") + pstr("echo pwned") + "\x85R.")
	eval := stateDict(pglobal("builtins", "eval") + pstr("1+1") + "\x85R")
	fromBytes := stateDict(pglobal("torch.storage", "_load_from_bytes") + "C\x01x\x85R")
	escaped := []byte("\x80\x02" + pglobal("os\x1b[2J", "system") + ")R.")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"os.system", system, "pickle references os.system, which augur does not load"},
		{"builtins.eval in a state_dict", eval, "pickle references builtins.eval, which augur does not load"},
		{"_load_from_bytes", fromBytes, "pickle references torch.storage._load_from_bytes, which augur does not load"},
		{"escaped name", escaped, `pickle references "os\x1b[2J.system", which augur does not load`},
	} {
		for format, b := range map[string][]byte{
			"zip":    zipFile(t, "data.pkl", string(c.data)),
			"legacy": legacyFile(c.data),
		} {
			_, err := load(b)
			var re *pickle.RefusedError
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &re) {
				t.Errorf("%s, %s: %v", c.name, format, err)
			}
		}
	}
}

// TestCorruptFiles: each fails with an error that names the problem.
func TestCorruptFiles(t *testing.T) {
	good := zipFile(t, "data.pkl", string(goodData), "data/0", f32bytes(0, 1, 2, 3, 4))
	tensor := func(numel, offset int64, size, stride []int64) []byte {
		return zipFile(t, "data.pkl", string(stateDict(ptensor("0", numel, offset, size, stride))), "data/0", f32bytes(0, 1))
	}
	self := "\x80\x02" + pglobal("torch.nn.modules.linear", "Linear") + ")\x81q\x00}(" +
		pstr("_parameters") + "}" + pstr("_buffers") + "}" + pstr("_modules") + "}" + pstr("me") + "h\x00sub."
	// Empty strided tensors load as torch loads them: nothing is walked,
	// whatever the other dimensions.
	for _, size := range [][]int64{{1 << 60, 0}, {0, 5}, {0, 1 << 60}} {
		sd, err := load(tensor(2, 0, size, []int64{1, 0}))
		if err != nil || sd.Tensors["w"].NumElements() != 0 || len(sd.Tensors["w"].Bytes()) != 0 {
			t.Errorf("empty tensor of shape %v: %v", size, err)
		}
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated zip", good[:len(good)/2], "the zip archive is truncated or corrupt"},
		{"zip without its end", good[:len(good)-1], "the zip archive is truncated or corrupt"},
		{"corrupt data.pkl", zipFile(t, "data.pkl", "\x80\x02\xff\xfe"), `"archive/data.pkl": pickle: unknown opcode`},
		{"truncated data.pkl", zipFile(t, "data.pkl", string(goodData[:40])), `"archive/data.pkl": pickle: truncated`},
		{"no data.pkl", zipFile(t, "other", "x"), "no <folder>/data.pkl"},
		{"missing storage", zipFile(t, "data.pkl", string(goodData)), `storage "archive/data/0": missing from the archive`},
		{"storage shorter than claimed", tensor(4, 0, []int64{4}, []int64{1}), "holds 8 bytes, fewer than the 4 elements of float32"},
		{"tensor beyond its storage", tensor(2, 0, []int64{4}, []int64{1}), "tensor \"w\": shape [4] needs more elements than its storage of 2 holds"},
		{"offset past the storage", tensor(2, 2, []int64{1}, []int64{1}), "storage offset 2 is past its storage of 2 elements"},
		{"stride past the storage", tensor(2, 0, []int64{2}, []int64{5}), "reads past its storage of 2 elements"},
		{"expand bomb", tensor(2, 0, []int64{1 << 40}, []int64{0}), "needs more elements than its storage"},
		{"big-endian", zipFile(t, "byteorder", "big", "data.pkl", string(goodData)), "augur reads little-endian files only"},
		{"module holding itself", zipFile(t, "data.pkl", self), "module \"me\" contains itself"},
		{"not a state_dict", zipFile(t, "data.pkl", "\x80\x02K\x07."), "the file holds an int, not a state_dict"},
		{"not torch", []byte("hello, this is not a torch file"), "not a torch file"},
		{"empty", nil, "too short to be a torch file"},
		{"legacy truncated in a storage", legacyFile(goodData, "0", []float32{0, 1, 2, 3, 4})[:len(legacyHead)+len(goodData)+20], "truncated"},
		{"legacy storage count differs", legacyFile(goodData, "0", []float32{0, 1}), "the file has 2 elements where its pickle claims 5"},
		{"legacy without storages", legacyFile(goodData), `storage "0" has no data in the file`},
		{"tar", append(make([]byte, 257), "ustar\x0000"+strings.Repeat("\x00", 300)...), "tar format"},
	} {
		_, err := load(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "torchfile: ") {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
}

// TestEveryTruncation cuts files at every length: each must fail
// cleanly (and, for the legacy format, say that the file ends early:
// "truncated", or the pickle VM's "length N exceeds the M bytes left").
func TestEveryTruncation(t *testing.T) {
	files := map[string][]byte{
		"zip":    zipFile(t, "data.pkl", string(goodData), "data/0", f32bytes(0, 1, 2, 3, 4)),
		"legacy": legacyFile(goodData, "0", []float32{0, 1, 2, 3, 4}),
	}
	if dir := cachedFixtures(); dir != "" {
		for _, n := range []string{"sd_zip.pth", "sd_legacy.pth", "module_legacy.pth"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				files[n] = b
			}
		}
	}
	for name, b := range files {
		for n := 0; n < len(b); n++ {
			_, err := load(b[:n])
			if err == nil {
				t.Errorf("%s cut to %d of %d bytes loaded", name, n, len(b))
			} else if msg := err.Error(); strings.Contains(name, "legacy") && n > len(legacyHead) &&
				!strings.Contains(msg, "truncated") && !strings.Contains(msg, "bytes left") {
				t.Errorf("%s cut to %d: %v", name, n, err)
			}
		}
	}
}

// cachedFixtures is the fixture folder when a test already wrote it.
func cachedFixtures() string {
	m, _ := filepath.Glob(filepath.Join("..", ".cache", "torch-fixtures", "*", "manifest.json"))
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[0])
}

func TestModelBytesLimit(t *testing.T) {
	defer limits.ModelBytes.Set(100)()
	b := legacyFile(goodData, "0", []float32{0, 1, 2, 3, 4})
	_, err := load(b)
	var le *limits.ExceededError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "AUGUR_MAX_MODEL_BYTES") {
		t.Errorf("a file over the limit: %v", err)
	}
}
