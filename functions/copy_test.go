package functions_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurdb/augur/limits"
)

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestImageCopyRikai is Rikai's test_image_copy: a file "source_image"
// holding "abc", copied with image_copy into the existing folder "out/",
// gives the image out/source_image, whose bytes are "abc". Nothing is
// decoded: any file copies.
func TestImageCopyRikai(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "source_image")
	os.WriteFile(src, []byte("abc"), 0o644)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	db := openDB(t)
	want := filepath.Join(out, "source_image")
	for _, q := range []string{
		"SELECT image_copy(image(" + sqlQuote(src) + "), " + sqlQuote(out+"/") + ")",
		"SELECT copy(image(" + sqlQuote(src) + "), " + sqlQuote(out) + ")",
	} {
		os.Remove(want)
		got := fmt.Sprint(one(t, db, q))
		if got != fmt.Sprintf("map[data:<nil> uri:%s]", want) {
			t.Errorf("%s = %s, want the image %s", q, got, want)
		}
		if b, err := os.ReadFile(want); err != nil || string(b) != "abc" {
			t.Errorf("%s wrote %q, %v", q, b, err)
		}
	}
	// copy of a path returns the path of the copy, as Rikai's copy(str, str)
	if got := one(t, db, "SELECT copy("+sqlQuote(src)+", "+sqlQuote(out)+")"); got != want {
		t.Errorf("copy(path, folder) = %v, want %s", got, want)
	}
	if got := one(t, db, "SELECT typeof(image_copy(image('x'), 'y'))"); got != `STRUCT("data" BLOB, uri VARCHAR)` {
		t.Errorf("image_copy's type %v", got)
	}
	if got := one(t, db, "SELECT image_copy(NULL::STRUCT(data BLOB, uri VARCHAR), "+sqlQuote(out)+") IS NULL"); got != true {
		t.Errorf("image_copy(NULL) is not NULL")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want 1 (no temporary file left)", len(entries))
	}
}

// TestImageCopyForms: embedded bytes are named by their sha256 and
// format; a file:// folder gives a file:// URI that reads back; an
// existing file is replaced as Rikai replaces it, a symlink there is
// replaced, not written through.
func TestImageCopyForms(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t)
	png := "\x89PNG\r\n\x1a\nrest"
	sum := sha256.Sum256([]byte(png))
	want := filepath.Join(dir, hex.EncodeToString(sum[:])+".png")
	got := one(t, db, `SELECT image_copy(to_image('\x89PNG\x0D\x0A\x1A\x0Arest'::BLOB), `+sqlQuote(dir)+").uri")
	if got != want {
		t.Errorf("embedded bytes copied to %v, want %s", got, want)
	}
	if b, _ := os.ReadFile(want); string(b) != png {
		t.Errorf("copy of embedded bytes holds %q", b)
	}

	src := filepath.Join(dir, "a b.jpg")
	os.WriteFile(src, []byte("first"), 0o644)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	uri := one(t, db, "SELECT image_copy(image("+sqlQuote(src)+"), "+sqlQuote("file://"+out)+").uri").(string)
	if uri != "file://"+out+"/a%20b.jpg" {
		t.Errorf("file:// folder: uri %s", uri)
	}
	if got := one(t, db, "SELECT image_copy(image("+sqlQuote(uri)+"), "+sqlQuote(dir)+").uri"); got != filepath.Join(dir, "a%20b.jpg") {
		t.Errorf("the file:// copy read back and copied again: %v", got)
	}

	// replace: a newer source over an older copy, and over a symlink
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.Remove(filepath.Join(out, "a b.jpg"))
	os.Symlink(victim, filepath.Join(out, "a b.jpg"))
	os.WriteFile(src, []byte("second"), 0o644)
	one(t, db, "SELECT image_copy(image("+sqlQuote(src)+"), "+sqlQuote(out)+")")
	if b, _ := os.ReadFile(filepath.Join(out, "a b.jpg")); string(b) != "second" {
		t.Errorf("the copy over a symlink holds %q", b)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the copy wrote through a symlink: its target holds %q", b)
	}
	if st, _ := os.Lstat(filepath.Join(out, "a b.jpg")); st == nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o644 {
		t.Errorf("the copy is %v", st)
	}
}

// TestImageCopyRefusals: remote folders, missing folders, names that
// would leave the folder, and images over limits.ImageBytes are refused
// with errors that name them, and nothing is written.
func TestImageCopyRefusals(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "cat.jpg")
	os.WriteFile(src, []byte("abc"), 0o644)
	db := openDB(t)
	img := "image(" + sqlQuote(src) + ")"
	embedded := func(uri string) string {
		return "{'data': 'abc'::BLOB, 'uri': " + sqlQuote(uri) + "}::STRUCT(data BLOB, uri VARCHAR)"
	}
	for _, c := range []struct{ q, want string }{
		{"SELECT image_copy(" + img + ", 's3://bucket/out/')", "local folders and file:// URIs only, not s3://"},
		{"SELECT copy(" + img + ", 's3a://bucket/out/')", "not s3a://"},
		{"SELECT image_copy(" + img + ", 'http://host/out/')", "not http://"},
		{"SELECT image_copy(" + img + ", 'file://otherhost/out/')", `host "otherhost" is not supported`},
		{"SELECT image_copy(" + img + ", " + sqlQuote(filepath.Join(dir, "missing")) + ")", "does not exist (copy does not create folders"},
		{"SELECT image_copy(" + img + ", " + sqlQuote(src) + ")", "is not a folder"},
		{"SELECT image_copy(" + img + ", '')", "the folder is an empty string"},
		{"SELECT image_copy(" + embedded("x/..") + ", " + sqlQuote(dir) + ")", `file name ".." is not a file name`},
		{"SELECT image_copy(" + embedded(`a\..\..\b`) + ", " + sqlQuote(dir) + ")", "holds a path separator"},
		{"SELECT image_copy(" + embedded("http://host/") + ", " + sqlQuote(dir) + ")", "names no file to copy"},
		{"SELECT image_copy(" + embedded("evil\x1b[2Jname") + ", " + sqlQuote(dir) + ")", `"evil\x1b[2Jname" holds a control character`},
		{"SELECT image_copy(" + embedded(strings.Repeat("n", 300)) + ", " + sqlQuote(dir) + ")", "300 bytes long"},
		{"SELECT image_copy(image(" + sqlQuote(filepath.Join(dir, "none.jpg")) + "), " + sqlQuote(dir) + ")", "none.jpg\": no such file"},
	} {
		wantErr(t, db, c.q, c.want)
	}
	// a hostile uri fetches nothing: the name is refused before the read
	wantErr(t, db, "SELECT image_copy(image('http://192.0.2.1/..'), "+sqlQuote(dir)+")", "is not a file name")

	defer limits.ImageBytes.Set(2)()
	wantErr(t, db, "SELECT image_copy(to_image('abc'::BLOB), "+sqlQuote(dir)+")", "image to copy")
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("refused copies left files: %v", entries)
	}
}
