package pytorch

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/augurdb/augur/source"
)

// The cache holds bound models, content-addressed: the name is the
// weights file's sha256, the architecture's version and the model type,
// so a changed file, a new augur architecture or another model type is a
// new entry, and the same file under another name or path is a hit.
//
// Each entry ends in a record that ONNX Runtime skips (an unknown field
// of ModelProto) holding the entry's details and its total size: an entry
// cut short (a full disk, a crash before the data reached the disk) is
// seen as such and bound again.

// trailerField is the unknown ModelProto field of the trailing record.
const trailerField = 1977

// trailerMagic ends every complete cache entry.
const trailerMagic = "AUGURPT1"

// footerLen is the fixed end of the record: JSON length (4 bytes), total
// size (8) and the magic (8).
const footerLen = 4 + 8 + len(trailerMagic)

// cacheInfo is what the trailing record says about an entry, shown in
// augur_models().details.
type cacheInfo struct {
	Weights      string `json:"-"` // per CREATE: the same content may sit under several names
	SHA256       string `json:"sha256"`
	Architecture string `json:"architecture"`
	ModelType    string `json:"-"`
	Parameters   int64  `json:"parameters"`
	Classes      int64  `json:"classes,omitempty"`
	Form         string `json:"form"` // torchfile's Kind: state_dict, module, checkpoint:...
	// Graph is the sha256 of the bound graph (the entry without this
	// record): the same weights saved in another form bind to the same
	// graph, and share ONNX Runtime's optimized copy of it.
	Graph string `json:"graph_sha256,omitempty"`
}

// cacheDir is $AUGUR_CACHE_DIR/pytorch, else ~/.cache/augur/pytorch.
func cacheDir() (string, error) {
	if d := os.Getenv("AUGUR_CACHE_DIR"); d != "" {
		return filepath.Join(d, "pytorch"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for bound PyTorch models (set AUGUR_CACHE_DIR): %w", err)
	}
	return filepath.Join(home, ".cache", "augur", "pytorch"), nil
}

func cachePath(dir, sha string, a *Arch) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s-%s.onnx", sha, a.Manifest.Version, a.Name))
}

// fileSHA256 hashes a file by streaming it.
func fileSHA256(path string) (string, error) { return source.FileSHA256(path) }

// readCached returns the details of a complete cache entry; ok is false
// when there is none, or it is incomplete.
func readCached(path string) (info cacheInfo, ok bool) {
	js, ok := readRecord(path, trailerMagic)
	return info, ok && json.Unmarshal(js, &info) == nil
}

// readRecord returns the JSON of the record that ends a complete entry
// whose record ends in magic; ok is false when there is none, or the
// entry is incomplete.
func readRecord(path, magic string) (js []byte, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < int64(footerLen) {
		return nil, false
	}
	foot := make([]byte, footerLen)
	if _, err := f.ReadAt(foot, st.Size()-int64(footerLen)); err != nil {
		return nil, false
	}
	jsonLen := int64(binary.LittleEndian.Uint32(foot))
	total := int64(binary.LittleEndian.Uint64(foot[4:]))
	if string(foot[12:]) != magic || total != st.Size() || jsonLen > 1<<20 || jsonLen+int64(footerLen) > total {
		return nil, false
	}
	js = make([]byte, jsonLen)
	if _, err := f.ReadAt(js, total-int64(footerLen)-jsonLen); err != nil {
		return nil, false
	}
	return js, true
}

// trailer is the record that ends an entry of size bytes before it.
func trailer(size int64, info cacheInfo) ([]byte, error) {
	js, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return record(size, js, trailerMagic), nil
}

// record lays out the record that ends an entry of size bytes before it:
// an unknown ModelProto field holding js, its length, the entry's total
// size and magic (both magics have footerLen's length).
func record(size int64, js []byte, magic string) []byte {
	payloadLen := len(js) + footerLen
	hdr := protowire.AppendVarint(protowire.AppendTag(nil, trailerField, protowire.BytesType), uint64(payloadLen))
	total := size + int64(len(hdr)) + int64(payloadLen)
	out := append(hdr, js...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(js)))
	out = binary.LittleEndian.AppendUint64(out, uint64(total))
	return append(out, magic...)
}

// writeCached writes an entry atomically: a temporary file in the same
// folder, renamed over the entry's name once complete. Concurrent
// writers of one entry each rename a complete file of the same content.
func writeCached(path string, b *bound, info *cacheInfo) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".bind-*.tmp")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	h := sha256.New()
	for _, p := range b.pieces {
		h.Write(p)
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("cache %s: %w", f.Name(), err)
		}
	}
	info.Graph = hex.EncodeToString(h.Sum(nil))
	tr, err := trailer(b.size, *info)
	if err != nil {
		return err
	}
	if _, err := w.Write(tr); err != nil {
		return fmt.Errorf("cache %s: %w", f.Name(), err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cache %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cache %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return errors.Join(fmt.Errorf("cache: %w", err), os.Remove(f.Name()))
	}
	return nil
}
