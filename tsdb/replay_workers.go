package tsdb

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/argusmon/argus/tsdb/chunkenc"
)

// replayBatch is how many samples go to a replay worker at once.
const replayBatch = 4096

// What a replay item asks of its series' worker.
const (
	replayWALSample uint8 = iota
	replayWBLSample
	// replayAttach restores the newest sample of a series given its chunks
	// on disk.
	replayAttach
)

type replayItem struct {
	s    *memSeries
	kind uint8
	t    int64
	v    float64
}

// replayWorkers apply replayed samples on every core, as Prometheus does:
// the reader decodes and resolves series, and each series belongs to one
// worker (by reference), so its samples keep their log order. Only a
// series' worker touches its state; what the reader set before queueing
// (chunks on disk) is visible to it through the channel.
type replayWorkers struct {
	opts    *chunkOpts
	db      *DB
	pending [][]replayItem
	in      []chan []replayItem
	free    chan []replayItem
	wg      sync.WaitGroup
	// Per-worker counts, summed by stop.
	counts []replayCounts
}

type replayCounts struct {
	samples, ooo, badChunks int
	buf                     []byte
	_                       [64]byte // keep workers' counters off one cache line
}

func newReplayWorkers(db *DB) *replayWorkers {
	n := max(runtime.GOMAXPROCS(0), 1)
	w := &replayWorkers{
		db:      db,
		opts:    &db.copts,
		pending: make([][]replayItem, n),
		in:      make([]chan []replayItem, n),
		free:    make(chan []replayItem, 4*n),
		counts:  make([]replayCounts, n),
	}
	for i := range w.in {
		w.in[i] = make(chan []replayItem, 2)
		w.wg.Add(1)
		go w.run(i)
	}
	return w
}

func (w *replayWorkers) run(i int) {
	defer w.wg.Done()
	c := &w.counts[i]
	for batch := range w.in[i] {
		for _, it := range batch {
			w.apply(it, c)
		}
		clear(batch)
		select {
		case w.free <- batch[:0]:
		default:
		}
	}
}

// apply adds one logged sample to its series. The log holds only samples
// that a commit accepted, so one older than the series' newest is an
// accepted out-of-order sample, whatever the window is now.
func (w *replayWorkers) apply(it replayItem, c *replayCounts) {
	s := it.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch it.kind {
	case replayAttach:
		w.attach(s, c)
		return
	case replayWALSample:
		// Already in a chunk on disk (out-of-order ones come from the WBL).
		if s.nextHas && it.t <= s.nextT {
			return
		}
	}
	switch {
	case !s.hasInOrder() || it.t > s.lastT:
		s.appendInOrder(it.t, it.v, w.opts)
		w.db.bumpMaxT(it.t)
		c.samples++
	case it.t == s.lastT:
		// A repeat, or the WBL copy of a sample the WAL already gave.
	default:
		if inserted, _ := s.insertOOO(it.t, it.v); inserted {
			c.ooo++
			c.samples++
		}
	}
}

// attach restores the newest sample of a series from the last of its
// chunks on disk, dropping the chunks if that one cannot be read. Callers
// hold s.mu.
func (w *replayWorkers) attach(s *memSeries, c *replayCounts) {
	last := s.chunks[len(s.chunks)-1]
	var err error
	var enc uint8
	if enc, c.buf, err = w.db.chunks.Chunk(last.ref, c.buf[:0]); err == nil {
		var it chunkenc.XORIterator
		it.Reset(chunkenc.Encoding(enc), c.buf)
		for it.Next() {
			s.lastT, s.lastV = it.At()
		}
		err = it.Err()
		if err == nil && s.lastT != last.maxT {
			err = fmt.Errorf("last sample at %d, chunk says %d", s.lastT, last.maxT)
		}
	}
	if err != nil {
		w.db.logger.Warn("Drop the head chunks of a series whose last chunk cannot be read", "series", s.lset.String(), "err", err)
		c.badChunks += len(s.chunks)
		s.chunks, s.lastT, s.lastV = nil, math.MinInt64, 0
		return
	}
	// Until the first commit, the commit bookkeeping is free: replay keeps
	// the newest timestamp on disk there (the first commit resets it, its
	// epoch being newer than the series').
	s.nextT, s.nextHas = last.maxT, true
}

// add queues an item for the worker owning its series.
func (w *replayWorkers) add(it replayItem) {
	i := int(uint64(it.s.ref) % uint64(len(w.in)))
	if w.pending[i] == nil {
		select {
		case b := <-w.free:
			w.pending[i] = b
		default:
			w.pending[i] = make([]replayItem, 0, replayBatch)
		}
	}
	w.pending[i] = append(w.pending[i], it)
	if len(w.pending[i]) == replayBatch {
		w.in[i] <- w.pending[i]
		w.pending[i] = nil
	}
}

// stop applies what is queued, ends the workers and returns their counts.
func (w *replayWorkers) stop() (total replayCounts) {
	for i, b := range w.pending {
		if len(b) > 0 {
			w.in[i] <- b
		}
		close(w.in[i])
	}
	w.wg.Wait()
	for _, c := range w.counts {
		total.samples += c.samples
		total.ooo += c.ooo
		total.badChunks += c.badChunks
	}
	return total
}
