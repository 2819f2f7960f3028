package tombstones

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/argusmon/argus/storage"
)

const (
	// Filename is the tombstones file's name inside a block directory.
	Filename = "tombstones"
	// MagicTombstone opens the file.
	MagicTombstone = 0x0130BA30
	formatV1       = 1
	headerSize     = 5
	crcSize        = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns the file's bytes for r.
func Encode(r Reader) ([]byte, error) {
	b := binary.BigEndian.AppendUint32(nil, MagicTombstone)
	b = append(b, formatV1)
	err := r.Iter(func(ref storage.SeriesRef, ivs Intervals) error {
		for _, in := range ivs {
			b = binary.AppendUvarint(b, uint64(ref))
			b = binary.AppendVarint(b, in.Mint)
			b = binary.AppendVarint(b, in.Maxt)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// As upstream, the checksum leaves out the magic and the version.
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[headerSize:], castagnoli)), nil
}

// Decode parses a tombstones file.
func Decode(b []byte) (*MemTombstones, error) {
	if len(b) < headerSize+crcSize {
		return nil, fmt.Errorf("tombstones: %d bytes, shorter than header and checksum", len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != MagicTombstone {
		return nil, fmt.Errorf("tombstones: invalid magic number %#x", m)
	}
	if v := b[4]; v != formatV1 {
		return nil, fmt.Errorf("tombstones: unknown format version %d", v)
	}
	body := b[headerSize : len(b)-crcSize]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(b[len(b)-crcSize:]); got != want {
		return nil, fmt.Errorf("tombstones: checksum %#x, want %#x", got, want)
	}
	t := NewMemTombstones()
	for off := 0; off < len(body); {
		ref, n1 := binary.Uvarint(body[off:])
		if n1 <= 0 {
			return nil, fmt.Errorf("tombstones: bad series ref at byte %d", headerSize+off)
		}
		mint, n2 := binary.Varint(body[off+n1:])
		if n2 <= 0 {
			return nil, fmt.Errorf("tombstones: bad mint at byte %d", headerSize+off+n1)
		}
		maxt, n3 := binary.Varint(body[off+n1+n2:])
		if n3 <= 0 {
			return nil, fmt.Errorf("tombstones: bad maxt at byte %d", headerSize+off+n1+n2)
		}
		t.AddInterval(storage.SeriesRef(ref), Interval{mint, maxt})
		off += n1 + n2 + n3
	}
	return t, nil
}

// ReadFile reads dir's tombstones file and returns it with the file's size.
// A missing file is an empty set, as upstream treats it.
func ReadFile(dir string) (*MemTombstones, int64, error) {
	name := filepath.Join(dir, Filename)
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return NewMemTombstones(), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read tombstones: %w", err)
	}
	t, err := Decode(b)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return t, int64(len(b)), nil
}

// WriteFile writes r to dir's tombstones file atomically (a temporary file
// renamed over it) and returns the file's size.
func WriteFile(dir string, r Reader) (int64, error) {
	b, err := Encode(r)
	if err != nil {
		return 0, fmt.Errorf("encode tombstones: %w", err)
	}
	name := filepath.Join(dir, Filename)
	tmp := name + ".tmp"
	if err := writeSynced(tmp, b); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("rename tombstones into place: %w", err)
	}
	return int64(len(b)), nil
}

func writeSynced(name string, b []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create tombstones: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
