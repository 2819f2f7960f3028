package block

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MetaFilename is the name of a block's metadata file.
const MetaFilename = "meta.json"

// metaVersion1 is the only meta.json version.
const metaVersion1 = 1

// Meta is a block's meta.json, with upstream's field names. MaxTime is
// exclusive: the block holds samples in [MinTime, MaxTime).
type Meta struct {
	ULID       string     `json:"ulid"`
	MinTime    int64      `json:"minTime"`
	MaxTime    int64      `json:"maxTime"`
	Stats      Stats      `json:"stats,omitempty"`
	Compaction Compaction `json:"compaction"`
	Version    int        `json:"version"`
}

// Stats counts a block's contents.
type Stats struct {
	NumSamples          uint64 `json:"numSamples,omitempty"`
	NumFloatSamples     uint64 `json:"numFloatSamples,omitempty"`
	NumHistogramSamples uint64 `json:"numHistogramSamples,omitempty"`
	NumSeries           uint64 `json:"numSeries,omitempty"`
	NumChunks           uint64 `json:"numChunks,omitempty"`
	NumTombstones       uint64 `json:"numTombstones,omitempty"`
}

// Compaction records how a block was made.
type Compaction struct {
	// Level is 1 for a block cut from the head, one more than the highest
	// parent's for a compacted block.
	Level int `json:"level"`
	// Sources are the ULIDs of the level-1 blocks whose data this holds.
	Sources   []string `json:"sources,omitempty"`
	Deletable bool     `json:"deletable,omitempty"`
	// Parents are the blocks directly compacted into this one.
	Parents []Desc   `json:"parents,omitempty"`
	Failed  bool     `json:"failed,omitempty"`
	Hints   []string `json:"hints,omitempty"`
}

// Desc names a block and its time range.
type Desc struct {
	ULID    string `json:"ulid"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
}

// ReadMeta reads dir's meta.json.
func ReadMeta(dir string) (*Meta, error) {
	name := filepath.Join(dir, MetaFilename)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read block meta: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if m.Version != metaVersion1 {
		return nil, fmt.Errorf("%s: unsupported version %d", name, m.Version)
	}
	if !validULID(m.ULID) {
		return nil, fmt.Errorf("%s: invalid ulid %q", name, m.ULID)
	}
	return &m, nil
}

// WriteMeta writes m to dir's meta.json through a synced temporary file
// renamed into place, so a crash leaves the old file or the new one.
func WriteMeta(dir string, m *Meta) error {
	m.Version = metaVersion1
	b, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return fmt.Errorf("encode block meta: %w", err)
	}
	name := filepath.Join(dir, MetaFilename)
	tmp := name + ".tmp"
	if err := writeFileSynced(tmp, b); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename block meta into place: %w", err)
	}
	return nil
}

func writeFileSynced(name string, b []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(name), err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory to sync: %w", err)
	}
	err = d.Sync()
	if errors.Is(err, os.ErrInvalid) { // not supported by every file system
		err = nil
	}
	err = errors.Join(err, d.Close())
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
