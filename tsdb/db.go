package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/headchunks"
	"github.com/argusmon/argus/tsdb/tombstones"
	"github.com/argusmon/argus/tsdb/wlog"
)

// Directory names inside the data directory, as Prometheus names them.
const (
	walDirName        = "wal"
	wblDirName        = "wbl"
	headChunksDirName = "chunks_head"
)

// defaultChunkRange is Prometheus's head chunk range, its default minimum
// block duration: two hours in milliseconds. Chunks do not cross multiples
// of it.
const defaultChunkRange = 2 * 60 * 60 * 1000

// Options configure a DB.
type Options struct {
	// OutOfOrderTimeWindow, in milliseconds, is how far behind the head's
	// newest sample an out-of-order sample is still accepted. 0 disables
	// out-of-order ingestion.
	OutOfOrderTimeWindow int64
	// Logger receives start-up and repair notices; nil discards them.
	Logger *slog.Logger
	// Registerer receives the self-metrics; nil registers none.
	Registerer prometheus.Registerer
	// HeadChunkFileSize is the size past which a new chunks_head file is
	// started; 0 means Prometheus's 128 MiB. Tests make it small.
	HeadChunkFileSize int
	// WALSegmentSize is the WAL segment size, a multiple of 32 KiB; 0 means
	// Prometheus's 128 MiB. Tests make it small.
	WALSegmentSize int

	// MinBlockDuration, in milliseconds, is the time range of a block cut
	// from the head and of the head's chunk ranges; 0 means 2h. It is also
	// the smallest of the compaction levels, each 3x the one before.
	MinBlockDuration int64
	// MaxBlockDuration caps the compaction levels (ms); 0 means 10% of
	// RetentionDuration, at most 31 days, as Prometheus does.
	MaxBlockDuration int64
	// RetentionDuration, in milliseconds, is how long blocks are kept behind
	// the newest block; 0 means 15 days, negative keeps blocks forever.
	RetentionDuration int64
	// MaxBytes caps the size of the blocks plus the WAL, WBL and head
	// chunks: the oldest blocks go first. 0 means no size limit.
	MaxBytes int64
	// DisableCompaction turns off the background loop that cuts blocks and
	// compacts them; Compact still does it on demand.
	DisableCompaction bool
	// FloatChunkEncoding is the encoding of the float chunks the head cuts
	// and compaction writes: chunkenc.EncXOR (the zero value means it) or
	// chunkenc.EncXOR2, Prometheus's storage.tsdb.chunk_encoding.floats.
	// Chunks in either encoding are read whatever it is.
	FloatChunkEncoding chunkenc.Encoding

	// WALReplayProgress, if set, follows the WAL replay in Open: the first
	// and last segment and the one being replayed.
	WALReplayProgress func(first, last, current int)
}

// DB is the database of one data directory.
type DB struct {
	dir     string
	logger  *slog.Logger
	metrics *metrics

	series   *stripeSeries
	postings *memPostings
	lastRef  atomic.Uint64
	numSer   atomic.Int64
	oooWin   atomic.Int64
	maxT     atomic.Int64 // newest in-order timestamp in the head
	// minValid is the oldest timestamp the head accepts: what is older has
	// been truncated away.
	minValid atomic.Int64
	// oooMinT is at most the head's oldest out-of-order sample
	// (math.MaxInt64 if none); oooNotes counts the commits that lowered it.
	// Both change under commitMu.
	oooMinT  atomic.Int64
	oooNotes uint64

	chunks *headchunks.Mapper
	copts  chunkOpts
	// headTombs are the head's deleted intervals (Delete), applied by its
	// queriers and hence left out of the blocks cut from it.
	headTombs *tombstones.MemTombstones
	// truncMu serialises head truncations and guards truncatedTo, the
	// time the head was last truncated to.
	truncMu     sync.Mutex
	truncatedTo int64

	// commitMu serialises commits so that the order of records in the WAL
	// is the order samples are applied in memory, which replay reproduces.
	commitMu sync.Mutex
	wal      *wlog.Writer
	wbl      *wlog.Writer
	closed   atomic.Bool

	appenderPool sync.Pool

	// Persistent blocks. blocksMu guards blocks (sorted by MinTime) and
	// headFloor, the time below which the head's data is in blocks, so that
	// a querier sees a new block and the head's loss of its range together.
	blocksMu  sync.RWMutex
	blocks    []*block.Block
	headFloor int64

	blockRange int64   // ms of a block cut from the head
	ranges     []int64 // compaction levels, ranges[0] == blockRange
	// retention (ms; 0 keeps blocks forever) and maxBytes (0: no limit)
	// change on a config reload while the compaction loop reads them.
	retention atomic.Int64
	maxBytes  atomic.Int64
	// compactMu serialises block cutting, compaction and retention.
	compactMu sync.Mutex
	// oooRetry is set while compactOOO owes a run: it failed since the
	// head was last cut. Guarded by compactMu.
	oooRetry bool
	// compactc wakes the compaction loop early when a commit made the head
	// compactable.
	compactc  chan struct{}
	stopLoop  context.CancelFunc
	loopDone  chan struct{}
	deletions sync.WaitGroup // blocks being closed and deleted

	// readers are the open head queriers, which a block cut waits for
	// before truncating the range they may read.
	readersMu sync.Mutex
	readers   map[*querier]struct{}
}

// Open opens the database in dir, creating it if needed. It replays the WAL
// then the WBL, repairing a corrupt or torn tail of either (logged, counted
// in argus_tsdb_wal_corruptions_total) rather than failing.
func Open(dir string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := checkFloatEncoding(opts.FloatChunkEncoding); err != nil {
		return nil, fmt.Errorf("open TSDB: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db := &DB{
		dir:      dir,
		logger:   logger,
		series:   newStripeSeries(),
		postings: newMemPostings(),
		readers:  map[*querier]struct{}{},

		headTombs: tombstones.NewMemTombstones(),
	}
	db.oooWin.Store(max(opts.OutOfOrderTimeWindow, 0))
	db.maxT.Store(math.MinInt64)
	db.minValid.Store(math.MinInt64)
	db.oooMinT.Store(math.MaxInt64)
	db.truncatedTo = math.MinInt64
	db.headFloor = math.MinInt64
	m, err := newMetrics(opts.Registerer, func() float64 { return float64(db.numSer.Load()) })
	if err != nil {
		return nil, fmt.Errorf("register tsdb metrics: %w", err)
	}
	db.metrics = m
	db.resolveBlockOptions(opts)

	// Blocks first: the head then accepts and replays only what is newer
	// than the newest of them, as Prometheus does.
	if err := db.loadBlocks(); err != nil {
		return nil, err
	}
	if n := len(db.blocks); n > 0 {
		db.headFloor = db.maxBlockTime()
		db.minValid.Store(db.headFloor)
	}

	// Full chunks on disk first, then the WAL attaches them to the series
	// it creates and replays only the samples after them, as Prometheus does.
	rp := newReplayer(db)
	db.chunks, err = headchunks.Open(filepath.Join(dir, headChunksDirName),
		headchunks.Options{MaxFileSize: opts.HeadChunkFileSize, Logger: logger}, rp.mmappedChunk)
	if err != nil {
		return nil, fmt.Errorf("open head chunks: %w", err)
	}
	db.copts = chunkOpts{mapper: db.chunks, chunkRange: db.blockRange, writeFailed: db.chunkWriteFailed}
	db.copts.enc.Store(uint32(opts.FloatChunkEncoding))
	rp.loadChunks()
	walOpts := wlog.Options{Compress: true, Logger: logger, SegmentSize: opts.WALSegmentSize}
	walProgressOpts := walOpts
	walProgressOpts.Progress = opts.WALReplayProgress
	db.wal, err = wlog.Open(filepath.Join(dir, walDirName), walProgressOpts, rp.walRecord)
	rp.wait()
	if err == nil {
		if err = rp.finishChunks(filepath.Join(dir, walDirName)); err != nil {
			db.wal.Close()
		}
	}
	if err != nil {
		db.chunks.Close()
		db.closeBlocks()
		return nil, fmt.Errorf("open WAL: %w", err)
	}
	db.wbl, err = wlog.Open(filepath.Join(dir, wblDirName), walOpts, rp.wblRecord)
	rp.wait()
	if err != nil {
		db.wal.Close()
		db.chunks.Close()
		db.closeBlocks()
		return nil, fmt.Errorf("open WBL: %w", err)
	}
	for _, w := range []*wlog.Writer{db.wal, db.wbl} {
		if w.Repaired() != nil {
			db.metrics.walCorruptions.Inc()
		}
	}
	rp.report(logger)
	db.oooMinT.Store(db.scanOOOMinT())
	db.startCompactionLoop(opts.DisableCompaction)
	return db, nil
}

// SetFloatChunkEncoding changes the encoding of the float chunks cut and
// compacted from now on (EncXOR, 0 meaning it, or EncXOR2), as a config
// reload does in Prometheus: open chunks finish in the encoding they began
// with, and chunks in either encoding stay readable.
func (db *DB) SetFloatChunkEncoding(enc chunkenc.Encoding) error {
	if err := checkFloatEncoding(enc); err != nil {
		return err
	}
	db.copts.enc.Store(uint32(enc))
	return nil
}

func checkFloatEncoding(enc chunkenc.Encoding) error {
	if enc != 0 && !enc.IsFloat() {
		return fmt.Errorf("float chunk encoding %s is none of %s and %s", enc, chunkenc.EncXOR, chunkenc.EncXOR2)
	}
	return nil
}

// SetOutOfOrderTimeWindow changes the out-of-order time window (ms; 0
// disables out-of-order ingestion) for appends from now on.
func (db *DB) SetOutOfOrderTimeWindow(ms int64) { db.oooWin.Store(max(ms, 0)) }

// SetRetention changes the time (ms; 0 keeps blocks forever) and size
// (bytes; 0 means no limit) retention, which the next compaction cycle
// applies. The compaction levels stay as they were planned at Open, as in
// Prometheus.
func (db *DB) SetRetention(ms, maxBytes int64) {
	db.retention.Store(max(ms, 0))
	db.maxBytes.Store(max(maxBytes, 0))
}

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// Appender returns an appender for one batch of samples.
func (db *DB) Appender(ctx context.Context) storage.Appender {
	a, _ := db.appenderPool.Get().(*appender)
	if a == nil {
		a = &appender{db: db}
	}
	a.ctx = ctx
	return a
}

// Querier returns a querier over the samples in [mint, maxt] of the blocks
// and the head. Series found in several are merged, a sample present in
// more than one only once. The blocks it reads stay on disk, even if
// compaction or retention replaces them, until it is closed.
func (db *DB) Querier(mint, maxt int64) (storage.Querier, error) {
	if db.closed.Load() {
		return nil, storage.ErrClosed
	}
	db.blocksMu.RLock()
	defer db.blocksMu.RUnlock()
	mq := &mergeQuerier{}
	for _, b := range db.blocks {
		if m := b.Meta(); m.MaxTime <= mint || m.MinTime > maxt {
			continue
		}
		q, err := b.Querier(mint, maxt)
		if err != nil {
			return nil, errors.Join(err, mq.Close())
		}
		mq.qs = append(mq.qs, q)
	}
	// Below the floor the head's leftovers are copies of block data, bar
	// out-of-order samples not compacted yet.
	if hmint := max(mint, db.headReadFloor(db.headFloor)); hmint <= maxt {
		hq := &querier{db: db, mint: hmint, maxt: maxt, tracked: true}
		db.readersMu.Lock()
		db.readers[hq] = struct{}{}
		db.readersMu.Unlock()
		mq.qs = append(mq.qs, hq)
	}
	return mq, nil
}

// Close stops compaction, syncs and closes the logs and closes the blocks,
// waiting for the queriers still reading them. Appends committed before
// Close survive; later commits fail with storage.ErrClosed.
func (db *DB) Close() error {
	if db.closed.Load() {
		return nil
	}
	// Stop compaction first: it takes commitMu to truncate the head.
	db.stopLoop()
	<-db.loopDone
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	db.commitMu.Lock()
	if db.closed.Swap(true) {
		db.commitMu.Unlock()
		return nil
	}
	err := errors.Join(db.wal.Close(), db.wbl.Close(), db.chunks.Close())
	db.commitMu.Unlock()
	db.deletions.Wait()
	return errors.Join(err, db.closeBlocks())
}

// chunkWriteFailed notes a full chunk kept in memory because writing it to
// chunks_head failed.
func (db *DB) chunkWriteFailed(err error) {
	db.metrics.chunkWriteFailures.Inc()
	db.logger.Error("Write full chunk to chunks_head; keeping it in memory", "err", err)
}

// newRef hands out series references in increasing order.
func (db *DB) newRef() storage.SeriesRef { return storage.SeriesRef(db.lastRef.Add(1)) }

// bumpMaxT raises the head's newest timestamp to t.
func (db *DB) bumpMaxT(t int64) {
	for {
		cur := db.maxT.Load()
		if t <= cur || db.maxT.CompareAndSwap(cur, t) {
			return
		}
	}
}
