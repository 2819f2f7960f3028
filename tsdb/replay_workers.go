package tsdb

import (
	"runtime"
	"sync"
)

// replayBatch is how many samples go to a replay worker at once.
const replayBatch = 4096

// What a replay item asks of its series' worker.
const (
	replayWALSample uint8 = iota
	replayWBLSample
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
// series' worker touches its state; what the reader set when it created
// the series (chunks on disk) is visible to it through the channel.
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
	samples, ooo int
	_            [64]byte // keep workers' counters off one cache line
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
	// Already in a chunk on disk (out-of-order ones come from the WBL). The
	// reader drops most of these; it cannot for references beyond its index.
	if it.kind == replayWALSample && s.nextHas && it.t <= s.nextT {
		return
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
	}
	return total
}
