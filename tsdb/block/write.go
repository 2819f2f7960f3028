package block

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/chunks"
	"github.com/argusmon/argus/tsdb/index"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// Chunk is one encoded chunk of a series, with the times of its first and
// last sample.
type Chunk struct {
	MinTime, MaxTime int64
	Encoding         chunkenc.Encoding
	// Data is the encoded chunk as chunkenc produces it, header included.
	Data []byte
}

// SeriesSource yields the series of a new block in labels.Compare order,
// each with its chunks in time order. The head implements it over its
// series to cut a block; a compactor implements it over merged blocks.
type SeriesSource interface {
	Next() bool
	// At returns the current series. The chunks' Data only needs to stay
	// valid until the next call to Next.
	At() (labels.Labels, []Chunk)
	Err() error
}

// WriteOptions tune Write. The zero value writes a level-1 block.
type WriteOptions struct {
	Logger *slog.Logger
	// Compaction is recorded in meta.json; Level 0 means 1, and the new
	// block's own ULID is the source when Sources is empty.
	Compaction Compaction
	// SegmentSize caps chunk segment files; 0 means 512 MiB.
	SegmentSize int64
	// Now stamps the ULID; nil means time.Now.
	Now func() time.Time
}

type seriesEntry struct {
	lset   labels.Labels
	chunks []index.ChunkMeta
}

// Write writes the series of src in [mint, maxt) into a new block under dir
// and returns its ULID. The block is built in dir/<ulid>.tmp and renamed to
// dir/<ulid> once complete, so a crash never leaves a partial block under a
// block's name. Every chunk must lie in [mint, maxt).
func Write(ctx context.Context, dir string, mint, maxt int64, src SeriesSource, opts *WriteOptions) (string, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if mint >= maxt {
		return "", fmt.Errorf("write block: empty time range [%d, %d)", mint, maxt)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	start := time.Now()
	id, err := NewULID(now())
	if err != nil {
		return "", err
	}
	final := filepath.Join(dir, id)
	tmp := final + ".tmp"
	if err := os.MkdirAll(tmp, 0o777); err != nil {
		return "", fmt.Errorf("create block directory: %w", err)
	}
	meta, err := writeContents(ctx, tmp, mint, maxt, src, opts)
	if err != nil {
		return "", errors.Join(err, os.RemoveAll(tmp))
	}
	meta.ULID = id
	meta.Compaction = opts.Compaction
	meta.Compaction.Level = max(meta.Compaction.Level, 1)
	if len(meta.Compaction.Sources) == 0 {
		meta.Compaction.Sources = []string{id}
	}
	if err := publish(tmp, final, meta); err != nil {
		return "", errors.Join(err, os.RemoveAll(tmp))
	}
	logger.Info("wrote block", "ulid", id, "mint", mint, "maxt", maxt,
		"series", meta.Stats.NumSeries, "samples", meta.Stats.NumSamples, "duration", time.Since(start))
	return id, nil
}

// publish writes the small files and renames the directory into place.
func publish(tmp, final string, meta *Meta) error {
	if _, err := tombstones.WriteFile(tmp, tombstones.NewMemTombstones()); err != nil {
		return err
	}
	if err := WriteMeta(tmp, meta); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename block into place: %w", err)
	}
	return syncDir(filepath.Dir(final))
}

// writeContents writes the chunks while reading src, then the index, whose
// symbol table must come before any series and so waits for the last one.
func writeContents(ctx context.Context, dir string, mint, maxt int64, src SeriesSource, opts *WriteOptions) (*Meta, error) {
	cw, err := chunks.NewWriter(filepath.Join(dir, "chunks"), opts.SegmentSize)
	if err != nil {
		return nil, err
	}
	meta := &Meta{MinTime: mint, MaxTime: maxt}
	var series []seriesEntry
	symbols := map[string]struct{}{}
	for src.Next() {
		if len(series)%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, errors.Join(err, cw.Close())
			}
		}
		lset, chks := src.At()
		if len(series) > 0 && labels.Compare(lset, series[len(series)-1].lset) <= 0 {
			return nil, errors.Join(fmt.Errorf("series %s is not after %s: source out of label order", lset, series[len(series)-1].lset), cw.Close())
		}
		e := seriesEntry{lset: lset.Copy(), chunks: make([]index.ChunkMeta, 0, len(chks))}
		for _, c := range chks {
			if c.MinTime < mint || c.MaxTime >= maxt || c.MaxTime < c.MinTime {
				return nil, errors.Join(fmt.Errorf("series %s: chunk [%d, %d] outside the block's range [%d, %d)", lset, c.MinTime, c.MaxTime, mint, maxt), cw.Close())
			}
			ref, err := cw.WriteChunk(uint8(c.Encoding), c.Data)
			if err != nil {
				return nil, errors.Join(fmt.Errorf("series %s: %w", lset, err), cw.Close())
			}
			e.chunks = append(e.chunks, index.ChunkMeta{Ref: uint64(ref), MinTime: c.MinTime, MaxTime: c.MaxTime})
			if c.Encoding.IsFloat() && len(c.Data) >= 2 {
				n := uint64(binary.BigEndian.Uint16(c.Data))
				meta.Stats.NumSamples += n
				meta.Stats.NumFloatSamples += n
			}
		}
		meta.Stats.NumChunks += uint64(len(e.chunks))
		e.lset.Range(func(l labels.Label) {
			symbols[l.Name] = struct{}{}
			symbols[l.Value] = struct{}{}
		})
		series = append(series, e)
	}
	if err := src.Err(); err != nil {
		return nil, errors.Join(fmt.Errorf("read series: %w", err), cw.Close())
	}
	if err := cw.Close(); err != nil {
		return nil, err
	}
	meta.Stats.NumSeries = uint64(len(series))
	return meta, writeIndex(ctx, filepath.Join(dir, "index"), symbols, series)
}

func writeIndex(ctx context.Context, name string, symbols map[string]struct{}, series []seriesEntry) error {
	iw, err := index.NewWriter(ctx, name)
	if err != nil {
		return err
	}
	sorted := make([]string, 0, len(symbols))
	for s := range symbols {
		sorted = append(sorted, s)
	}
	slices.Sort(sorted)
	for _, s := range sorted {
		if err := iw.AddSymbol(s); err != nil {
			return errors.Join(err, iw.Close())
		}
	}
	for _, s := range series {
		if _, err := iw.AddSeries(s.lset, s.chunks...); err != nil {
			return errors.Join(err, iw.Close())
		}
	}
	return iw.Close()
}
