package onnx_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurdb/augur/internal/peakrss"
)

// hostileGIF is a GIF of under 100 bytes whose logical screen claims
// 65535x65535 pixels (4.3 billion) while its one frame is 1x1: before
// imaging checked the screen, ML_PREDICT of it took 21 GB.
func hostileGIF() []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, 65535)
	b = binary.LittleEndian.AppendUint16(b, 65535)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255) // two colours
	b = append(b, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0)    // a 1x1 frame at 0,0
	return append(b, 2, 2, 0x44, 0x01, 0, 0x3B)       // its LZW data, trailer
}

// truncatedJPEG is a JPEG of a digit-sized image cut in half: libjpeg
// would pad the missing half with grey, PIL refuses it.
func truncatedJPEG(t *testing.T) []byte {
	src := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()[:buf.Len()/2]
}

// TestHostileImages: ML_PREDICT of a decompression bomb or a truncated
// image fails with a clear message naming the image, or gives NULL under
// on_error = 'null', without the memory the bomb claims.
func TestHostileImages(t *testing.T) {
	requireORT(t)
	db := openDB(t)
	model := sqlStr(fixture("digits.onnx"))
	exec1(t, db, "CREATE MODEL digits MODEL_TYPE image_classifier USING "+model)
	exec1(t, db, "CREATE MODEL lenient MODEL_TYPE image_classifier OPTIONS (on_error = 'null') USING "+model)
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.gif")
	cut := filepath.Join(dir, "cut.jpg")
	if err := os.WriteFile(bomb, hostileGIF(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, truncatedJPEG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	digitsPNG, _ := filepath.Glob(fixture("digits/*.png"))
	if len(digitsPNG) == 0 {
		t.Fatal("no committed digit images")
	}
	good := sqlStr(digitsPNG[0])
	exec1(t, db, fmt.Sprintf("CREATE TABLE imgs AS SELECT * FROM (VALUES (1, %s), (2, %s), (3, %s)) v(id, path)", good, sqlStr(bomb), sqlStr(cut)))

	peakrss.Within(t, 1<<30, func() {
		expectErr(t, db, "SELECT ML_PREDICT(digits, "+sqlStr(bomb)+")", bomb,
			"image of 65535x65535 = 4294836225 pixels is more than the limit of 178956970 pixels", "AUGUR_MAX_IMAGE_PIXELS", "on_error")
		expectErr(t, db, "SELECT ML_PREDICT(digits, image("+sqlStr(bomb)+"))", "more than the limit of 178956970 pixels")
		expectErr(t, db, "SELECT ML_PREDICT(digits, content) FROM read_blob("+sqlStr(bomb)+")", "embedded image", "decompression bomb")
		expectErr(t, db, "SELECT ML_PREDICT(digits, "+sqlStr(cut)+")", cut, "image file is truncated")
		got := all(t, db, "SELECT id, ML_PREDICT(lenient, path) IS NULL FROM imgs ORDER BY id")
		if fmt.Sprint(got) != "[[1 false] [2 true] [3 true]]" {
			t.Errorf("on_error = 'null' over a good image, the bomb and the truncated JPEG: %v", got)
		}
		if n := one(t, db, "SELECT count(*) FROM (SELECT ML_PREDICT(lenient, content) AS p FROM read_blob("+sqlStr(bomb)+")) WHERE p IS NULL"); n != int64(1) {
			t.Errorf("the embedded bomb under on_error = 'null': %v NULL rows", n)
		}
	})
}
