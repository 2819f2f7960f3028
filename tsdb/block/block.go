package block

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunks"
	"github.com/argusmon/argus/tsdb/index"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// Block is an opened block directory. It is safe for concurrent use.
type Block struct {
	dir string
	// metaMu guards meta, whose tombstone count Delete updates.
	metaMu     sync.RWMutex
	meta       Meta
	logger     *slog.Logger
	index      *index.Reader
	chunks     *chunks.Reader
	tombstones *tombstones.MemTombstones

	// delMu serialises deletions, each of which rewrites the tombstones
	// file from the in-memory set.
	delMu sync.Mutex

	mu      sync.Mutex
	closing bool
	pending sync.WaitGroup // open queriers
}

// Open opens the block in dir. logger may be nil.
func Open(dir string, logger *slog.Logger) (*Block, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	cr, err := chunks.OpenDir(filepath.Join(dir, "chunks"))
	if err != nil {
		return nil, fmt.Errorf("open block %s: %w", dir, err)
	}
	ir, err := index.OpenFile(filepath.Join(dir, "index"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open block %s: %w", dir, err), cr.Close())
	}
	ts, _, err := tombstones.ReadFile(dir)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open block %s: %w", dir, err), cr.Close(), ir.Close())
	}
	return &Block{dir: dir, meta: *meta, logger: logger, index: ir, chunks: cr, tombstones: ts}, nil
}

// Dir returns the block's directory.
func (b *Block) Dir() string { return b.dir }

// Meta returns the block's metadata.
func (b *Block) Meta() Meta {
	b.metaMu.RLock()
	defer b.metaMu.RUnlock()
	return b.meta
}

// Size returns the bytes of the index and chunk segments.
func (b *Block) Size() int64 { return b.index.Size() + b.chunks.Size() }

// Querier returns a querier over the block's samples in [mint, maxt]. The
// block stays open until the querier is closed.
func (b *Block) Querier(mint, maxt int64) (storage.Querier, error) {
	if err := b.acquire(); err != nil {
		return nil, err
	}
	return &querier{b: b, mint: mint, maxt: maxt}, nil
}

func (b *Block) acquire() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return fmt.Errorf("block %s: %w", b.meta.ULID, storage.ErrClosed)
	}
	b.pending.Add(1)
	return nil
}

func (b *Block) release() { b.pending.Done() }

// Close refuses new queriers, waits for the open ones to be closed and
// releases the files.
func (b *Block) Close() error {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		return nil
	}
	b.closing = true
	b.mu.Unlock()
	b.pending.Wait()
	return errors.Join(b.chunks.Close(), b.index.Close())
}
