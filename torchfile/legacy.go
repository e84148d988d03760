package torchfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/pickle"
)

// The legacy format (torch.save before 1.6, or with
// _use_new_zipfile_serialization=False) is a row of pickles: a magic
// number, the protocol version, sys_info, the data, the sorted storage
// keys; then each storage as an int64 element count and its raw bytes.
const legacyProtocol = 1001

var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

func loadLegacy(r io.ReaderAt, size int64) (*StateDict, error) {
	// The whole file is read (its size is bounded by limits.ModelBytes):
	// the pickles must be in memory, and contiguous tensors then share
	// the buffer rather than being copied.
	buf, err := sliceAt(r, 0, size)
	if err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	if err := legacyHeader(buf); err != nil {
		return nil, err
	}
	pos, err := skipHeader(buf)
	if err != nil {
		return nil, err
	}
	rd := newReader(true)
	root, n, err := pickle.UnpickleNext(buf[pos:], rd.options())
	if err != nil {
		return nil, fmt.Errorf("the data pickle: %w", err)
	}
	pos += n
	if err := readLegacyStorages(rd, buf, pos); err != nil {
		return nil, err
	}
	load := func(st *storage) error {
		if !st.loaded {
			return fmt.Errorf("storage %s has no data in the file", untrusted.Quote(st.key))
		}
		return nil
	}
	return finish(root, "legacy", load)
}

// legacyHeader checks the magic number, telling other files apart.
func legacyHeader(buf []byte) error {
	if len(buf) > 262 && string(buf[257:262]) == "ustar" {
		return errors.New("a tar archive: torch's tar format (before torch 0.4) is not supported; re-save the file with a newer torch")
	}
	magic, _, err := pickle.UnpickleNext(buf, nil)
	if m, ok := magic.(*big.Int); err != nil || !ok || m.Cmp(legacyMagic) != 0 {
		return fmt.Errorf("not a torch file (neither a zip archive nor a legacy torch file with its magic number); it starts %s",
			untrusted.Describe(buf))
	}
	return nil
}

// skipHeader reads past the magic number, the protocol version and
// sys_info, checking the two that matter.
func skipHeader(buf []byte) (int, error) {
	pos := 0
	var vals [3]any
	for i := range vals {
		v, n, err := pickle.UnpickleNext(buf[pos:], nil)
		if err != nil {
			return 0, fmt.Errorf("legacy header pickle %d: %w", i+1, err)
		}
		vals[i], pos = v, pos+n
	}
	if v, ok := vals[1].(int64); !ok || v != legacyProtocol {
		return 0, fmt.Errorf("legacy protocol version %v, not %d", vals[1], legacyProtocol)
	}
	info, ok := vals[2].(*pickle.Dict)
	if !ok {
		return 0, fmt.Errorf("legacy sys_info is %s, not a dict", describe(vals[2]))
	}
	if le, _ := info.Get("little_endian"); le != true {
		return 0, errors.New("the file was written on a big-endian machine; augur reads little-endian files only")
	}
	return pos, nil
}

// readLegacyStorages reads the storage key list and, in its order, each
// storage: an int64 element count and the bytes, which must be in the
// file (checked before the slice is taken; nothing is copied).
func readLegacyStorages(rd *reader, buf []byte, pos int) error {
	v, n, err := pickle.UnpickleNext(buf[pos:], nil)
	if err != nil {
		return fmt.Errorf("the storage key list: %w", err)
	}
	keys, ok := v.(*pickle.List)
	if !ok {
		return fmt.Errorf("the storage key list is %s", describe(v))
	}
	pos += n
	for _, k := range keys.Items {
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("a storage key is %s", describe(k))
		}
		st := rd.storages[key]
		if st == nil {
			return fmt.Errorf("storage %s is not named by the data pickle", untrusted.Quote(key))
		}
		if st.loaded {
			return fmt.Errorf("storage %s is listed twice", untrusted.Quote(key))
		}
		if len(buf)-pos < 8 {
			return fmt.Errorf("storage %s: truncated: the file ends before its element count", untrusted.Quote(key))
		}
		count := int64(binary.LittleEndian.Uint64(buf[pos:]))
		pos += 8
		if count != st.numel {
			return fmt.Errorf("storage %s: the file has %d elements where its pickle claims %d", untrusted.Quote(key), count, st.numel)
		}
		es := elemSize[st.dtype]
		if st.numel > int64(len(buf)-pos)/es {
			return fmt.Errorf("storage %s: truncated: %d elements of %s need %d bytes, %d are left",
				untrusted.Quote(key), st.numel, st.dtype, st.numel*es, len(buf)-pos)
		}
		nb := int(st.numel * es)
		st.data, st.loaded = buf[pos:pos+nb:pos+nb], true
		pos += nb
	}
	return nil
}
