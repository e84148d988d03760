package pytorch_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// pthFile writes a zip .pth as torch.save lays it out (archive/data.pkl,
// archive/version, stored uncompressed) with the given pickle.
func pthFile(t *testing.T, dir, name string, pkl []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct {
		name string
		data []byte
	}{{"archive/data.pkl", pkl}, {"archive/version", []byte("3\n")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pickle opcodes of protocol 2, written out so that the hostile files
// need no Python
func pglobal(mod, name string) string { return "c" + mod + "\n" + name + "\n" }
func pstr(s string) string {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	return "X" + string(n[:]) + s
}

// TestHostileFiles: through SQL, a .pth whose pickle calls os.system (at
// the top, and as a value inside a state_dict calling builtins.eval) or
// that is cut short is refused with the name of what it references or
// what is wrong; the command never runs, and the catalog and the cache
// are unchanged.
func TestHostileFiles(t *testing.T) {
	db, cache := setup(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	system := pthFile(t, dir, "system.pth", []byte("\x80\x02"+pglobal("os", "system")+pstr("touch "+marker)+"\x85R."))
	// OrderedDict([("w", eval("open(marker, 'w')"))])
	eval := pthFile(t, dir, "eval.pth", []byte("\x80\x02"+pglobal("collections", "OrderedDict")+")R"+
		pstr("w")+pglobal("builtins", "eval")+pstr("open('"+marker+"', 'w')")+"\x85Rs."))
	good, _ := os.ReadFile(system)
	truncated := filepath.Join(dir, "truncated.pth")
	os.WriteFile(truncated, good[:len(good)/2], 0o644)
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE resnet18 USING "+sqlStr(system), "pickle references os.system, which augur does not load")
	expectErr(t, db, "CREATE MODEL m FLAVOR pytorch MODEL_TYPE resnet18 USING "+sqlStr(eval), "pickle references builtins.eval, which augur does not load")
	expectErr(t, db, "CREATE MODEL m MODEL_TYPE resnet18 USING "+sqlStr(truncated), "truncated or corrupt")
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a command from the pickle ran")
	}
	if n := one(t, db, "SELECT count(*) FROM augur_models()"); n != int64(0) {
		t.Errorf("%v models in the catalog after refusals", n)
	}
	if entries, _ := filepath.Glob(filepath.Join(cache, "*", "*")); len(entries) != 0 {
		t.Errorf("refused files left cache entries: %v", entries)
	}
}
